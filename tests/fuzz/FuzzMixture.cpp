//===- FuzzMixture.cpp - libFuzzer target: an aggregate's mixture.json ===//
//
// The mixture.json that `align-lm generate --mixture DIR` reads (runtime/src/aggregate/MixtureFile.h). One
// that is accepted has a policy per weight, weights ≥ 0 summing to 1, and every seeded pick names a policy.
//
//===----------------------------------------------------------------------===//

#include "FuzzHarness.h"

#include "aggregate/MixtureFile.h"

#include <cmath>

using namespace align::rt;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  MixtureFile m;
  if (!align::fuzz::parsedOrRefused("fuzz-mixture/mixture.json",
                                    [&] { m = parseMixture(align::fuzz::bytes(data, size), "fuzz-mixture"); }))
    return 0;
  if (m.policies.empty() || m.policies.size() != m.weights.size())
    std::abort();
  for (uint64_t draw = 0; draw < 8; ++draw)
    if (pickPolicy(m, size, draw) >= m.policies.size())
      std::abort();
  return 0;
}
