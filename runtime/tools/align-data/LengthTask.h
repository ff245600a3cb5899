//===- LengthTask.h - The synthetic length-preference data set -*- C++ -*-===//
//
// `align-data length-task`: the P-RLHF length experiment's data (issue 5). See LengthTask.cpp.
//
//===----------------------------------------------------------------------===//
#pragma once

#include <cstdint>
#include <string>

namespace align::data {

struct LengthTaskOptions {
  std::string out;
  long users = 10, unseenUsers = 4, pairsPerUser = 120, sftRows = 3000;
  uint64_t seed = 1;
};

/// Writes OUT/length/sft.jsonl and OUT/length/prefs.jsonl and prints a one-line summary to stderr; throws
/// std::runtime_error when a file cannot be written.
void writeLengthTask(const LengthTaskOptions &options);

} // namespace align::data
