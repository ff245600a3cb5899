//===- CppText.h - Spelling values and names as C++ source ------*- C++ -*-===//
//
// The small pieces every part of the trainer emitter needs: string and number literals that read back to
// exactly the value in the IR, C++ identifiers made from recipe names, and the `file:line:col` of an op's
// location for the comment on each emitted statement.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "mlir/IR/Attributes.h"
#include "mlir/IR/Location.h"

#include "llvm/ADT/StringRef.h"
#include "llvm/ADT/StringSet.h"

#include <cstdint>
#include <optional>
#include <vector>
#include <string>

namespace align::emit {

/// A C++ string literal holding `text` byte for byte (quotes, backslashes, newlines and other control bytes
/// escaped; octal escapes, so a following digit can never extend one).
std::string cppString(llvm::StringRef text);

/// The shortest decimal that reads back (strtod) to exactly `value`, always a floating literal ("1.0",
/// "5e-05", "0.1"). Infinities and NaNs have no literal; callers reject them first.
std::string cppDouble(double value);

/// `value` as an int64_t literal: INT64_MIN is spelled as an expression, since `-9223372036854775808` is the
/// negation of a literal that does not fit.
std::string cppInteger(int64_t value);

/// The same number as the recipe reader would write it in a --set value: cppDouble without a forced ".0".
std::string settingDouble(double value);

/// The strings of an array attribute (other elements skipped); empty for anything else.
std::vector<std::string> stringsOf(mlir::Attribute attr);

/// A braced list of C++ string literals: `{"q_proj", "v_proj"}`.
std::string cppStringList(const std::vector<std::string> &items);

/// The value of a float or integer attribute (not a bool); nullopt for anything else.
std::optional<double> numericValue(mlir::Attribute attr);

/// `file:line:col` of the first FileLineColLoc inside `loc` (through fused, named and call-site locations);
/// "" when there is none.
std::string locationText(mlir::Location loc);

/// `text` made safe inside a `//` comment: newlines, carriage returns and other control characters are
/// written as escapes (\n, \r, \xNN), and a trailing backslash (a line splice) as \x5c — so a recipe path
/// or name cannot end the comment and put the rest of itself into the code.
std::string commentText(llvm::StringRef text);

/// Identifiers for the emitted code: each recipe name becomes a valid C++ identifier that is not a keyword
/// and not yet used (`align` + "_stage" → `align_stage`; a clash gets `_2`, `_3`, ...).
class IdentifierTable {
public:
  std::string make(llvm::StringRef name, llvm::StringRef suffix);

private:
  llvm::StringSet<> used_;
};

} // namespace align::emit
