//===- TrainDialect.cpp - The train dialect, its types and enums ----------===//

#include "align/Dialect/Train/TrainOps.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/DialectImplementation.h"
#include "llvm/ADT/TypeSwitch.h"

using namespace mlir;
using namespace align::train;

#include "align/Dialect/Train/TrainOpsDialect.cpp.inc"

#include "align/Dialect/Train/TrainEnums.cpp.inc"

#define GET_TYPEDEF_CLASSES
#include "align/Dialect/Train/TrainOpsTypes.cpp.inc"

#define GET_ATTRDEF_CLASSES
#include "align/Dialect/Train/TrainAttributes.cpp.inc"

void TrainDialect::initialize() {
  addOperations<
#define GET_OP_LIST
#include "align/Dialect/Train/TrainOps.cpp.inc"
      >();
  registerTypes();
  registerAttributes();
}

void TrainDialect::registerTypes() {
  addTypes<
#define GET_TYPEDEF_LIST
#include "align/Dialect/Train/TrainOpsTypes.cpp.inc"
      >();
}

void TrainDialect::registerAttributes() {
  addAttributes<
#define GET_ATTRDEF_LIST
#include "align/Dialect/Train/TrainAttributes.cpp.inc"
      >();
}
