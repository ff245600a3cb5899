//===- MixtureFile.h - A mixture policy on disk: mixture.json --*- C++ -*-===//
//
// An aggregate's result (Trainer::mixture) is a directory OUT/checkpoints/NAME holding mixture.json: the
// policies (paths relative to the directory, so OUT can move), their weights, and the numbers behind them
// (regret matrix, per-type regrets, solver). `align-lm generate --mixture DIR` reads it back and answers each
// prompt with policy k with probability w_k.
//
//===----------------------------------------------------------------------===//
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace align::rt {

struct MixtureFile {
  std::vector<std::string> policies; ///< checkpoint directories (as read: resolved against the mixture's dir)
  std::vector<double> weights;       ///< one per policy, ≥ 0, summing to 1
};

/// Writes DIR/mixture.json atomically: `details` (any object) with "policies" and "weights" set from
/// `mixture`, the policies written relative to DIR.
void writeMixture(const std::string &dir, const MixtureFile &mixture, nlohmann::json details);

/// Reads DIR/mixture.json. Errors name the file: missing, not JSON, no policies, a weight count that differs
/// from the policies', a negative or non-finite weight, weights not summing to 1 (within 1e-6).
MixtureFile readMixture(const std::string &dir);

/// The same on the text of DIR/mixture.json (`dir` resolves the policies and names the file in messages).
MixtureFile parseMixture(const std::string &text, const std::string &dir);

/// The policy that answers draw number `index` of a run seeded `seed`: k with probability w_k, from a
/// SplitMix64 stream of (seed, index), so a draw depends on nothing else.
size_t pickPolicy(const MixtureFile &mixture, uint64_t seed, uint64_t index);

} // namespace align::rt
