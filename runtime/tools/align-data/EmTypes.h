//===- EmTypes.h - Two annotator types that binary votes hide ---*- C++ -*-===//
//
// `align-data em-types` (recipes/em_dpo_types.align): see EmTypes.cpp.
//
//===----------------------------------------------------------------------===//
#pragma once

#include <cstdint>
#include <string>

namespace align::data {

struct EmTypesOptions {
  std::string out;
  bool ternary = true; ///< --feedback ternary (3-way rankings) or binary (one pair per prompt)
  long users = 60, promptsPerUser = 8, sftRows = 600;
  uint64_t seed = 1;
};

/// Writes OUT/opinions/{rankings.jsonl, sft.jsonl} and prints a one-line summary to stderr; throws
/// std::runtime_error when a file cannot be written.
void writeEmTypes(const EmTypesOptions &options);

} // namespace align::data
