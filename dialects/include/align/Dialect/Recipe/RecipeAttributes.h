//===- RecipeAttributes.h - Attributes of the recipe dialect ----*- C++ -*-===//
#pragma once

#include "mlir/IR/Attributes.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/DialectImplementation.h"

namespace align::recipe {

/// Parses a float literal (optionally negative) as a double.
mlir::FailureOr<llvm::APFloat> parseDouble(mlir::AsmParser &parser);
/// Prints the shortest decimal form that parses back to the same double, always with a '.' or exponent
/// so the parser reads it as a float.
void printDouble(mlir::AsmPrinter &printer, double value);

} // namespace align::recipe

#define GET_ATTRDEF_CLASSES
#include "align/Dialect/Recipe/RecipeAttributes.h.inc"
