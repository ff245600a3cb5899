//===- DpaTask.h - The synthetic directional-preference data set -*- C++ -*-===//
//
// `align-data dpa-task` (recipes/dpa_directions.align; docs/methods.md §4): see DpaTask.cpp.
//
//===----------------------------------------------------------------------===//
#pragma once

#include <cstdint>
#include <string>

namespace align::data {

struct DpaTaskOptions {
  std::string out;
  long prompts = 400, sftRows = 3000, ratedRows = 3000;
  uint64_t seed = 1;
};

/// The distinct prompts one world has: 24 entities × 40 ordered lists of 1 to 3 of the 4 attributes × 3
/// phrasings. --prompts asks for distinct prompts, so it can be at most this.
constexpr long kDpaMaxPrompts = 24 * 40 * 3;

/// Writes OUT/dpa/{prompts.jsonl, sft.jsonl, ratings.jsonl, world.json} and prints a one-line summary to stderr;
/// throws std::runtime_error when a file cannot be written.
void writeDpaTask(const DpaTaskOptions &options);

} // namespace align::data
