//===- RatingTargets.h - From ratings to a regression head's targets -*- C++ -*-===//
//
// A multi-objective regression reward (DPA, docs/methods.md §4.1) learns targets a_k · rating_k + b_k per
// objective k. The recipe's `regression(target_scale:, target_shift:)` sets one affine map for every objective
// (DPA's 0–100 scale from HelpSteer's 0–4 ratings is 20 and 10); `normalize: true` then standardises each
// objective by the mean and standard deviation of its present training targets. Missing ratings (NaN) stay
// missing. The map is computed once from the stage's training rows and applied to its held-out rows too.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "align/rt/Trainer.h"
#include "data/PreparedData.h"

#include <vector>

namespace align::rt {

struct RatingTargets {
  std::vector<double> scale, shift; ///< per objective: target = scale · rating + shift
};

/// The map for `params` over `train` (k objectives, each example's `ratings`); an objective without any
/// present rating, or with a zero spread under `normalize`, is an Error naming it by index.
RatingTargets ratingTargets(const RegressionParams &params, const std::vector<PreparedExample> &train);

/// Rewrites each example's ratings as targets.
void applyRatingTargets(const RatingTargets &targets, std::vector<PreparedExample> &examples);

} // namespace align::rt
