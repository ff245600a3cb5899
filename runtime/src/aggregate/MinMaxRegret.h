//===- MinMaxRegret.h - MMRA's regret matrix and its min-max solver -*- C++ -*-===//
//
// Min-max-regret aggregation (docs/methods.md §3.5-3.6) turns K type policies π_1..π_K into one mixture
// π_w = Σ_j w_j π_j that minimises the worst (weighted) regret over the types:
//   min_{w ∈ Δ_K} max_k c_k · Σ_j w_j · R[k, j],
// where R[i, j] is type i's regret when policy j answers. This file is the numeric core: the regret matrix from
// the log-probs the trainer measured on each policy's samples, the game matrix (weights c, the dummy row), and
// optimistic Hedge on that game. The trainer samples and scores; nothing here touches a model.
//
// Matrices are std::vector<std::vector<double>> (row-major, matrix[row][column]) rather than float64 tensors:
// K is a handful of types, and the solver runs 100000 sequential steps of K×K products, where the dispatch
// of a few torch ops per step would cost seconds and plain loops cost milliseconds. The results go straight
// into eval.json as lists of numbers. No torch header is needed.
//
//===----------------------------------------------------------------------===//
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

namespace align::rt {

/// matrix[row][column]; every row the same length.
using DoubleMatrix = std::vector<std::vector<double>>;

//===----------------------------------------------------------------------===//
// Regret matrices, K × K (row i: a type, column j: the policy that answered)
//===----------------------------------------------------------------------===//

/// The authors' estimator (docs/methods.md §3.5), on log-ratios. Input L [K, K]:
///   L[i][j] = mean over prompts x of [log π_i(y_j|x) − log π_ref(y_j|x)],   y_j ~ π_j(·|x),
/// type i's implicit reward divided by β on policy j's samples. Returns R [K, K]:
///   R[i][j] = L[i][i] − L[i][j]
/// (type i's reward on its own policy's answers minus on policy j's; the diagonal is exactly 0; in units of
/// reward/β). Errors: empty, not square, a non-finite entry.
DoubleMatrix regretMatrix(const DoubleMatrix &logRatios);

/// The exact KL-regularised regret, estimated on the same samples. Under the DPO reparameterisation
/// r_i = β·log(π_i/π_ref) + β·log Z_i(x), π_i maximises J_i(π) = E_π[r_i] − β·KL(π ‖ π_ref), and
/// J_i(π) = β·log Z_i − β·KL(π ‖ π_i); so type i's regret of policy j is
///   J_i(π_i) − J_i(π_j) = β·KL(π_j ‖ π_i) = β·E_{y ~ π_j}[log π_j(y|x) − log π_i(y|x)]
/// (log Z_i and π_ref cancel). Input LP [K, K] of policy log-probs (not ratios):
///   LP[i][j] = mean over prompts x of log π_i(y_j|x),   y_j ~ π_j(·|x),
/// and β > 0. Returns R [K, K], R[i][j] = β·(LP[j][j] − LP[i][j]): in reward units, diagonal exactly 0; an
/// off-diagonal estimate can be slightly negative on few samples (KL itself cannot).
/// The min-max w is unchanged by scaling R, but Hedge's step acts on η·R, so this matrix (reward units) and
/// regretMatrix's (reward/β) want different η for the same convergence. Errors: as regretMatrix, β ≤ 0.
DoubleMatrix klRegretMatrix(const DoubleMatrix &logprobs, double beta);

//===----------------------------------------------------------------------===//
// The game and its solution
//===----------------------------------------------------------------------===//

/// The game the row player (types, maximising) and the column player (policies, minimising) play:
/// G [K (+1), K'] with G[k][j] = c_k · R[k][j], plus a zero row appended when `dummy` is true (the recipe's
/// default; it makes the inner max ≥ 0, so a mixture earns no credit for a negative regret). R is any non-empty
/// K × K' matrix. Errors: R empty, ragged or non-finite; c's size ≠ K; a negative or non-finite c_k.
DoubleMatrix gameMatrix(const DoubleMatrix &regret, bool dummy, const std::vector<double> &regretWeights);

/// The recipe's defaults (docs/methods.md §3.6): T = 100000 steps, η = 5/√T.
constexpr int64_t kHedgeDefaultSteps = 100000;
double hedgeDefaultEta(int64_t steps); ///< 5/√steps; an Error for steps < 1

struct HedgeSolution {
  std::vector<double> weights;    ///< [K'] the column player's time-averaged y: the mixture w over policies
  std::vector<double> rowWeights; ///< [rows] the row player's time-averaged x (types, then the dummy)
  double value = 0;               ///< max_row (G·w)_row: the worst weighted regret of the mixture w
};

/// Optimistic Hedge on G [rows, K'] (docs/methods.md §3.6). Both players start uniform (x_0, y_0) and step
/// simultaneously, each against the other's previous two iterates:
///   x_t ∝ x_{t−1} · exp(2η · G y_{t−1} − η · G y_{t−2}),
///   y_t ∝ y_{t−1} · exp(−2η · Gᵀ x_{t−1} + η · Gᵀ x_{t−2}),
/// with y_{−1} = y_0 and x_{−1} = x_0 at t = 1 (so the first step is plain Hedge with step η). `weights` and
/// `rowWeights` average the iterates t = 1..T (not the uniform start). The weights are kept as logs, shifted
/// to a maximum of 0 each step, so no T overflows or underflows (a strategy's weight may reach exactly 0).
/// eta defaults to hedgeDefaultEta(steps). Errors: G empty, ragged or non-finite; steps < 1; η ≤ 0 or
/// non-finite.
HedgeSolution optimisticHedge(const DoubleMatrix &game, int64_t steps = kHedgeDefaultSteps,
                              std::optional<double> eta = std::nullopt);

/// Each type's regret under the mixture w (eval.json's regret_by_type): [K], Σ_j w_j · R[k][j].
/// Errors: R empty, ragged or non-finite; w's size ≠ R's columns; w negative, non-finite, or not summing to 1
/// (within 1e-6).
std::vector<double> mixtureRegrets(const DoubleMatrix &regret, const std::vector<double> &weights);

} // namespace align::rt
