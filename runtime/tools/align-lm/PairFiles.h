//===- PairFiles.h - Comparison files for `align-lm score-pairs` -*- C++ -*-===//
//
// The three files a reward model is scored on: DSP's listwise {text: [...], score: [...]} JSON lists (the
// helpful/harmless/WebGPT releases), DSP's raw {query, responses: {domain: text}} list (one domain preferred
// over each other one), and TRL-style {prompt, chosen, rejected} JSONL. Each becomes a list of comparisons
// between texts; a malformed entry is an error naming file, entry and field.
//
// The runtime's typed data sources (issue 3, data part) will subsume this reader; it stays small until then.
//
//===----------------------------------------------------------------------===//
#pragma once

#include <string>
#include <vector>

namespace align::lm {

/// Texts to score and the ordered pairs among them: `better` should out-score `worse`.
struct Comparisons {
  std::vector<std::string> texts;
  struct Pair {
    size_t better, worse;
    std::string group; // e.g. the other domain for DSP raw pairs; empty otherwise
  };
  std::vector<Pair> pairs;
  size_t ties = 0; // pairs skipped because their scores are equal
};

/// `format` is "dsp" — listwise text/score, or the raw domain format when `preferredDomain` is given — or
/// "pairwise".
Comparisons readComparisons(const std::string &path, const std::string &format, const std::string &preferredDomain);

} // namespace align::lm
