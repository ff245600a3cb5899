//===- DpaJudge.h - Rule-based scores for DPA generations -----*- C++ -*-===//
//
// `align-data dpa-judge` (docs/methods.md §4): see DpaJudge.cpp.
//
//===----------------------------------------------------------------------===//
#pragma once

#include <string>
#include <vector>

namespace align::data {

struct DpaJudgeOptions {
  std::string data;  ///< the --out of dpa-task: prompts are looked up in DATA/dpa/prompts.jsonl
  std::string input; ///< generations, one JSON object per line
  std::string out;   ///< the summary JSON
  std::string rows;  ///< if not empty, the input rows with their scores added
};

/// Scores every generation with DpaObjectives.h's true objectives and writes the summary (and the rows); prints
/// a one-line summary to stderr. Throws std::runtime_error naming FILE:LINE (and the field) for bad input, an
/// unknown prompt or a file that cannot be read or written.
void runDpaJudge(const DpaJudgeOptions &options);

} // namespace align::data
