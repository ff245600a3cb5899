//===- MinMaxRegretTest.cpp - MMRA's regret matrices and optimistic Hedge ===//
//
// The regret matrices on hand-computed numbers (and the KL form against KL computed from known
// distributions), the game matrix's weights and dummy row, and optimistic Hedge against games whose min-max
// value is known independently: 2 × 2 games solved by hand, random 3-column games solved by brute force over
// a simplex grid, a dominated policy, a policy best for every type; its first two steps against the stated
// updates written out; large payoffs (the log-space weights); the errors.
//
//===----------------------------------------------------------------------===//

#include "aggregate/MinMaxRegret.h"

#include "align/rt/Error.h"
#include "support/SplitMix64.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

using namespace align::rt;

namespace {

const double kNaN = std::numeric_limits<double>::quiet_NaN();
const double kInf = std::numeric_limits<double>::infinity();

double uniform(SplitMix64 &rng) { return static_cast<double>(rng.next() >> 11) * 0x1.0p-53; }

/// rows × columns entries uniform in [0, 1).
DoubleMatrix randomGame(size_t rows, size_t columns, uint64_t seed) {
  SplitMix64 rng(seed);
  DoubleMatrix g(rows, std::vector<double>(columns));
  for (auto &row : g)
    for (double &v : row)
      v = uniform(rng);
  return g;
}

/// max_i (G w)_i: the column player's guaranteed loss, an upper bound on the game's value.
double worstRow(const DoubleMatrix &g, const std::vector<double> &w) {
  double worst = -kInf;
  for (const auto &row : g)
    worst = std::max(worst, std::inner_product(row.begin(), row.end(), w.begin(), 0.0));
  return worst;
}

/// min_j (xᵀ G)_j: the row player's guaranteed gain, a lower bound on the game's value.
double worstColumn(const DoubleMatrix &g, const std::vector<double> &x) {
  double worst = kInf;
  for (size_t j = 0; j < g.front().size(); ++j) {
    double sum = 0;
    for (size_t i = 0; i < g.size(); ++i)
      sum += x[i] * g[i][j];
    worst = std::min(worst, sum);
  }
  return worst;
}

/// min over w on the grid {(a, b, n − a − b)/n} of the 3-simplex of max_i (G w)_i: the value of the linear
/// program min_{w ∈ Δ} max_i (G w)_i by enumeration, exact up to the grid (within max|G|/n of the optimum).
double gridValue(const DoubleMatrix &g, int n) {
  double best = kInf;
  for (int a = 0; a <= n; ++a)
    for (int b = 0; a + b <= n; ++b)
      best = std::min(best, worstRow(g, {double(a) / n, double(b) / n, double(n - a - b) / n}));
  return best;
}

double sum(const std::vector<double> &v) { return std::accumulate(v.begin(), v.end(), 0.0); }

void expectDistribution(const std::vector<double> &p, size_t size) {
  ASSERT_EQ(p.size(), size);
  for (double v : p) {
    EXPECT_TRUE(std::isfinite(v));
    EXPECT_GE(v, 0.0);
  }
  EXPECT_NEAR(sum(p), 1.0, 1e-12);
}

} // namespace

//===----------------------------------------------------------------------===//
// Regret matrices
//===----------------------------------------------------------------------===//

TEST(MinMaxRegret, RegretMatrixByHand) {
  // L[i][j]: type i's log-ratio on policy j's samples.
  DoubleMatrix logRatios = {{1.0, 0.4, -0.2}, {0.3, 0.9, 0.5}, {-1.0, 0.0, 2.0}};
  DoubleMatrix expected = {{0.0, 0.6, 1.2}, {0.6, 0.0, 0.4}, {3.0, 2.0, 0.0}};
  DoubleMatrix r = regretMatrix(logRatios);
  ASSERT_EQ(r.size(), 3u);
  for (size_t i = 0; i < 3; ++i) {
    ASSERT_EQ(r[i].size(), 3u);
    EXPECT_EQ(r[i][i], 0.0);
    for (size_t j = 0; j < 3; ++j)
      EXPECT_NEAR(r[i][j], expected[i][j], 1e-15) << i << ", " << j;
  }
}

