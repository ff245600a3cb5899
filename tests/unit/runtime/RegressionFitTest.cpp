//===- RegressionFitTest.cpp - Rating targets and the fit of a regression reward ---===//
//
// The target map against hand-computed affine maps (DPA's 20·h + 10, standardisation), and Pearson/Spearman
// against values worked out by hand (ties get their average rank).
//
//===----------------------------------------------------------------------===//

#include "data/RatingTargets.h"
#include "train/RegressionFit.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

namespace align::rt {
namespace {

const double kNaN = std::numeric_limits<double>::quiet_NaN();

PreparedExample rated(std::vector<double> ratings) {
  PreparedExample e;
  e.ratings = std::move(ratings);
  return e;
}

TEST(RatingTargets, AffineMapAndMissingRatings) {
  RegressionParams paper;
  paper.target_scale = 20, paper.target_shift = 10; // HelpSteer 0-4 → DPA's 0-100
  std::vector<PreparedExample> rows = {rated({0, 4}), rated({kNaN, 2}), rated({3, kNaN})};
  RatingTargets t = ratingTargets(paper, rows);
  applyRatingTargets(t, rows);
  EXPECT_EQ(rows[0].ratings, (std::vector<double>{10, 90}));
  EXPECT_TRUE(std::isnan(rows[1].ratings[0]));
  EXPECT_EQ(rows[1].ratings[1], 50);
  EXPECT_EQ(rows[2].ratings[0], 70);
  EXPECT_TRUE(std::isnan(rows[2].ratings[1]));
}

TEST(RatingTargets, StandardisedPerObjectiveOverPresentRatings) {
  RegressionParams standard;
  standard.normalize = true;
  // Objective 0: 1, 3 present (mean 2, sd 1); objective 1: 0, 0, 6 (mean 2, sd √8).
  std::vector<PreparedExample> rows = {rated({1, 0}), rated({3, 0}), rated({kNaN, 6})};
  RatingTargets t = ratingTargets(standard, rows);
  applyRatingTargets(t, rows);
  EXPECT_NEAR(rows[0].ratings[0], -1, 1e-12);
  EXPECT_NEAR(rows[1].ratings[0], 1, 1e-12);
  EXPECT_NEAR(rows[2].ratings[1], 4 / std::sqrt(8.0), 1e-12);
  std::vector<PreparedExample> constant = {rated({2}), rated({2})};
  EXPECT_THROW(ratingTargets(standard, constant), Error);
  RegressionParams zero;
  zero.target_scale = 0;
  EXPECT_THROW(ratingTargets(zero, rows), Error);
}

TEST(RegressionFit, CorrelationsAgainstHandValues) {
  // x = 1..4, y = 2, 4, 5, 9: Σdxdy = 11, Σdx² = 5, Σdy² = 26.
  EXPECT_NEAR(pearsonCorrelation({1, 2, 3, 4}, {2, 4, 5, 9}), 11 / std::sqrt(5 * 26.0), 1e-12);
  EXPECT_NEAR(spearmanCorrelation({1, 2, 3, 4}, {2, 4, 5, 9}), 1, 1e-12);
  // Ties: y ranks 1.5, 1.5, 3, 4 against 1..4 → r of the ranks = 4.5 / √(5 · 4.5).
  EXPECT_NEAR(spearmanCorrelation({1, 2, 3, 4}, {7, 7, 8, 9}), 4.5 / std::sqrt(5 * 4.5), 1e-12);
  EXPECT_TRUE(std::isnan(pearsonCorrelation({1, 1, 1}, {1, 2, 3})));
}

TEST(RegressionFit, PerObjectiveOverPresentTargets) {
  std::vector<std::vector<double>> predictions = {{1, 10}, {2, 20}, {3, 30}, {5, 0}};
  std::vector<std::vector<double>> targets = {{1, 11}, {2, kNaN}, {4, 29}, {5, 1}};
  std::vector<ObjectiveFit> fits = objectiveFits(predictions, targets);
  ASSERT_EQ(fits.size(), 2u);
  EXPECT_EQ(fits[0].rows, 4);
  EXPECT_NEAR(fits[0].mse, 0.25, 1e-12); // only the third row is off, by 1
  EXPECT_EQ(fits[1].rows, 3);
  EXPECT_NEAR(fits[1].mse, 1, 1e-12); // each of the three present rows off by 1
  EXPECT_NEAR(fits[1].spearman, 1, 1e-12);
  EXPECT_THROW(objectiveFits(predictions, {{1, 1}}), Error);
}

} // namespace
} // namespace align::rt
