//===- TypeRecovery.h - How well EM found the true annotator types --*- C++ -*-===//
//
// For data that names each annotator's true type (evaluation only; EM never reads it), eval.json reports
// `type_recovery`: the accuracy of the hard types after the best matching of EM's type labels to the true ones
// (EM's labels are arbitrary), and the adjusted Rand index (Hubert & Arabie 1985), which needs no matching and
// is 0 in expectation for a random assignment, 1 for a perfect one.
//
//===----------------------------------------------------------------------===//
#pragma once

#include <cstdint>
#include <vector>

namespace align::rt {

struct TypeRecovery {
  double accuracy = 0;             ///< share of annotators whose matched type is their true type
  double ari = 0;                  ///< adjusted Rand index
  std::vector<int64_t> matchOf;    ///< matchOf[EM type] = the true type it was matched to
};

/// predicted[h] ∈ [0, K) and truth[h] ∈ [0, T) for each annotator h. The matching maximises the number of
/// annotators matched: exhaustively over assignments when max(K, T) ≤ 8, greedily (largest overlap first)
/// above that. Errors: sizes differ, no annotator, a negative label.
TypeRecovery typeRecovery(const std::vector<int64_t> &predicted, const std::vector<int64_t> &truth);

/// The adjusted Rand index of two labelings of the same items.
double adjustedRandIndex(const std::vector<int64_t> &a, const std::vector<int64_t> &b);

} // namespace align::rt
