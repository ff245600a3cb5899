//===- RegressionFit.h - How well a regression reward predicts held-out ratings -*- C++ -*-===//
//
// Per objective, over the held-out rows whose rating is present: mean squared error, Pearson's r and
// Spearman's ρ (Pearson's r of the ranks, ties sharing their average rank) between the head's predictions
// and the targets (DPA's multi-objective reward, docs/methods.md §4.1).
//
//===----------------------------------------------------------------------===//
#pragma once

#include "data/PreparedData.h"
#include "model/RewardModel.h"

#include <vector>

namespace align::rt {

struct ObjectiveFit {
  double mse = 0, pearson = 0, spearman = 0;
  int64_t rows = 0; ///< rows with a present rating
};

/// Pearson's r of two equally long series (NaN when either is constant or shorter than 2).
double pearsonCorrelation(const std::vector<double> &x, const std::vector<double> &y);
/// Spearman's ρ: Pearson's r of the average ranks.
double spearmanCorrelation(const std::vector<double> &x, const std::vector<double> &y);

/// The fit of each objective from predictions [rows][k] and targets (NaN: missing).
std::vector<ObjectiveFit> objectiveFits(const std::vector<std::vector<double>> &predictions,
                                        const std::vector<std::vector<double>> &targets);

/// The head's outputs for each example's first sequence, in batches of `batch`: [examples][outputs].
std::vector<std::vector<double>> rewardPredictions(RewardModel &reward, const std::vector<PreparedExample> &examples,
                                                   int64_t padId, int64_t batch);

} // namespace align::rt
