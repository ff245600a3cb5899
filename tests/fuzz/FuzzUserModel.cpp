//===- FuzzUserModel.cpp - libFuzzer target: a user model's user_model.json ===//
//
// The settings file of a saved P-RLHF user model (runtime/src/model/UserModelFile.h). Its tables
// (user_model.safetensors) need LibTorch and are not fuzzed here; their header is (FuzzSafeTensors.cpp). An
// accepted file must describe tables whose sizes are positive and fit in 64 bits.
//
//===----------------------------------------------------------------------===//

#include "FuzzHarness.h"

#include "model/UserModelFile.h"

using namespace align::rt;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  const std::string path = "fuzz/user_model.json";
  UserModelFile f;
  if (!align::fuzz::parsedOrRefused(path, [&] { f = parseUserModelFile(align::fuzz::bytes(data, size), path); }))
    return 0;
  const bool cluster = f.settings.kind == UserModelKind::cluster;
  const int64_t rows = cluster ? f.settings.clusters : static_cast<int64_t>(f.users.size()) + 1;
  int64_t elements = 0;
  if (f.settings.tokens < 1 || f.hiddenSize < 1 || (cluster && f.settings.clusters < 1) ||
      __builtin_mul_overflow(rows, f.settings.tokens, &elements) ||
      __builtin_mul_overflow(elements, f.hiddenSize, &elements) ||
      (cluster && __builtin_mul_overflow(static_cast<int64_t>(f.users.size()) + 1, f.settings.clusters, &elements)))
    std::abort();
  return 0;
}
