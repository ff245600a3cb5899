//===- TrainAttributes.h - Enums and attributes of the train dialect -*- C++ -*-===//
#pragma once

#include "mlir/IR/Attributes.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/DialectImplementation.h"

#include "align/Dialect/Train/TrainEnums.h.inc"

#define GET_ATTRDEF_CLASSES
#include "align/Dialect/Train/TrainAttributes.h.inc"
