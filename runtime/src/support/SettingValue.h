//===- SettingValue.h - The value of a --set KEY=VALUE override -*- C++ -*-===//
//
// A trainer's `--set KEY=VALUE` replaces a value the recipe names (align/rt/Trainer.h, Trainer::number & co.).
// The text is parsed here, torch-free, so the parsing can be fuzzed (tests/fuzz/): a number is a whole finite
// strtod number, an integer a whole base-10 strtoll number within 64 bits, a flag `true` or `false`; numbers
// and integers must also respect the recipe's range for the key (Setting::range, the schema's).
//
//===----------------------------------------------------------------------===//
#pragma once

#include "align/rt/Trainer.h"

#include <cstdint>
#include <string>

namespace align::rt {

/// `text` as a number for `key`; `recipe` (may be null) gives the key's range.
/// Errors: `--set KEY=TEXT: expected a number`, `...: expected a finite number`, `...: must be >= MIN, as the
/// recipe's value at LOCATION`.
double parseSettingNumber(const std::string &key, const std::string &text, const RecipeInfo *recipe);

/// `text` as an integer for `key`. Errors: `--set KEY=TEXT: expected an integer`, `...: out of range for a
/// 64-bit integer`, and the range's.
int64_t parseSettingInteger(const std::string &key, const std::string &text, const RecipeInfo *recipe);

/// `text` as a flag. Error: `--set KEY=TEXT: expected true or false`.
bool parseSettingFlag(const std::string &key, const std::string &text);

/// The recipe's range for `key` (Setting::range, the schema's); `value` outside it is an Error.
void checkSettingRange(const RecipeInfo *recipe, const std::string &key, const std::string &text, double value);

} // namespace align::rt