TEST(MinMaxRegret, KlRegretMatrixByHand) {
  // LP[i][j]: log π_i on π_j's samples; the diagonal is each policy on its own samples.
  DoubleMatrix logprobs = {{-10, -14, -12}, {-12, -9, -15}, {-11, -16, -8}};
  // R[i][j] = 0.1·(LP[j][j] − LP[i][j]).
  DoubleMatrix expected = {{0.0, 0.5, 0.4}, {0.2, 0.0, 0.7}, {0.1, 0.7, 0.0}};
  DoubleMatrix r = klRegretMatrix(logprobs, 0.1);
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(r[i][i], 0.0);
    for (size_t j = 0; j < 3; ++j)
      EXPECT_NEAR(r[i][j], expected[i][j], 1e-14) << i << ", " << j;
  }
}

TEST(MinMaxRegret, KlRegretMatrixIsBetaTimesKlOfTheAnsweringPolicy) {
  // Three policies over three answers of one prompt, with the log-probs taken as exact expectations:
  // LP[i][j] = Σ_y π_j(y) log π_i(y). Then R[i][j] must be β·KL(π_j ‖ π_i), summed directly.
  std::vector<std::vector<double>> pi = {{0.7, 0.2, 0.1}, {0.1, 0.6, 0.3}, {0.3, 0.3, 0.4}};
  const double beta = 0.25;
  DoubleMatrix logprobs(3, std::vector<double>(3, 0.0));
  for (size_t i = 0; i < 3; ++i)
    for (size_t j = 0; j < 3; ++j)
      for (size_t y = 0; y < 3; ++y)
        logprobs[i][j] += pi[j][y] * std::log(pi[i][y]);
  DoubleMatrix r = klRegretMatrix(logprobs, beta);
  for (size_t i = 0; i < 3; ++i)
    for (size_t j = 0; j < 3; ++j) {
      double kl = 0; // KL(π_j ‖ π_i)
      for (size_t y = 0; y < 3; ++y)
        kl += pi[j][y] * std::log(pi[j][y] / pi[i][y]);
      EXPECT_NEAR(r[i][j], beta * kl, 1e-14) << i << ", " << j;
      if (i != j)
        EXPECT_GT(r[i][j], 0.0);
    }
  // Not symmetric: KL(π_0 ‖ π_1) ≠ KL(π_1 ‖ π_0), and the answering policy is the column.
  EXPECT_GT(std::abs(r[0][1] - r[1][0]), 1e-3);
}

TEST(MinMaxRegret, GameMatrixWeightsRowsAndAppendsTheDummy) {
  DoubleMatrix r = {{0.0, 1.5, -0.5}, {2.0, 0.0, 1.0}, {0.25, 4.0, 0.0}};
  DoubleMatrix g = gameMatrix(r, true, {2.0, 0.5, 0.0});
  DoubleMatrix expected = {{0.0, 3.0, -1.0}, {1.0, 0.0, 0.5}, {0.0, 0.0, 0.0}, {0.0, 0.0, 0.0}};
  ASSERT_EQ(g.size(), 4u);
  for (size_t i = 0; i < 4; ++i) {
    ASSERT_EQ(g[i].size(), 3u);
    for (size_t j = 0; j < 3; ++j)
      EXPECT_EQ(g[i][j], expected[i][j]) << i << ", " << j;
  }
  DoubleMatrix plain = gameMatrix(r, false, {1.0, 1.0, 1.0});
  EXPECT_EQ(plain, r);
}

TEST(MinMaxRegret, MixtureRegretsByHand) {
  DoubleMatrix r = {{0.0, 1.0, 3.0}, {2.0, 0.0, 1.0}};
  std::vector<double> per = mixtureRegrets(r, {0.5, 0.25, 0.25});
  ASSERT_EQ(per.size(), 2u);
  EXPECT_NEAR(per[0], 0.25 + 0.75, 1e-15);
  EXPECT_NEAR(per[1], 1.0 + 0.25, 1e-15);
}

//===----------------------------------------------------------------------===//
// Optimistic Hedge
//===----------------------------------------------------------------------===//

