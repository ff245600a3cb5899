//===- FuzzTrainState.cpp - libFuzzer target: a training state's text files ===//
//
// What `--resume` reads before any tensor: trainer_state.json (runtime/src/train/TrainPosition.h) [NUL the
// state's manifest.json (runtime/src/support/Manifest.h)]. An accepted position round-trips through its own
// JSON; an accepted manifest lists only relative paths inside the directory.
//
//===----------------------------------------------------------------------===//

#include "FuzzHarness.h"

#include "support/Manifest.h"
#include "train/TrainPosition.h"

using namespace align::rt;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  const std::pair<std::string, std::string> parts = align::fuzz::splitAtNul(align::fuzz::bytes(data, size));
  const std::string &state = parts.first, &manifest = parts.second; // (lambdas cannot capture bindings in C++17)
  const std::string statePath = "fuzz-state/trainer_state.json";
  TrainPosition position;
  if (align::fuzz::parsedOrRefused(statePath, [&] { position = parseTrainPosition(state, statePath); })) {
    if (position.step < 0 || position.step > position.totalSteps || position.epoch < 0 || position.batchInEpoch < 0)
      std::abort();
    const TrainPosition again = parseTrainPosition(trainPositionJson(position), statePath);
    if (again.step != position.step || again.totalSteps != position.totalSteps || again.epoch != position.epoch ||
        again.batchInEpoch != position.batchInEpoch || again.elapsedSeconds != position.elapsedSeconds)
      std::abort();
  }
  const std::string manifestPath = "fuzz-state/manifest.json";
  std::vector<ManifestEntry> entries;
  if (align::fuzz::parsedOrRefused(manifestPath, [&] { entries = parseManifest(manifest, manifestPath); }))
    for (const ManifestEntry &entry : entries) {
      const std::string wrapped = "/" + entry.path + "/";
      if (entry.path.empty() || wrapped.find("//") != std::string::npos || wrapped.find("/./") != std::string::npos ||
          wrapped.find("/../") != std::string::npos)
        std::abort();
    }
  return 0;
}
