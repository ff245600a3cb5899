//===- MinMaxRegret.cpp - MMRA's regret matrix and its min-max solver -----===//
//
// Plain loops over small matrices. The solver is the only part that runs long (T = 100000 steps): each step
// is two matrix-vector products and rows + columns exponentials, on log-weights shifted to a maximum of 0, so
// a strategy that loses for the whole run goes to a weight of exactly 0 instead of overflowing its rivals.
//
//===----------------------------------------------------------------------===//

#include "aggregate/MinMaxRegret.h"

#include "align/rt/Error.h"

#include <algorithm>
#include <cmath>
#include <sstream>
#include <string>

namespace align::rt {

namespace {

/// 0.5 → "0.5", not std::to_string's "0.500000".
std::string number(double value) {
  std::ostringstream out;
  out << value;
  return out.str();
}

std::string entry(const char *name, size_t row, size_t column) {
  return std::string(name) + "[" + std::to_string(row) + "][" + std::to_string(column) + "]";
}

/// Non-empty, every row as long as the first (and non-empty), every entry finite.
void requireMatrix(const char *function, const char *name, const DoubleMatrix &m) {
  if (m.empty() || m.front().empty())
    throw Error(std::string(function) + ": " + name + " is empty");
  for (size_t i = 0; i < m.size(); ++i) {
    if (m[i].size() != m.front().size())
      throw Error(std::string(function) + ": " + name + " row " + std::to_string(i) + " has " +
                  std::to_string(m[i].size()) + " entries but row 0 has " + std::to_string(m.front().size()));
    for (size_t j = 0; j < m[i].size(); ++j)
      if (!std::isfinite(m[i][j]))
        throw Error(std::string(function) + ": " + entry(name, i, j) + " is " + number(m[i][j]) +
                    "; every entry must be finite");
  }
}

void requireSquare(const char *function, const char *name, const DoubleMatrix &m) {
  requireMatrix(function, name, m);
  if (m.size() != m.front().size())
    throw Error(std::string(function) + ": " + name + " is " + std::to_string(m.size()) + " × " +
                std::to_string(m.front().size()) + "; it must be K × K (one row and one column per type)");
}

/// weights ∝ exp(logWeights), in place; the logs are shifted so their maximum is 0 (bounded for any T).
void normalise(std::vector<double> &logWeights, std::vector<double> &weights) {
  double top = *std::max_element(logWeights.begin(), logWeights.end());
  double total = 0;
  for (size_t k = 0; k < logWeights.size(); ++k) {
    logWeights[k] -= top;
    weights[k] = std::exp(logWeights[k]);
    total += weights[k];
  }
  for (double &w : weights) // total ≥ 1: the maximum contributes exp(0)
    w /= total;
}

} // namespace

//===----------------------------------------------------------------------===//
// Regret matrices
//===----------------------------------------------------------------------===//

DoubleMatrix regretMatrix(const DoubleMatrix &logRatios) {
  requireSquare("regretMatrix", "logRatios", logRatios);
  const size_t types = logRatios.size();
  DoubleMatrix regret(types, std::vector<double>(types));
  for (size_t i = 0; i < types; ++i)
    for (size_t j = 0; j < types; ++j)
      regret[i][j] = logRatios[i][i] - logRatios[i][j];
  return regret;
}

DoubleMatrix klRegretMatrix(const DoubleMatrix &logprobs, double beta) {
  requireSquare("klRegretMatrix", "logprobs", logprobs);
  if (!(beta > 0) || !std::isfinite(beta))
    throw Error("klRegretMatrix: beta must be a positive number, got " + number(beta));
  const size_t types = logprobs.size();
  DoubleMatrix regret(types, std::vector<double>(types));
  // Column j holds π_j's samples: LP[j][j] − LP[i][j] estimates KL(π_j ‖ π_i).
  for (size_t i = 0; i < types; ++i)
    for (size_t j = 0; j < types; ++j)
      regret[i][j] = beta * (logprobs[j][j] - logprobs[i][j]);
  return regret;
}

//===----------------------------------------------------------------------===//
// The game and its solution
//===----------------------------------------------------------------------===//

DoubleMatrix gameMatrix(const DoubleMatrix &regret, bool dummy, const std::vector<double> &regretWeights) {
  requireMatrix("gameMatrix", "regret", regret);
  if (regretWeights.size() != regret.size())
    throw Error("gameMatrix: " + std::to_string(regretWeights.size()) + " regret weights for " +
                std::to_string(regret.size()) + " types; give one per type");
  for (size_t k = 0; k < regretWeights.size(); ++k)
    if (!(regretWeights[k] >= 0) || !std::isfinite(regretWeights[k]))
      throw Error("gameMatrix: regret weight " + std::to_string(k) + " is " + number(regretWeights[k]) +
                  "; each must be a finite number ≥ 0");
  DoubleMatrix game = regret;
  for (size_t k = 0; k < game.size(); ++k)
    for (double &g : game[k])
      g *= regretWeights[k];
  if (dummy)
    game.push_back(std::vector<double>(regret.front().size(), 0.0));
  return game;
}

double hedgeDefaultEta(int64_t steps) {
  if (steps < 1)
    throw Error("hedgeDefaultEta: steps must be ≥ 1, got " + std::to_string(steps));
  return 5.0 / std::sqrt(static_cast<double>(steps));
}

HedgeSolution optimisticHedge(const DoubleMatrix &game, int64_t steps, std::optional<double> eta) {
  requireMatrix("optimisticHedge", "game", game);
  if (steps < 1)
    throw Error("optimisticHedge: steps must be ≥ 1, got " + std::to_string(steps));
  const double step = eta ? *eta : hedgeDefaultEta(steps);
  if (!(step > 0) || !std::isfinite(step))
    throw Error("optimisticHedge: eta must be a positive number, got " + number(step));

  const size_t rows = game.size(), columns = game.front().size();
  std::vector<double> logX(rows, 0.0), x(rows, 1.0 / rows);          // row player: types (+ dummy), maximising
  std::vector<double> logY(columns, 0.0), y(columns, 1.0 / columns); // column player: policies, minimising
  // Payoff vectors against the opponent's last two iterates: gy1 = G y_{t−1}, gy2 = G y_{t−2} [rows];
  // gx1 = Gᵀ x_{t−1}, gx2 = Gᵀ x_{t−2} [columns]. At t = 1 both are the uniform start's.
  std::vector<double> gy1(rows), gy2(rows), gx1(columns), gx2(columns);
  auto payoffs = [&] {
    for (size_t i = 0; i < rows; ++i) {
      double sum = 0;
      for (size_t j = 0; j < columns; ++j)
        sum += game[i][j] * y[j];
      gy1[i] = sum;
    }
    std::fill(gx1.begin(), gx1.end(), 0.0);
    for (size_t i = 0; i < rows; ++i)
      for (size_t j = 0; j < columns; ++j)
        gx1[j] += game[i][j] * x[i];
  };
  payoffs();
  gy2 = gy1;
  gx2 = gx1;

  std::vector<double> sumX(rows, 0.0), sumY(columns, 0.0);
  for (int64_t t = 1; t <= steps; ++t) {
    for (size_t i = 0; i < rows; ++i)
      logX[i] += 2 * step * gy1[i] - step * gy2[i];
    for (size_t j = 0; j < columns; ++j)
      logY[j] += -2 * step * gx1[j] + step * gx2[j];
    normalise(logX, x);
    normalise(logY, y);
    for (size_t i = 0; i < rows; ++i)
      sumX[i] += x[i];
    for (size_t j = 0; j < columns; ++j)
      sumY[j] += y[j];
    gy2.swap(gy1);
    gx2.swap(gx1);
    payoffs(); // gy1 = G y_t, gx1 = Gᵀ x_t: the "previous" payoffs of step t + 1
  }

  HedgeSolution solution;
  solution.weights.resize(columns);
  solution.rowWeights.resize(rows);
  for (size_t j = 0; j < columns; ++j)
    solution.weights[j] = sumY[j] / steps;
  for (size_t i = 0; i < rows; ++i)
    solution.rowWeights[i] = sumX[i] / steps;
  solution.value = -HUGE_VAL;
  for (size_t i = 0; i < rows; ++i) {
    double sum = 0;
    for (size_t j = 0; j < columns; ++j)
      sum += game[i][j] * solution.weights[j];
    solution.value = std::max(solution.value, sum);
  }
  return solution;
}

std::vector<double> mixtureRegrets(const DoubleMatrix &regret, const std::vector<double> &weights) {
  requireMatrix("mixtureRegrets", "regret", regret);
  if (weights.size() != regret.front().size())
    throw Error("mixtureRegrets: " + std::to_string(weights.size()) + " weights for " +
                std::to_string(regret.front().size()) + " policies; give one per policy");
  double total = 0;
  for (size_t j = 0; j < weights.size(); ++j) {
    if (!(weights[j] >= 0) || !std::isfinite(weights[j]))
      throw Error("mixtureRegrets: weight " + std::to_string(j) + " is " + number(weights[j]) +
                  "; each must be a finite number ≥ 0");
    total += weights[j];
  }
  if (std::abs(total - 1) > 1e-6)
    throw Error("mixtureRegrets: the weights sum to " + number(total) + ", not 1");
  std::vector<double> out(regret.size(), 0.0);
  for (size_t k = 0; k < regret.size(); ++k)
    for (size_t j = 0; j < weights.size(); ++j)
      out[k] += weights[j] * regret[k][j];
  return out;
}

} // namespace align::rt
