//===- Losses.h - Training objectives on log-probs and scores ---*- C++ -*-===//
//
// One definition of every objective the recipes name (dpo, ipo, hinge, simpo, the P-DPO mixing, EM-DPO's
// weights and ranking likelihoods, bt, rank_loss, regression, nll, imitation), written on tensors that the model already produced:
// token log-probs, sequence log-probs, reward scores. Each is differentiable with autograd and returns one
// loss per example (or per-example sums and counts where the batch mean pools over pairs, entries or tokens),
// so a generated trainer can weight, mix and sum them; the conventions (what is averaged over what, where
// TRL and the papers differ) are stated at each function and in docs/methods.md.
// tests/reference/test_losses_trl_peer.py holds DPO, IPO, hinge, SimPO and BT to TRL 1.16 on identical inputs.
//
//===----------------------------------------------------------------------===//
#pragma once

#include <torch/torch.h>

namespace align::rt {

//===----------------------------------------------------------------------===//
// Sequence log-probs from token log-probs
//===----------------------------------------------------------------------===//

/// Σ_t logp[b, t] over the tokens where mask[b, t] is set: [B, T] → [B]. The mask may be bool, integer or
/// floating (non-zero selects). Unselected positions are selected out rather than multiplied by zero, so a
/// padded position holding −inf or NaN changes neither the value nor any gradient. Half-precision inputs are
/// summed in float32 (a bf16 sum over hundreds of tokens loses two digits).
torch::Tensor sequenceLogprobs(const torch::Tensor &tokenLogps, const torch::Tensor &mask);

/// The length-normalised variant: the mean over selected tokens, [B] (SimPO's average log-prob). A row with
/// no selected token gives 0, where TRL's CPOTrainer.get_batch_logps would divide 0 by 0.
torch::Tensor meanTokenLogprobs(const torch::Tensor &tokenLogps, const torch::Tensor &mask);

/// The number of selected tokens per row, [B], in the log-probs' (float) dtype.
torch::Tensor tokenCounts(const torch::Tensor &mask, const torch::Tensor &like);

//===----------------------------------------------------------------------===//
// Pairwise preference losses on a policy and a reference
//===----------------------------------------------------------------------===//

/// Sequence log-probs (summed over the completion tokens) of a batch of preference pairs, each [B]. The
/// reference side is a constant of every objective below: it is detached, so gradients reach the policy only.
struct PreferenceLogprobs {
  torch::Tensor policyChosen, policyRejected;
  torch::Tensor referenceChosen, referenceRejected;
};

/// A pairwise loss per pair and the implicit rewards the trainers log.
struct PreferenceLoss {
  torch::Tensor perExample;      ///< [B], differentiable.
  torch::Tensor chosenRewards;   ///< [B], detached: β·(log π − log π_ref) (SimPO: β·mean token log π).
  torch::Tensor rejectedRewards; ///< [B], detached.
  torch::Tensor mean() const { return perExample.mean(); }
  /// Share of pairs whose chosen reward is strictly larger (TRL's `rewards/accuracies`).
  torch::Tensor rewardAccuracy() const { return (chosenRewards > rejectedRewards).to(chosenRewards.dtype()).mean(); }
};

/// DPO, sigmoid form with conservative label smoothing ε (cDPO):
///   ℓ = −(1−ε)·log σ(β·h) − ε·log σ(−β·h),  h = (log π_w − log π_ref,w) − (log π_l − log π_ref,l).
/// ε = 0 is plain DPO (docs/methods.md §5.2; TRL 1.16 dpo_trainer.py lines 1387-1388). TRL 1.16's DPOTrainer
/// no longer applies label_smoothing to loss_type="sigmoid"; this is the formula of its CPOTrainer.cpo_loss
/// (trl/experimental/cpo/cpo_trainer.py lines 723-728), as earlier TRL DPOTrainers applied it.
PreferenceLoss dpoLoss(const PreferenceLogprobs &logps, double beta, double labelSmoothing = 0.0);

/// IPO: ℓ = (h̄ − 1/(2β))², with TRL 1.16's length normalisation: each side's log-ratio (summed over its
/// completion) is divided by its number of completion tokens (clamped to ≥ 1) before the difference,
///   h̄ = (log π_w − log π_ref,w)/n_w − (log π_l − log π_ref,l)/n_l
/// (trl/trainer/dpo_trainer.py lines 1393-1404). Without token counts (undefined tensors) h̄ is the paper's
/// unnormalised h. The logged rewards are the unnormalised β·log-ratios, as TRL logs them.
PreferenceLoss ipoLoss(const PreferenceLogprobs &logps, double beta, const torch::Tensor &chosenTokens = {},
                       const torch::Tensor &rejectedTokens = {});

/// Hinge (SLiC): ℓ = max(0, 1 − β·h) (dpo_trainer.py lines 1390-1391).
PreferenceLoss hingeLoss(const PreferenceLogprobs &logps, double beta);

/// SimPO, reference-free and length-normalised, on the policy's mean token log-probs (meanTokenLogprobs):
///   ℓ = −(1−ε)·log σ(β·Δ − γ) − ε·log σ(−(β·Δ − γ)),  Δ = avg log π_w − avg log π_l.
/// γ is the SimPO paper's target margin in reward units: TRL's CPOTrainer (loss_type="simpo") subtracts
/// simpo_gamma/β from Δ and multiplies by β (cpo_trainer.py lines 715-722), which is the same β·Δ − γ.
/// Rewards are β·avg log π.
PreferenceLoss simpoLoss(const torch::Tensor &policyChosenMean, const torch::Tensor &policyRejectedMean, double beta,
                         double gamma, double labelSmoothing = 0.0);

//===----------------------------------------------------------------------===//
// Reducing per-example losses: P-DPO mixing, EM-DPO weights
//===----------------------------------------------------------------------===//

/// Mean of values[b] over the rows where rows[b] is set; a graph-connected zero when none is (so backward
/// still runs on a batch that happens to have no such row). Unselected values may be NaN.
torch::Tensor maskedMean(const torch::Tensor &values, const torch::Tensor &rows);

/// P-DPO's objective (docs/methods.md §1.3) for any per-example loss (P-DPO, P-IPO, P-SimPO, P-BT):
///   α·mean over user rows + (1−α)·mean over generic rows (user id 0),
/// a term dropped, not renormalised, when the batch has no row of its kind. isUser: [B], true for i ≠ 0.
torch::Tensor mixUserGeneric(const torch::Tensor &perExample, const torch::Tensor &isUser, double alpha);

/// EM-DPO's M-step reduction (docs/methods.md §3.2): mean_b(w_b·ℓ_b) over the batch, deliberately not divided by
/// Σw, so a type with little posterior mass trains with proportionally smaller steps.
torch::Tensor weightedMean(const torch::Tensor &perExample, const torch::Tensor &weights);

//===----------------------------------------------------------------------===//
// Ranking likelihoods: how likely a type finds an annotator's ranking (EM-DPO's E-step)
//===----------------------------------------------------------------------===//

/// The exact Plackett–Luce log-likelihood of each ranking (docs/methods.md §3.4), [B]:
///   log P(σ) = Σ_j [ r_σj − log Σ_{l ≥ j} exp(r_σl) ],
/// with `rewards` [B, R] in ranked order, best first (for EM-DPO a type's implicit rewards β·log π_k/π_ref),
/// and `present` [B, R] (bool) marking the ranked entries of an incomplete ranking; an absent entry takes no
/// place in any sum, and its reward (NaN or anything) reaches neither the value nor a gradient. For two
/// responses this is log σ(r_1 − r_2), Bradley–Terry.
torch::Tensor plackettLuceLogLikelihood(const torch::Tensor &rewards, const torch::Tensor &present);

/// The pairwise decomposition of a ranking (the authors' code stores a ranking as its pairs), [B]:
///   Σ_{i < j, both present} log σ(r_σi − r_σj).
/// Equal to plackettLuceLogLikelihood for two responses; for more it counts every implied pair as if
/// independent (so it is not a likelihood of the ranking).
torch::Tensor pairwiseLogLikelihood(const torch::Tensor &rewards, const torch::Tensor &present);

//===----------------------------------------------------------------------===//
// Reward-model losses
//===----------------------------------------------------------------------===//

/// Bradley–Terry: ℓ = −log σ(r_w − r_l − m), [B]; the margin m (TRL RewardTrainer's optional "margin"
/// column, reward_trainer.py lines 789-792) is 0 when undefined.
torch::Tensor bradleyTerryLoss(const torch::Tensor &chosenRewards, const torch::Tensor &rejectedRewards,
                               const torch::Tensor &margin = {});

/// A loss whose batch mean pools over units finer than the example (ordered pairs, rating entries, tokens):
/// per-example sums and unit counts, [B] each. mean() = Σ sum / Σ count, a graph-connected zero with no unit.
struct PooledLoss {
  torch::Tensor sum;   ///< [B], differentiable.
  torch::Tensor count; ///< [B], same dtype, no gradient.
  torch::Tensor mean() const { return sum.sum() / count.sum().clamp_min(1); }
  /// Each example's own mean over its units, [B] (0 for an example with none), for weighting or mixing.
  torch::Tensor perExample() const { return sum / count.clamp_min(1); }
};

/// DSP's listwise ranking loss (docs/methods.md §2.3, DSP trainer.py `ranking_loss`) over scores [B, R] and labels
/// [B, R]; a label < 0 marks a padded response:
///   L = −Σ_{b,i,j: y_bi ≠ y_bj, both ≥ 0} log σ(sign(y_bj − y_bi)·(s_bj − s_bi)) / #{such ordered pairs}.
/// Each unordered pair is counted once per order (twice; the mean is unchanged). Ties contribute nothing.
/// For two responses with labels (1, 0) mean() is the Bradley–Terry loss. Padded scores get zero gradient.
PooledLoss rankingLoss(const torch::Tensor &scores, const torch::Tensor &labels);

/// Squared error of predicted rating vectors [B, K] against targets [B, K] over present entries only (DPA's
/// regression, docs/methods.md §4.1, §5.8). An entry is missing where the target is NaN or `present`
/// (optional, [B, K]) is false; missing entries get zero gradient. mean() is the MSE over all present entries
/// of the batch.
PooledLoss regressionLoss(const torch::Tensor &predictions, const torch::Tensor &targets,
                          const torch::Tensor &present = {});

/// Token negative log-likelihood over selected tokens: sums and token counts per row; mean() is the token
/// mean over the batch (SFT's convention: long sequences weigh more than short ones).
PooledLoss nllLoss(const torch::Tensor &tokenLogps, const torch::Tensor &mask);

/// DSP's imitation loss (docs/methods.md §2.4, DSP trainer.py `language_modeling_loss`): each sequence's mean
/// token NLL over `mask` [N, T] — the shifted attention mask, so the query's tokens count — averaged over
/// the sequences whose normalised score [N] exceeds `threshold` (padded responses score −1 and never do).
/// No sequence above the threshold gives a graph-connected zero. DSP divides by (count + 1e-7); we divide by
/// the count, which differs by a relative 1e-7/count.
torch::Tensor imitationLoss(const torch::Tensor &tokenLogps, const torch::Tensor &mask,
                            const torch::Tensor &normalizedScores, double threshold);

} // namespace align::rt
