//===- TrainOps.h - Ops of the train dialect --------------------*- C++ -*-===//
#pragma once

#include "align/Dialect/Train/TrainAttributes.h"
#include "align/Dialect/Train/TrainDialect.h"
#include "align/Dialect/Train/TrainTypes.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/OpDefinition.h"
#include "mlir/IR/SymbolTable.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

#define GET_OP_CLASSES
#include "align/Dialect/Train/TrainOps.h.inc"
