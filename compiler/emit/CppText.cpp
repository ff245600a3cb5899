//===- CppText.cpp - Spelling values and names as C++ source --------------===//

#include "CppText.h"

#include "mlir/IR/BuiltinAttributes.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/FormatVariadic.h"

#include <cctype>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace align::emit {

std::string cppString(llvm::StringRef text) {
  std::string out = "\"";
  for (unsigned char c : text) {
    switch (c) {
    case '"':
      out += "\\\"";
      break;
    case '\\':
      out += "\\\\";
      break;
    case '\n':
      out += "\\n";
      break;
    case '\t':
      out += "\\t";
      break;
    case '\r':
      out += "\\r";
      break;
    case '?': // `??x` would be a trigraph in older dialects; escaping costs nothing
      out += "\\?";
      break;
    default:
      if (c < 0x20 || c == 0x7f) {
        char buf[8];
        std::snprintf(buf, sizeof buf, "\\%03o", c);
        out += buf;
      } else {
        out += static_cast<char>(c); // UTF-8 bytes pass through: the TU is UTF-8
      }
    }
  }
  return out + "\"";
}

std::string settingDouble(double value) {
  // The shortest %g spelling that reads back exactly, or the shortest fixed one when that is no longer
  // ("7200" rather than "7.2e+03"; "5e-05" rather than "0.00005").
  char buf[64];
  std::string best;
  for (int precision = 1; precision <= 17; ++precision) {
    std::snprintf(buf, sizeof buf, "%.*g", precision, value);
    if (std::strtod(buf, nullptr) == value) {
      best = buf;
      break;
    }
  }
  if (std::fabs(value) < 1e16)
    for (int decimals = 0; decimals <= 17; ++decimals) {
      std::snprintf(buf, sizeof buf, "%.*f", decimals, value);
      if (std::strtod(buf, nullptr) == value) {
        if (std::strlen(buf) <= best.size())
          best = buf;
        break;
      }
    }
  return best;
}

std::string cppDouble(double value) {
  std::string text = settingDouble(value);
  // "1" or "200" would be integer literals; "1e+20" is already floating.
  if (text.find_first_of(".eEn") == std::string::npos)
    text += ".0";
  return text;
}

std::string cppInteger(int64_t value) {
  if (value == INT64_MIN)
    return "(-9223372036854775807 - 1)";
  return std::to_string(value);
}

std::vector<std::string> stringsOf(mlir::Attribute attr) {
  std::vector<std::string> out;
  if (auto list = attr.dyn_cast_or_null<mlir::ArrayAttr>())
    for (mlir::Attribute item : list)
      if (auto text = item.dyn_cast<mlir::StringAttr>())
        out.push_back(text.getValue().str());
  return out;
}

std::string cppStringList(const std::vector<std::string> &items) {
  std::string out = "{";
  for (size_t i = 0; i < items.size(); ++i)
    out += (i ? ", " : "") + cppString(items[i]);
  return out + "}";
}

std::optional<double> numericValue(mlir::Attribute attr) {
  if (auto number = attr.dyn_cast_or_null<mlir::FloatAttr>())
    return number.getValueAsDouble();
  if (auto integer = attr.dyn_cast_or_null<mlir::IntegerAttr>(); integer && !attr.isa<mlir::BoolAttr>())
    return static_cast<double>(integer.getInt());
  return std::nullopt;
}

std::string commentText(llvm::StringRef text) {
  std::string out;
  for (unsigned char c : text) {
    if (c == '\n')
      out += "\\n";
    else if (c == '\r')
      out += "\\r";
    else if (c < 0x20 || c == 0x7f)
      out += llvm::formatv("\\x{0:x-2}", static_cast<unsigned>(c)).str();
    else
      out += static_cast<char>(c);
  }
  // A backslash before the end of the line (trailing spaces count as nothing) splices the next line in.
  size_t last = out.find_last_not_of(' ');
  if (last != std::string::npos && out[last] == '\\')
    out.replace(last, 1, "\\x5c");
  return out;
}

std::string locationText(mlir::Location loc) {
  std::string text;
  loc->walk([&](mlir::Location inner) {
    if (auto file = inner.dyn_cast<mlir::FileLineColLoc>()) {
      text = (file.getFilename().getValue() + ":" + llvm::Twine(file.getLine()) + ":" + llvm::Twine(file.getColumn()))
                 .str();
      return mlir::WalkResult::interrupt();
    }
    return mlir::WalkResult::advance();
  });
  return text;
}

namespace {

bool isCppKeyword(llvm::StringRef word) {
  static const char *const keywords[] = {
      "alignas",   "alignof",      "and",        "and_eq",    "asm",          "auto",      "bitand",
      "bitor",     "bool",         "break",      "case",      "catch",        "char",      "char16_t",
      "char32_t",  "class",        "compl",      "const",     "constexpr",    "const_cast", "continue",
      "decltype",  "default",      "delete",     "do",        "double",       "dynamic_cast", "else",
      "enum",      "explicit",     "export",     "extern",    "false",        "float",     "for",
      "friend",    "goto",         "if",         "inline",    "int",          "long",      "mutable",
      "namespace", "new",          "noexcept",   "not",       "not_eq",       "nullptr",   "operator",
      "or",        "or_eq",        "private",    "protected", "public",       "register",  "reinterpret_cast",
      "return",    "short",        "signed",     "sizeof",    "static",       "static_assert", "static_cast",
      "struct",    "switch",       "template",   "this",      "thread_local", "throw",     "true",
      "try",       "typedef",      "typeid",     "typename",  "union",        "unsigned",  "using",
      "virtual",   "void",         "volatile",   "wchar_t",   "while",        "xor",       "xor_eq",
      // names the emitted code itself uses at file scope or in run()
      "t",         "recipe",       "run",        "main",      "align",        "std"};
  for (const char *keyword : keywords)
    if (word == keyword)
      return true;
  return false;
}

} // namespace

std::string IdentifierTable::make(llvm::StringRef name, llvm::StringRef suffix) {
  std::string base;
  for (char c : name)
    base += (std::isalnum(static_cast<unsigned char>(c)) || c == '_') ? c : '_';
  if (base.empty() || std::isdigit(static_cast<unsigned char>(base[0])))
    base.insert(0, "v");
  if (!suffix.empty())
    base += "_" + suffix.str();
  // Identifiers with a double underscore or a leading underscore are reserved.
  while (base.find("__") != std::string::npos)
    base.replace(base.find("__"), 2, "_");
  if (base[0] == '_')
    base.insert(0, "v");
  if (isCppKeyword(base))
    base += "_1";
  std::string candidate = base;
  for (int n = 2; used_.contains(candidate); ++n)
    candidate = base + "_" + std::to_string(n);
  used_.insert(candidate);
  return candidate;
}

} // namespace align::emit