TEST(MinMaxRegret, HedgeFirstTwoStepsAreTheStatedUpdates) {
  // The updates of docs/methods.md §3.6 written out with plain exponentials: x_0, y_0 uniform; step 1 uses the
  // start's payoffs for both t − 1 and t − 2; step 2 uses 2·(payoff of step 1) − (payoff of the start).
  DoubleMatrix g = {{1.0, -0.5}, {0.2, 0.8}, {-0.3, 0.1}};
  const double eta = 2.0; // large, so each rule's effect shows well above the tolerance
  auto rowPayoff = [&](const std::vector<double> &y) { // G y
    std::vector<double> out(3);
    for (size_t i = 0; i < 3; ++i)
      out[i] = g[i][0] * y[0] + g[i][1] * y[1];
    return out;
  };
  auto columnPayoff = [&](const std::vector<double> &x) { // Gᵀ x
    std::vector<double> out(2, 0.0);
    for (size_t i = 0; i < 3; ++i)
      for (size_t j = 0; j < 2; ++j)
        out[j] += g[i][j] * x[i];
    return out;
  };
  auto step = [&](const std::vector<double> &prev, const std::vector<double> &last, const std::vector<double> &before,
                  double sign) {
    std::vector<double> out(prev.size());
    for (size_t k = 0; k < prev.size(); ++k)
      out[k] = prev[k] * std::exp(sign * (2 * eta * last[k] - eta * before[k]));
    double total = sum(out);
    for (double &v : out)
      v /= total;
    return out;
  };
  std::vector<double> x0(3, 1.0 / 3), y0(2, 0.5);
  std::vector<double> x1 = step(x0, rowPayoff(y0), rowPayoff(y0), +1);
  std::vector<double> y1 = step(y0, columnPayoff(x0), columnPayoff(x0), -1);
  std::vector<double> x2 = step(x1, rowPayoff(y1), rowPayoff(y0), +1);
  std::vector<double> y2 = step(y1, columnPayoff(x1), columnPayoff(x0), -1);

  HedgeSolution one = optimisticHedge(g, 1, eta);
  for (size_t j = 0; j < 2; ++j)
    EXPECT_NEAR(one.weights[j], y1[j], 1e-14);
  for (size_t i = 0; i < 3; ++i)
    EXPECT_NEAR(one.rowWeights[i], x1[i], 1e-14);
  EXPECT_NEAR(one.value, worstRow(g, y1), 1e-14);

  // Averaged over t = 1..T: the uniform start is not part of the average.
  HedgeSolution two = optimisticHedge(g, 2, eta);
  std::vector<double> yBar = {(y1[0] + y2[0]) / 2, (y1[1] + y2[1]) / 2};
  for (size_t j = 0; j < 2; ++j)
    EXPECT_NEAR(two.weights[j], yBar[j], 1e-14);
  for (size_t i = 0; i < 3; ++i)
    EXPECT_NEAR(two.rowWeights[i], (x1[i] + x2[i]) / 2, 1e-14);
  EXPECT_NEAR(two.value, worstRow(g, yBar), 1e-14);
  // The test can tell the rules apart: step 1 moves both players, and step 2 differs from a plain Hedge step
  // (one that ignores the payoff of t − 2).
  EXPECT_GT(std::abs(y1[0] - 0.5), 5e-2);
  EXPECT_GT(std::abs(x1[1] - 1.0 / 3), 1e-1);
  std::vector<double> y2Plain = step(y1, columnPayoff(x1), columnPayoff(x1), -1);
  EXPECT_GT(std::abs(y2Plain[0] - y2[0]), 1e-2);
}

TEST(MinMaxRegret, HedgeSolvesMatchingPennies) {
  // min_p max(p, 1 − p) = 0.5 at p = 0.5; the row player also mixes evenly.
  HedgeSolution s = optimisticHedge({{1.0, 0.0}, {0.0, 1.0}});
  expectDistribution(s.weights, 2);
  expectDistribution(s.rowWeights, 2);
  EXPECT_NEAR(s.weights[0], 0.5, 1e-3);
  EXPECT_NEAR(s.rowWeights[0], 0.5, 1e-3);
  EXPECT_NEAR(s.value, 0.5, 2e-3);
  EXPECT_GE(s.value, 0.5 - 1e-12); // max_i (G w)_i can never be below the game's value
}

