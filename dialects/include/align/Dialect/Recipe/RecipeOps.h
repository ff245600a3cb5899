//===- RecipeOps.h - Ops of the recipe dialect ------------------*- C++ -*-===//
#pragma once

#include "align/Dialect/Recipe/RecipeAttributes.h"
#include "align/Dialect/Recipe/RecipeDialect.h"
#include "align/Dialect/Recipe/RecipeTypes.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/OpDefinition.h"
#include "mlir/IR/SymbolTable.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

#define GET_OP_CLASSES
#include "align/Dialect/Recipe/RecipeOps.h.inc"
