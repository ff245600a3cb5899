//===- DpaObjectives.h - The DPA task's true helpfulness and verbosity -*- C++ -*-===//
//
// The noise-free objectives of `align-data dpa-task` (DpaTask.cpp), defined once: the generator adds rating
// noise to them, and `align-data dpa-judge` (DpaJudge.cpp) scores generations with them.
//
//   words(y)          the number of maximal runs of ASCII letters and digits in y ("The fox is red." has 4)
//   stated(f, y)      fact value f (one word) equals one of y's words, ignoring ASCII case — a whole-word,
//                     case-insensitive match, so "red" is stated by "Red." but not by "reddish" or "bred"
//   helpfulness_true  4 · |{asked facts stated}| / |asked facts|, in [0, 4]
//   verbosity_true    clamp(words(y) / W, 0, 4) with W = kDpaWordsPerVerbosityPoint, not rounded
//
// The rule only checks that the true value is present: a response that lists every colour is credited with
// the colour. The task's own responses state only true facts, so the ratings it writes are not fooled by this.
//
//===----------------------------------------------------------------------===//
#pragma once

#include <string>
#include <vector>

namespace align::data {

/// W: words per point of verbosity. The task's responses have 3 to 29 words (11.6 on average), so
/// verbosity_true spans 0.5 to 4 with its mean near the middle of the scale (24 words and more are clamped to 4).
constexpr double kDpaWordsPerVerbosityPoint = 6;

struct DpaObjectives {
  double helpfulness = 0; ///< helpfulness_true, in [0, 4]
  double verbosity = 0;   ///< verbosity_true, in [0, 4]
  long words = 0;         ///< words(response)
  long stated = 0;        ///< how many of the asked facts the response states
};

/// The words of `text`, lower-cased (maximal runs of ASCII letters and digits).
std::vector<std::string> dpaWords(const std::string &text);

/// The true objectives of `response` to a prompt asking for `facts` (their values; at least one, each a single
/// word). Throws std::invalid_argument when `facts` is empty.
DpaObjectives dpaTrueObjectives(const std::string &response, const std::vector<std::string> &facts);

} // namespace align::data
