//===- SettingValue.cpp - The value of a --set KEY=VALUE override ---------===//

#include "support/SettingValue.h"

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <sstream>

namespace align::rt {

void checkSettingRange(const RecipeInfo *recipe, const std::string &key, const std::string &text, double value) {
  if (!recipe)
    return;
  for (const Setting &setting : recipe->settings) {
    if (setting.key != key)
      continue;
    const SettingRange &r = setting.range;
    auto number = [](double v) {
      std::ostringstream out;
      out << v;
      return out.str();
    };
    std::string bound;
    if (r.hasMin && (r.minOpen ? !(value > r.min) : !(value >= r.min)))
      bound = (r.minOpen ? "> " : ">= ") + number(r.min);
    if (r.hasMax && (r.maxOpen ? !(value < r.max) : !(value <= r.max)))
      bound = (r.maxOpen ? "< " : "<= ") + number(r.max);
    if (!bound.empty())
      throw Error("--set " + key + "=" + text + ": must be " + bound + ", as the recipe's value at " + setting.location);
    return;
  }
}

double parseSettingNumber(const std::string &key, const std::string &text, const RecipeInfo *recipe) {
  char *end = nullptr;
  const double value = std::strtod(text.c_str(), &end);
  if (text.empty() || *end != '\0')
    throw Error("--set " + key + "=" + text + ": expected a number");
  if (!std::isfinite(value)) // a recipe cannot write nan or inf either
    throw Error("--set " + key + "=" + text + ": expected a finite number");
  checkSettingRange(recipe, key, text, value);
  return value;
}

int64_t parseSettingInteger(const std::string &key, const std::string &text, const RecipeInfo *recipe) {
  char *end = nullptr;
  errno = 0;
  const long long value = std::strtoll(text.c_str(), &end, 10);
  if (text.empty() || *end != '\0')
    throw Error("--set " + key + "=" + text + ": expected an integer");
  if (errno == ERANGE)
    throw Error("--set " + key + "=" + text + ": out of range for a 64-bit integer");
  checkSettingRange(recipe, key, text, static_cast<double>(value));
  return value;
}

bool parseSettingFlag(const std::string &key, const std::string &text) {
  if (text == "true")
    return true;
  if (text == "false")
    return false;
  throw Error("--set " + key + "=" + text + ": expected true or false");
}

} // namespace align::rt
