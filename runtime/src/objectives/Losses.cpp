//===- Losses.cpp - Training objectives on log-probs and scores -----------===//
//
// Two rules run through this file. (1) Masked-out entries are selected out with torch::where *before* any
// arithmetic that could turn them into NaN: where's backward sends exact zeros to the unselected branch,
// but a NaN or ±inf that reached a product would turn 0·∞ into NaN in the gradient. (2) Reductions that
// may see no selected entry divide by max(count, 1), which yields a zero that is still connected to the
// graph, so a micro-batch without (say) generic rows or above-threshold responses backpropagates zeros
// instead of NaNs or an "element 0 of tensors does not require grad" error.
//
// The formulas follow TRL 1.16 (trl/trainer/dpo_trainer.py `_compute_loss`, trl/experimental/cpo/
// cpo_trainer.py `cpo_loss`, trl/trainer/reward_trainer.py `compute_loss`) and the papers' code as summarised
// in docs/methods.md; each function's comment in Losses.h says which and where they differ.
//
//===----------------------------------------------------------------------===//

#include "objectives/Losses.h"

#include "align/rt/Error.h"

#include <cmath>
#include <sstream>
#include <string>

namespace align::rt {

namespace {

std::string shapeOf(const torch::Tensor &t) {
  std::ostringstream out;
  out << '[';
  for (int64_t d = 0; d < t.dim(); ++d)
    out << (d ? ", " : "") << t.size(d);
  out << ']';
  return out.str();
}

void requireTensor(const char *function, const char *name, const torch::Tensor &t, int64_t rank,
                   bool floating = false) {
  if (!t.defined())
    throw Error(std::string(function) + ": " + name + " is missing (an undefined tensor)");
  if (t.dim() != rank)
    throw Error(std::string(function) + ": " + name + " has shape " + shapeOf(t) + ", expected " +
                std::to_string(rank) + " dimension" + (rank == 1 ? "" : "s"));
  if (floating && !t.is_floating_point())
    throw Error(std::string(function) + ": " + name + " must be floating point, got " +
                std::string(c10::toString(t.scalar_type())));
}

void requireSameShape(const char *function, const char *nameA, const torch::Tensor &a, const char *nameB,
                      const torch::Tensor &b) {
  if (!a.sizes().equals(b.sizes()))
    throw Error(std::string(function) + ": " + nameB + " has shape " + shapeOf(b) + " but " + nameA + " has " +
                shapeOf(a) + "; they must match");
}

/// 0.5 → "0.5", not std::to_string's "0.500000".
std::string number(double value) {
  std::ostringstream out;
  out << value;
  return out.str();
}

void requirePositive(const char *function, const char *name, double value) {
  if (!(value > 0) || !std::isfinite(value))
    throw Error(std::string(function) + ": " + name + " must be a positive number, got " + number(value));
}

void requireInRange(const char *function, const char *name, double value, double low, double high,
                    bool highIncluded) {
  bool ok = value >= low && (highIncluded ? value <= high : value < high);
  if (!ok)
    throw Error(std::string(function) + ": " + name + " must lie in [" + number(low) + ", " + number(high) +
                (highIncluded ? "]" : ")") + ", got " + number(value));
}

/// A mask of any dtype as bool: non-zero selects.
torch::Tensor selection(const torch::Tensor &mask) { return mask.scalar_type() == torch::kBool ? mask : mask != 0; }

/// float16/bfloat16 → float32; float32 and float64 are kept (the float64 tests and the TRL peer need them).
torch::Tensor atLeastFloat32(const torch::Tensor &t) {
  auto type = t.scalar_type();
  return type == torch::kHalf || type == torch::kBFloat16 ? t.to(torch::kFloat32) : t;
}

/// −(1−ε)·log σ(z) − ε·log σ(−z): the sigmoid loss with conservative label smoothing, in the order TRL
/// writes it. log_sigmoid is stable at any |z| (no exp overflow), unlike log(sigmoid(z)).
torch::Tensor smoothedSigmoidLoss(const torch::Tensor &z, double labelSmoothing) {
  torch::Tensor loss = -torch::log_sigmoid(z) * (1 - labelSmoothing);
  if (labelSmoothing != 0)
    loss = loss - torch::log_sigmoid(-z) * labelSmoothing;
  return loss;
}

void checkPreferenceLogprobs(const char *function, const PreferenceLogprobs &logps) {
  requireTensor(function, "policyChosen", logps.policyChosen, 1, true);
  requireTensor(function, "policyRejected", logps.policyRejected, 1, true);
  requireTensor(function, "referenceChosen", logps.referenceChosen, 1, true);
  requireTensor(function, "referenceRejected", logps.referenceRejected, 1, true);
  requireSameShape(function, "policyChosen", logps.policyChosen, "policyRejected", logps.policyRejected);
  requireSameShape(function, "policyChosen", logps.policyChosen, "referenceChosen", logps.referenceChosen);
  requireSameShape(function, "policyChosen", logps.policyChosen, "referenceRejected", logps.referenceRejected);
}

/// log π − log π_ref for both sides. The reference is a constant of the objective (precomputed or run under
/// no_grad); detaching it here means a caller that forgot no_grad still trains only the policy.
std::pair<torch::Tensor, torch::Tensor> logRatios(const PreferenceLogprobs &logps) {
  return {logps.policyChosen - logps.referenceChosen.detach(),
          logps.policyRejected - logps.referenceRejected.detach()};
}

PreferenceLoss withRewards(torch::Tensor perExample, const torch::Tensor &chosen, const torch::Tensor &rejected,
                           double beta) {
  return {std::move(perExample), (beta * chosen).detach(), (beta * rejected).detach()};
}

} // namespace

//===----------------------------------------------------------------------===//
// Sequence log-probs
//===----------------------------------------------------------------------===//

torch::Tensor sequenceLogprobs(const torch::Tensor &tokenLogps, const torch::Tensor &mask) {
  requireTensor("sequenceLogprobs", "tokenLogps", tokenLogps, 2, true);
  requireTensor("sequenceLogprobs", "mask", mask, 2);
  requireSameShape("sequenceLogprobs", "tokenLogps", tokenLogps, "mask", mask);
  torch::Tensor logps = atLeastFloat32(tokenLogps);
  return torch::where(selection(mask), logps, 0.0).sum(1);
}

torch::Tensor tokenCounts(const torch::Tensor &mask, const torch::Tensor &like) {
  requireTensor("tokenCounts", "mask", mask, 2);
  return selection(mask).sum(1).to(atLeastFloat32(like).scalar_type());
}

torch::Tensor meanTokenLogprobs(const torch::Tensor &tokenLogps, const torch::Tensor &mask) {
  torch::Tensor sums = sequenceLogprobs(tokenLogps, mask);
  return sums / tokenCounts(mask, sums).clamp_min(1);
}

//===----------------------------------------------------------------------===//
// Pairwise preference losses
//===----------------------------------------------------------------------===//

PreferenceLoss dpoLoss(const PreferenceLogprobs &logps, double beta, double labelSmoothing) {
  checkPreferenceLogprobs("dpoLoss", logps);
  requirePositive("dpoLoss", "beta", beta);
  // The DSL allows ε ∈ [0, 0.5) (compiler/frontend/Schema.cpp); at 0.5 the loss no longer depends on h.
  requireInRange("dpoLoss", "labelSmoothing", labelSmoothing, 0.0, 0.5, false);
  auto [chosen, rejected] = logRatios(logps);
  torch::Tensor margin = chosen - rejected; // h
  return withRewards(smoothedSigmoidLoss(beta * margin, labelSmoothing), chosen, rejected, beta);
}

PreferenceLoss ipoLoss(const PreferenceLogprobs &logps, double beta, const torch::Tensor &chosenTokens,
                       const torch::Tensor &rejectedTokens) {
  checkPreferenceLogprobs("ipoLoss", logps);
  requirePositive("ipoLoss", "beta", beta);
  if (chosenTokens.defined() != rejectedTokens.defined())
    throw Error("ipoLoss: give token counts for both chosenTokens and rejectedTokens, or for neither");
  auto [chosen, rejected] = logRatios(logps);
  torch::Tensor chosenScore = chosen, rejectedScore = rejected;
  if (chosenTokens.defined()) {
    requireTensor("ipoLoss", "chosenTokens", chosenTokens, 1);
    requireTensor("ipoLoss", "rejectedTokens", rejectedTokens, 1);
    requireSameShape("ipoLoss", "policyChosen", logps.policyChosen, "chosenTokens", chosenTokens);
    requireSameShape("ipoLoss", "policyChosen", logps.policyChosen, "rejectedTokens", rejectedTokens);
    // TRL 1.16 divides each side's summed log-ratio by its completion length, clamped to ≥ 1 (dpo_trainer.py,
    // loss_type "ipo"; it says the IPO authors confirmed the paper's numbers use this normalised form).
    chosenScore = chosen / chosenTokens.to(chosen.scalar_type()).clamp_min(1);
    rejectedScore = rejected / rejectedTokens.to(rejected.scalar_type()).clamp_min(1);
  }
  torch::Tensor perExample = (chosenScore - rejectedScore - 1 / (2 * beta)).pow(2);
  return withRewards(perExample, chosen, rejected, beta);
}

PreferenceLoss hingeLoss(const PreferenceLogprobs &logps, double beta) {
  checkPreferenceLogprobs("hingeLoss", logps);
  requirePositive("hingeLoss", "beta", beta);
  auto [chosen, rejected] = logRatios(logps);
  return withRewards(torch::relu(1 - beta * (chosen - rejected)), chosen, rejected, beta);
}

PreferenceLoss simpoLoss(const torch::Tensor &policyChosenMean, const torch::Tensor &policyRejectedMean, double beta,
                         double gamma, double labelSmoothing) {
  requireTensor("simpoLoss", "policyChosenMean", policyChosenMean, 1, true);
  requireTensor("simpoLoss", "policyRejectedMean", policyRejectedMean, 1, true);
  requireSameShape("simpoLoss", "policyChosenMean", policyChosenMean, "policyRejectedMean", policyRejectedMean);
  requirePositive("simpoLoss", "beta", beta);
  if (!std::isfinite(gamma))
    throw Error("simpoLoss: gamma must be a finite number, got " + number(gamma));
  requireInRange("simpoLoss", "labelSmoothing", labelSmoothing, 0.0, 0.5, false);
  // β·Δ − γ; TRL writes β·(Δ − γ/β) (cpo_trainer.py, loss_type "simpo"), the same number.
  torch::Tensor logits = beta * (policyChosenMean - policyRejectedMean) - gamma;
  return withRewards(smoothedSigmoidLoss(logits, labelSmoothing), policyChosenMean, policyRejectedMean, beta);
}

//===----------------------------------------------------------------------===//
// Reductions
//===----------------------------------------------------------------------===//

torch::Tensor maskedMean(const torch::Tensor &values, const torch::Tensor &rows) {
  requireTensor("maskedMean", "values", values, 1, true);
  requireTensor("maskedMean", "rows", rows, 1);
  requireSameShape("maskedMean", "values", values, "rows", rows);
  torch::Tensor selected = selection(rows);
  return torch::where(selected, values, 0.0).sum() / selected.sum().to(values.scalar_type()).clamp_min(1);
}

torch::Tensor mixUserGeneric(const torch::Tensor &perExample, const torch::Tensor &isUser, double alpha) {
  requireInRange("mixUserGeneric", "alpha", alpha, 0.0, 1.0, true);
  torch::Tensor user = selection(isUser);
  // maskedMean of an empty kind is a zero: the term drops out, and the other keeps its coefficient (P-RLHF
  // does not renormalise; docs/methods.md §1.3).
  return alpha * maskedMean(perExample, user) + (1 - alpha) * maskedMean(perExample, user.logical_not());
}

torch::Tensor weightedMean(const torch::Tensor &perExample, const torch::Tensor &weights) {
  requireTensor("weightedMean", "perExample", perExample, 1, true);
  requireTensor("weightedMean", "weights", weights, 1);
  requireSameShape("weightedMean", "perExample", perExample, "weights", weights);
  return (weights.to(perExample.scalar_type()) * perExample).mean();
}

//===----------------------------------------------------------------------===//
// Reward-model losses
//===----------------------------------------------------------------------===//

torch::Tensor plackettLuceLogLikelihood(const torch::Tensor &rewards, const torch::Tensor &present) {
  requireTensor("plackettLuceLogLikelihood", "rewards", rewards, 2, true);
  requireTensor("plackettLuceLogLikelihood", "present", present, 2);
  requireSameShape("plackettLuceLogLikelihood", "rewards", rewards, "present", present);
  torch::Tensor ranked = selection(present);
  // An absent entry becomes a finite very negative reward: exp of it is exactly 0 in every sum, and unlike −inf
  // it keeps logcumsumexp's backward free of 0·∞ (a NaN reward is cut out of the graph by the where).
  const double absent = -1e30;
  torch::Tensor kept = torch::where(ranked, rewards, absent);
  // tail[b, j] = log Σ_{l ≥ j} exp(r_l): a cumulative logsumexp from the worst end.
  torch::Tensor tail = torch::logcumsumexp(kept.flip({1}), 1).flip({1});
  return torch::where(ranked, kept - tail, 0.0).sum(1);
}

torch::Tensor pairwiseLogLikelihood(const torch::Tensor &rewards, const torch::Tensor &present) {
  requireTensor("pairwiseLogLikelihood", "rewards", rewards, 2, true);
  requireTensor("pairwiseLogLikelihood", "present", present, 2);
  requireSameShape("pairwiseLogLikelihood", "rewards", rewards, "present", present);
  torch::Tensor ranked = selection(present);
  torch::Tensor kept = torch::where(ranked, rewards, 0.0);
  const int64_t width = rewards.size(1);
  // Index [b, i, j]: the pair where i is ranked above j (i < j), both present.
  torch::Tensor above = torch::ones({width, width}, torch::TensorOptions().dtype(torch::kBool).device(rewards.device()))
                            .triu(1);
  torch::Tensor counted = above.unsqueeze(0).logical_and(ranked.unsqueeze(2)).logical_and(ranked.unsqueeze(1));
  torch::Tensor margin = kept.unsqueeze(2) - kept.unsqueeze(1); // r_i − r_j
  return torch::where(counted, torch::log_sigmoid(margin), 0.0).sum({1, 2});
}

torch::Tensor bradleyTerryLoss(const torch::Tensor &chosenRewards, const torch::Tensor &rejectedRewards,
                               const torch::Tensor &margin) {
  requireTensor("bradleyTerryLoss", "chosenRewards", chosenRewards, 1, true);
  requireTensor("bradleyTerryLoss", "rejectedRewards", rejectedRewards, 1, true);
  requireSameShape("bradleyTerryLoss", "chosenRewards", chosenRewards, "rejectedRewards", rejectedRewards);
  torch::Tensor difference = chosenRewards - rejectedRewards;
  if (margin.defined()) {
    requireTensor("bradleyTerryLoss", "margin", margin, 1);
    requireSameShape("bradleyTerryLoss", "chosenRewards", chosenRewards, "margin", margin);
    difference = difference - margin.to(difference.scalar_type());
  }
  return -torch::log_sigmoid(difference);
}

PooledLoss rankingLoss(const torch::Tensor &scores, const torch::Tensor &labels) {
  requireTensor("rankingLoss", "scores", scores, 2, true);
  requireTensor("rankingLoss", "labels", labels, 2);
  requireSameShape("rankingLoss", "scores", scores, "labels", labels);
  torch::Tensor present = labels >= 0; // DSP pads missing responses with score −1
  // A padded response's score is whatever the model said about a pad sequence; cut it out of the graph.
  torch::Tensor kept = torch::where(present, scores, 0.0);
  // Index [b, i, j] is the ordered pair (i, j), as DSP's `logits.unsqueeze(1) - logits.unsqueeze(2)`.
  torch::Tensor scoreDiff = kept.unsqueeze(1) - kept.unsqueeze(2); // s_j − s_i
  torch::Tensor higher = labels.unsqueeze(1) > labels.unsqueeze(2); // y_j > y_i
  torch::Tensor lower = labels.unsqueeze(1) < labels.unsqueeze(2);
  torch::Tensor sign = higher.to(scores.scalar_type()) - lower.to(scores.scalar_type());
  torch::Tensor counted = higher.logical_or(lower).logical_and(present.unsqueeze(1)).logical_and(present.unsqueeze(2));
  torch::Tensor pairLoss = torch::where(counted, -torch::log_sigmoid(sign * scoreDiff), 0.0);
  return {pairLoss.sum({1, 2}), counted.sum({1, 2}).to(scores.scalar_type())};
}

PooledLoss regressionLoss(const torch::Tensor &predictions, const torch::Tensor &targets,
                          const torch::Tensor &present) {
  requireTensor("regressionLoss", "predictions", predictions, 2, true);
  requireTensor("regressionLoss", "targets", targets, 2, true);
  requireSameShape("regressionLoss", "predictions", predictions, "targets", targets);
  torch::Tensor counted = targets.isnan().logical_not();
  if (present.defined()) {
    requireTensor("regressionLoss", "present", present, 2);
    requireSameShape("regressionLoss", "predictions", predictions, "present", present);
    counted = counted.logical_and(selection(present));
  }
  // Replace missing targets before subtracting: (p − NaN)² would put 0·NaN into the prediction's gradient.
  torch::Tensor error = predictions - torch::where(counted, targets.to(predictions.scalar_type()), 0.0);
  torch::Tensor squared = torch::where(counted, error.pow(2), 0.0);
  return {squared.sum(1), counted.sum(1).to(predictions.scalar_type())};
}

PooledLoss nllLoss(const torch::Tensor &tokenLogps, const torch::Tensor &mask) {
  torch::Tensor sums = sequenceLogprobs(tokenLogps, mask);
  return {-sums, tokenCounts(mask, sums)};
}

torch::Tensor imitationLoss(const torch::Tensor &tokenLogps, const torch::Tensor &mask,
                            const torch::Tensor &normalizedScores, double threshold) {
  torch::Tensor perSequence = -meanTokenLogprobs(tokenLogps, mask);
  requireTensor("imitationLoss", "normalizedScores", normalizedScores, 1);
  if (normalizedScores.size(0) != tokenLogps.size(0))
    throw Error("imitationLoss: normalizedScores has shape " + shapeOf(normalizedScores) + " but tokenLogps has " +
                shapeOf(tokenLogps) + "; one score per sequence");
  return maskedMean(perSequence, normalizedScores > threshold);
}

} // namespace align::rt
