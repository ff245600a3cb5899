//===- TrainTypes.h - Types of the train dialect ----------------*- C++ -*-===//
#pragma once

#include "mlir/IR/Types.h"

#define GET_TYPEDEF_CLASSES
#include "align/Dialect/Train/TrainOpsTypes.h.inc"