TEST(MinMaxRegret, HedgeSolvesAnAsymmetricTwoByTwo) {
  // G = [[3, 1], [0, 2]], w = (p, 1 − p): rows give 1 + 2p and 2 − 2p, equal at p = 1/4, value 3/2; no pure
  // saddle (columns' worst rows are 3 and 2). The row player's x = (q, 1 − q) equalises 3q = q + 2(1 − q): q = 1/2.
  HedgeSolution s = optimisticHedge({{3.0, 1.0}, {0.0, 2.0}});
  EXPECT_NEAR(s.weights[0], 0.25, 1e-3);
  EXPECT_NEAR(s.weights[1], 0.75, 1e-3);
  EXPECT_NEAR(s.rowWeights[0], 0.5, 2e-3);
  EXPECT_NEAR(s.value, 1.5, 2e-3);
  EXPECT_GE(s.value, 1.5 - 1e-12);
}

TEST(MinMaxRegret, HedgeMatchesBruteForceOnRandomThreeColumnGames) {
  struct Case {
    size_t rows;
    uint64_t seed;
  };
  for (Case c : {Case{3, 1}, Case{3, 2}, Case{3, 3}, Case{4, 4}, Case{4, 5}, Case{4, 6}}) {
    SCOPED_TRACE("rows " + std::to_string(c.rows) + ", seed " + std::to_string(c.seed));
    DoubleMatrix g = randomGame(c.rows, 3, c.seed);
    double optimum = gridValue(g, 500); // simplex step 0.002
    HedgeSolution s = optimisticHedge(g);
    expectDistribution(s.weights, 3);
    expectDistribution(s.rowWeights, c.rows);
    EXPECT_NEAR(s.value, optimum, 2e-3);
    // The reported value is what the reported w achieves, recomputed here.
    EXPECT_NEAR(worstRow(g, s.weights), s.value, 1e-12);
    EXPECT_LE(worstRow(g, s.weights), optimum + 2e-3);
    // The averaged row strategy guarantees nearly as much (a small duality gap brackets the value).
    double lower = worstColumn(g, s.rowWeights);
    EXPECT_LE(lower, optimum + 1e-12);
    EXPECT_LE(s.value - lower, 4e-3);
  }
}

TEST(MinMaxRegret, HedgeGivesADominatedPolicyNoWeight) {
  // Policy 2 costs every type 0.3 more than policy 0; the rest is a game with an interior solution.
  DoubleMatrix g = {{0.2, 0.9, 0.5}, {0.8, 0.1, 1.1}, {0.5, 0.5, 0.8}};
  HedgeSolution s = optimisticHedge(g);
  EXPECT_LT(s.weights[2], 0.01);
  EXPECT_NEAR(s.value, gridValue(g, 500), 2e-3);
}

TEST(MinMaxRegret, HedgeFindsAPolicyBestForEveryTypeWithTheDummyRow) {
  // The recipe's shape: 4 types (+ the dummy row) × 4 policies, default steps and η. Policy 2 has zero regret
  // for every type, so the min-max mixture is policy 2 alone, value 0.
  DoubleMatrix r = {{0.0, 0.7, 0.0, 0.4}, {0.3, 0.0, 0.0, 0.9}, {0.6, 0.2, 0.0, 0.5}, {0.8, 0.4, 0.0, 0.0}};
  DoubleMatrix g = gameMatrix(r, true, {1.0, 1.0, 1.0, 1.0});
  ASSERT_EQ(g.size(), 5u);
  HedgeSolution s = optimisticHedge(g);
  expectDistribution(s.weights, 4);
  expectDistribution(s.rowWeights, 5);
  EXPECT_GT(s.weights[2], 0.99);
  EXPECT_GE(s.value, 0.0);
  EXPECT_LT(s.value, 2e-3);
  // regret_by_type of that mixture, and the value as the worst of them (the dummy contributes 0).
  std::vector<double> per = mixtureRegrets(r, s.weights);
  EXPECT_NEAR(std::max(0.0, *std::max_element(per.begin(), per.end())), s.value, 1e-12);
}

TEST(MinMaxRegret, HedgeWeightsSurviveLargePayoffs) {
  // The updates depend on η·G only: G·1000 with η/1000 must give the same iterates; with the default η it
  // drives log-weights thousands of units apart, which the log-space weights keep finite.
  DoubleMatrix g = randomGame(3, 3, 7);
  DoubleMatrix big = g;
  for (auto &row : big)
    for (double &v : row)
      v *= 1000;
  const double eta = hedgeDefaultEta(kHedgeDefaultSteps);
  HedgeSolution s = optimisticHedge(g, kHedgeDefaultSteps, eta);
  HedgeSolution scaled = optimisticHedge(big, kHedgeDefaultSteps, eta / 1000);
  for (size_t j = 0; j < 3; ++j)
    EXPECT_NEAR(scaled.weights[j], s.weights[j], 1e-9);
  EXPECT_NEAR(scaled.value / 1000, s.value, 1e-9);

  HedgeSolution hard = optimisticHedge(big);
  expectDistribution(hard.weights, 3);
  expectDistribution(hard.rowWeights, 3);
  EXPECT_TRUE(std::isfinite(hard.value));
  EXPECT_GE(hard.value, gridValue(big, 500) - 1000.0 / 500); // never below the value (the grid is within max|G|/n)
}

