//===- RecipeDialect.cpp - The recipe dialect, its types and attributes ---===//
//
// Registration of the dialect's ops, types and attributes, and the number syntax of the quantity
// attributes (`#recipe.percent<10.0>`), which must print every double so that it parses back exactly.
//
//===----------------------------------------------------------------------===//

#include "align/Dialect/Recipe/RecipeOps.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/DialectImplementation.h"
#include "llvm/ADT/TypeSwitch.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

using namespace mlir;
using namespace align::recipe;

#include "align/Dialect/Recipe/RecipeOpsDialect.cpp.inc"

void RecipeDialect::initialize() {
  addOperations<
#define GET_OP_LIST
#include "align/Dialect/Recipe/RecipeOps.cpp.inc"
      >();
  registerTypes();
  registerAttributes();
}

//===----------------------------------------------------------------------===//
// Types
//===----------------------------------------------------------------------===//

#define GET_TYPEDEF_CLASSES
#include "align/Dialect/Recipe/RecipeOpsTypes.cpp.inc"

void RecipeDialect::registerTypes() {
  addTypes<
#define GET_TYPEDEF_LIST
#include "align/Dialect/Recipe/RecipeOpsTypes.cpp.inc"
      >();
}

//===----------------------------------------------------------------------===//
// Attributes
//===----------------------------------------------------------------------===//

FailureOr<llvm::APFloat> align::recipe::parseDouble(AsmParser &parser) {
  double value = 0;
  if (parser.parseFloat(value))
    return failure();
  return llvm::APFloat(value);
}

void align::recipe::printDouble(AsmPrinter &printer, double value) {
  if (!std::isfinite(value)) {
    // MLIR reads a hexadecimal integer as the bit pattern of a float; verifiers reject these anyway.
    uint64_t bits;
    std::memcpy(&bits, &value, sizeof bits);
    char buffer[24];
    std::snprintf(buffer, sizeof buffer, "0x%016llX", static_cast<unsigned long long>(bits));
    printer << buffer;
    return;
  }
  // The shortest form that reads back to the same value (0.1, not 0.10000000000000001): plain decimals
  // for everyday magnitudes (600.0, 0.05), an exponent otherwise (1.0e-05).
  char buffer[64];
  double magnitude = std::fabs(value);
  bool plain = magnitude == 0 || (magnitude >= 1e-4 && magnitude < 1e15);
  for (int digits = 1; digits <= (plain ? 20 : 17); ++digits) {
    std::snprintf(buffer, sizeof buffer, plain ? "%.*f" : "%.*e", plain ? digits : digits - 1, value);
    if (std::strtod(buffer, nullptr) == value)
      break;
  }
  // MLIR's float literals need digits after a '.', before any exponent: 1e-05 → 1.0e-05.
  std::string text = buffer;
  if (text.find('.') == std::string::npos) {
    size_t exponent = text.find_first_of("eE");
    text.insert(exponent == std::string::npos ? text.size() : exponent, ".0");
  }
  printer << text;
}

#define GET_ATTRDEF_CLASSES
#include "align/Dialect/Recipe/RecipeAttributes.cpp.inc"

void RecipeDialect::registerAttributes() {
  addAttributes<
#define GET_ATTRDEF_LIST
#include "align/Dialect/Recipe/RecipeAttributes.cpp.inc"
      >();
}
