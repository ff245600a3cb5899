//===- TypeRecovery.cpp - How well EM found the true annotator types ---------===//

#include "latent/TypeRecovery.h"

#include "align/rt/Error.h"

#include <algorithm>
#include <numeric>

namespace align::rt {

namespace {

/// counts[p][t]: annotators with predicted label p and true label t.
std::vector<std::vector<double>> contingency(const std::vector<int64_t> &predicted, const std::vector<int64_t> &truth) {
  if (predicted.size() != truth.size())
    throw Error("type recovery: " + std::to_string(predicted.size()) + " predicted types for " +
                std::to_string(truth.size()) + " true ones");
  if (predicted.empty())
    throw Error("type recovery: no annotators");
  const int64_t rows = *std::max_element(predicted.begin(), predicted.end()) + 1;
  const int64_t columns = *std::max_element(truth.begin(), truth.end()) + 1;
  if (*std::min_element(predicted.begin(), predicted.end()) < 0 || *std::min_element(truth.begin(), truth.end()) < 0)
    throw Error("type recovery: a type label is negative");
  std::vector<std::vector<double>> counts(static_cast<size_t>(rows), std::vector<double>(static_cast<size_t>(columns)));
  for (size_t h = 0; h < predicted.size(); ++h)
    counts[static_cast<size_t>(predicted[h])][static_cast<size_t>(truth[h])] += 1;
  return counts;
}

double choose2(double n) { return n * (n - 1) / 2; }

} // namespace

double adjustedRandIndex(const std::vector<int64_t> &a, const std::vector<int64_t> &b) {
  auto counts = contingency(a, b);
  double index = 0, rowPairs = 0, columnPairs = 0;
  std::vector<double> columnSums(counts[0].size(), 0.0);
  for (const auto &row : counts) {
    rowPairs += choose2(std::accumulate(row.begin(), row.end(), 0.0));
    for (size_t j = 0; j < row.size(); ++j)
      index += choose2(row[j]), columnSums[j] += row[j];
  }
  for (double c : columnSums)
    columnPairs += choose2(c);
  const double expected = rowPairs * columnPairs / choose2(static_cast<double>(a.size()));
  const double maximum = 0.5 * (rowPairs + columnPairs);
  // Both labelings put everything in one group (or all apart): they agree exactly.
  if (maximum == expected)
    return 1.0;
  return (index - expected) / (maximum - expected);
}

TypeRecovery typeRecovery(const std::vector<int64_t> &predicted, const std::vector<int64_t> &truth) {
  auto counts = contingency(predicted, truth);
  const size_t rows = counts.size(), columns = counts[0].size(), size = std::max(rows, columns);
  // Square the table with empty rows/columns so every predicted type gets a distinct partner.
  for (auto &row : counts)
    row.resize(size, 0.0);
  counts.resize(size, std::vector<double>(size, 0.0));
  std::vector<int64_t> best(size);
  double bestMatched = -1;
  if (size <= 8) {
    std::vector<int64_t> permutation(size);
    std::iota(permutation.begin(), permutation.end(), 0);
    do {
      double matched = 0;
      for (size_t p = 0; p < size; ++p)
        matched += counts[p][static_cast<size_t>(permutation[p])];
      if (matched > bestMatched)
        bestMatched = matched, best = permutation;
    } while (std::next_permutation(permutation.begin(), permutation.end()));
  } else {
    std::vector<bool> rowUsed(size), columnUsed(size);
    bestMatched = 0;
    for (size_t step = 0; step < size; ++step) {
      size_t bp = 0, bt = 0;
      double most = -1;
      for (size_t p = 0; p < size; ++p)
        for (size_t t = 0; t < size; ++t)
          if (!rowUsed[p] && !columnUsed[t] && counts[p][t] > most)
            most = counts[p][t], bp = p, bt = t;
      rowUsed[bp] = columnUsed[bt] = true;
      best[bp] = static_cast<int64_t>(bt);
      bestMatched += most;
    }
  }
  TypeRecovery out;
  out.accuracy = bestMatched / static_cast<double>(predicted.size());
  out.ari = adjustedRandIndex(predicted, truth);
  out.matchOf.assign(best.begin(), best.begin() + static_cast<std::ptrdiff_t>(rows));
  return out;
}

} // namespace align::rt