//===----------------------------------------------------------------------===//
// Errors
//===----------------------------------------------------------------------===//

TEST(MinMaxRegret, RejectsBadInputs) {
  DoubleMatrix square = {{0.0, 1.0}, {1.0, 0.0}};
  EXPECT_THROW(regretMatrix({}), Error);
  EXPECT_THROW(regretMatrix({{1.0, 2.0, 3.0}, {4.0, 5.0, 6.0}}), Error); // 2 × 3
  EXPECT_THROW(regretMatrix({{1.0, 2.0}, {4.0}}), Error);                // ragged
  EXPECT_THROW(regretMatrix({{1.0, kNaN}, {4.0, 5.0}}), Error);
  EXPECT_THROW(regretMatrix({{1.0, 2.0}, {-kInf, 5.0}}), Error);
  try {
    regretMatrix({{1.0, 2.0}, {kNaN, 5.0}});
    FAIL() << "no error";
  } catch (const Error &e) {
    EXPECT_NE(std::string(e.what()).find("logRatios[1][0]"), std::string::npos) << e.what();
  }

  EXPECT_THROW(klRegretMatrix({{1.0, 2.0, 3.0}}, 0.1), Error);
  EXPECT_THROW(klRegretMatrix({{1.0, kInf}, {4.0, 5.0}}, 0.1), Error);
  EXPECT_THROW(klRegretMatrix(square, 0.0), Error);
  EXPECT_THROW(klRegretMatrix(square, -0.1), Error);
  EXPECT_THROW(klRegretMatrix(square, kNaN), Error);

  EXPECT_THROW(gameMatrix(square, true, {1.0}), Error);
  EXPECT_THROW(gameMatrix(square, true, {1.0, 1.0, 1.0}), Error);
  EXPECT_THROW(gameMatrix(square, true, {1.0, -0.5}), Error);
  EXPECT_THROW(gameMatrix(square, true, {1.0, kNaN}), Error);
  EXPECT_THROW(gameMatrix(square, false, {kInf, 1.0}), Error);
  EXPECT_THROW(gameMatrix({{0.0, kNaN}, {1.0, 0.0}}, true, {1.0, 1.0}), Error);
  EXPECT_NO_THROW(gameMatrix(square, true, {0.0, 2.0}));

  EXPECT_THROW(optimisticHedge(square, 0), Error);
  EXPECT_THROW(optimisticHedge(square, -5), Error);
  EXPECT_THROW(optimisticHedge(square, 10, 0.0), Error);
  EXPECT_THROW(optimisticHedge(square, 10, -1.0), Error);
  EXPECT_THROW(optimisticHedge(square, 10, kNaN), Error);
  EXPECT_THROW(optimisticHedge(square, 10, kInf), Error);
  EXPECT_THROW(optimisticHedge({}, 10), Error);
  EXPECT_THROW(optimisticHedge({{}}, 10), Error);
  EXPECT_THROW(optimisticHedge({{1.0, 2.0}, {3.0}}, 10), Error);
  EXPECT_THROW(optimisticHedge({{1.0, kNaN}, {3.0, 4.0}}, 10), Error);
  EXPECT_THROW(hedgeDefaultEta(0), Error);

  EXPECT_THROW(mixtureRegrets(square, {1.0}), Error);
  EXPECT_THROW(mixtureRegrets(square, {0.5, 0.4}), Error);
  EXPECT_THROW(mixtureRegrets(square, {1.5, -0.5}), Error);
  EXPECT_THROW(mixtureRegrets(square, {kNaN, 1.0}), Error);
  EXPECT_THROW(mixtureRegrets({{0.0, 1.0}, {1.0}}, {0.5, 0.5}), Error);
}
