//===- EmBandit.h - The EM-DPO authors' bandit, for a language model -*- C++ -*-===//
//
// `align-data em-bandit` (recipes/em_bandit.align): see EmBandit.cpp.
//
//===----------------------------------------------------------------------===//
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace align::data {

struct EmBanditOptions {
  std::string out;
  std::vector<double> mixture = {0.2, 0.0, 0.8}; ///< the types' shares; K = its size (one arm per type)
  long users = 100, pairsPerUser = 100;
  uint64_t seed = 1;
};

/// The most comparisons (users × pairs per user) one run writes: the rows are built in memory (about 100 bytes
/// each) before the atomic write, so a larger request is refused rather than exhausting memory.
constexpr long long kEmBanditMaxComparisons = 10000000;

/// Parses "0.2,0,0.8" into shares (each ≥ 0, at least 2, summing to 1 within 1e-6); throws
/// std::invalid_argument with a message naming what is wrong.
std::vector<double> parseMixture(const std::string &text);

/// Writes OUT/em_bandit/{pairs.jsonl, sft.jsonl, truth.json} and prints a one-line summary to stderr; throws
/// std::runtime_error when a file cannot be written.
void writeEmBandit(const EmBanditOptions &options);

} // namespace align::data
