//===- TrainPosition.h - Where a stage stands: trainer_state.json -*- C++ -*-===//
//
// The position part of a training state (train/TrainState.h): step, epoch, batch and the settings fingerprint,
// as trainer_state.json holds them. Torch-free, so the file's parsing is fuzzed (tests/fuzz/FuzzTrainState.cpp).
//
//===----------------------------------------------------------------------===//
#pragma once

#include <cstdint>
#include <string>

namespace align::rt {

struct TrainPosition {
  std::string stage;
  int64_t step = 0;          ///< optimizer steps done
  int64_t totalSteps = 0;
  int64_t epoch = 0;         ///< the epoch in progress (0-based)
  int64_t batchInEpoch = 0;  ///< batches of that epoch already consumed
  double elapsedSeconds = 0; ///< training time before this process, for the time limit
  /// The settings that must not change across a resume (batch, data, objective, seed…); a mismatch is an
  /// error naming both.
  std::string fingerprint;
};

/// trainer_state.json's text for `position`.
std::string trainPositionJson(const TrainPosition &position);

/// Reads trainer_state.json's text; an Error naming `path` and the field when it is not JSON, lacks a field,
/// or holds a count that is negative or not an integer, or step > total_steps.
TrainPosition parseTrainPosition(const std::string &text, const std::string &path);

} // namespace align::rt
