//===- FuzzSettingValue.cpp - libFuzzer target: a trainer's --set KEY=VALUE ===//
//
// The text of an override as Trainer::number, integer and flag parse it (runtime/src/support/SettingValue.h),
// against a recipe whose keys carry the schema's kinds of range (closed, open, one-sided). An accepted
// number is finite and in range; an error names the override (`--set KEY=`).
//
//===----------------------------------------------------------------------===//

#include "FuzzHarness.h"

#include "support/SettingValue.h"

#include <cmath>

using namespace align::rt;

namespace {

const RecipeInfo &recipe() {
  static const RecipeInfo info = [] {
    RecipeInfo r;
    r.name = "fuzz";
    auto add = [&](const char *key, SettingRange range) {
      Setting s;
      s.key = key;
      s.location = "fuzz.align:3:5";
      s.range = range;
      r.settings.push_back(s);
    };
    add("s.lr", {true, true, false, false, 0, 0});        // > 0
    add("s.beta2", {true, false, true, true, 0, 1});      // >= 0, < 1
    add("s.batch", {true, false, false, false, 1, 0});    // >= 1
    add("dir.angle", {true, true, true, true, -90, 90});  // in (-90, 90)
    return r;
  }();
  return info;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 1 || size > 256)
    return 0;
  static const char *keys[] = {"s.lr", "s.beta2", "s.batch", "dir.angle", "other"};
  const std::string key = keys[data[0] % 5];
  const std::string text = align::fuzz::bytes(data + 1, size - 1);
  const std::string place = "--set " + key + "=";
  double number = 0;
  if (align::fuzz::parsedOrRefused(place, [&] { number = parseSettingNumber(key, text, &recipe()); }))
    if (!std::isfinite(number))
      std::abort();
  align::fuzz::parsedOrRefused(place, [&] { (void)parseSettingInteger(key, text, &recipe()); });
  align::fuzz::parsedOrRefused(place, [&] { (void)parseSettingFlag(key, text); });
  return 0;
}
