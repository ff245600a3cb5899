//===- FuzzDirection.cpp - libFuzzer target: a policy's direction.json ===//
//
// The direction.json beside a DPA policy and the `--direction` argument rendered with it
// (runtime/src/data/Direction.h, as `align-lm generate --direction` uses them). The input is the file,
// optionally followed by a NUL and the argument ("0.8,-0.6" or "-15deg"); an accepted file's template is
// rendered for the argument (or θ = 10°), and an accepted argument is a unit vector.
//
//===----------------------------------------------------------------------===//

#include "FuzzHarness.h"

#include "data/Direction.h"

#include <cmath>

using namespace align::rt;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  const std::string path = "fuzz/direction.json";
  const auto parts = align::fuzz::splitAtNul(align::fuzz::bytes(data, size));
  // A command-line argument holds no NUL: it ends at the next one.
  const std::string &file = parts.first, argument = parts.second.substr(0, parts.second.find('\0'));
  SavedDirection saved;
  if (!align::fuzz::parsedOrRefused(path, [&] { saved = parseDirectionFile(file, path); }))
    return 0;
  std::vector<double> v = directionVector(10);
  if (!argument.empty() &&
      align::fuzz::parsedOrRefused("--direction " + argument, [&] { v = parseDirectionArgument(argument, saved.spec); })) {
    double norm = 0;
    for (double x : v)
      norm += x * x;
    if (v.size() != saved.spec.objectives.size() || !(std::abs(norm - 1) < 1e-9))
      std::abort();
  }
  // A template the file carries is checked when it is rendered; the error names the direction.
  align::fuzz::parsedOrRefused("direction '" + saved.spec.name + "'", [&] { (void)renderDirection(saved.spec, v); });
  return 0;
}
