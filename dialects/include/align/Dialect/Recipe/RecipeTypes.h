//===- RecipeTypes.h - Types of the recipe dialect --------------*- C++ -*-===//
#pragma once

#include "mlir/IR/Types.h"

#define GET_TYPEDEF_CLASSES
#include "align/Dialect/Recipe/RecipeOpsTypes.h.inc"
