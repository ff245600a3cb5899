//===- RecipeDialect.h - The recipe dialect ---------------------*- C++ -*-===//
#pragma once

#include "mlir/IR/Dialect.h"

#include "align/Dialect/Recipe/RecipeOpsDialect.h.inc"
