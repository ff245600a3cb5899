//===- TrainDialect.h - The train dialect -----------------------*- C++ -*-===//
#pragma once

#include "mlir/IR/Dialect.h"

#include "align/Dialect/Train/TrainOpsDialect.h.inc"
