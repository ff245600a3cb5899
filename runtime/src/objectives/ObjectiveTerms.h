//===- ObjectiveTerms.h - A stage's objective on prepared batches --*- C++ -*-===//
//
// A stage's `objective` is a weighted sum of terms (`dpo(beta: 0.1) + 0.2 * nll()`). This file turns the terms
// and one micro-batch of model outputs into the contribution to the optimizer step's loss, using the single
// definitions in objectives/Losses.h.
//
// Gradient accumulation must not change the numbers: a step over B examples split into micro-batches must
// give the loss (and gradient) of the whole batch. Every term's batch loss is a ratio Σ units / #units — pairs
// for the pairwise losses, tokens for nll, sequences for imitation, ordered pairs for rank_loss, present
// ratings for regression — so the trainer counts each term's units over the whole optimizer batch first
// (countUnits, no forward needed), and each micro-batch contributes Σ its units / that full count.
//
// A term with example weights multiplies each unit by its example's weight w. With `weight_norm: sum` (the
// default) the count is Σ w over the units instead, so the batch loss is a weighted mean (Σ w·ℓ / Σ w):
// scaling every weight changes nothing, and a batch of weight-1 examples is the unweighted loss. With
// `weight_norm: mean` the count stays the number of units (EM-DPO's authors' batch mean).
//
//===----------------------------------------------------------------------===//
#pragma once

#include "align/rt/Trainer.h"
#include "data/PreparedData.h"

#include <torch/torch.h>

#include <map>
#include <string>
#include <vector>

namespace align::rt {

/// Which rows a pairwise term reads. The P-DPO family (pdpo, pipo, psimpo; docs/methods.md §1) is
///   α · mean over user rows ℓ + (1 − α) · mean over generic rows ℓ,
/// which the runtime executes as two terms of the plain loss: one over the rows of users i ≠ 0 (weight α)
/// and one over the generic rows (weight 1 − α), each a mean over its own rows of the whole optimizer batch
/// — so a batch without rows of a kind drops that term, as the authors' trainer does.
enum class UserRows { All, Users, Generic };

/// One term as the stage loop runs it: the recipe's term (kind and typed parameters, straight from the
/// generated trainer), its coefficient, and the rows it reads.
struct ObjectiveTerm {
  TermSpec spec;
  double weight = 1.0;           ///< coefficient in the sum (× α or 1 − α for a half of a mixing term)
  UserRows rows = UserRows::All; ///< pairwise terms: which rows they read
  LossKind kind() const { return spec.kind; }
};

/// One plain term of the objective of `params` with coefficient `weight` (tests and benchmarks).
template <class P> ObjectiveTerm termOf(const P &params, double weight = 1.0) {
  return ObjectiveTerm{TermSpec(params, weight), weight, UserRows::All};
}

/// The loss whose math a term computes: itself, or the plain loss of a user-mixing term (pdpo → dpo).
LossKind mathOf(LossKind kind);
/// "dpo", or "dpo@users" / "dpo@generic" for the two halves of a P-DPO term (metric names).
std::string termLabel(const ObjectiveTerm &term);
/// The terms a recipe term stands for: itself, or the two halves of a user-mixing term (the registry's
/// MixesUsers trait), with the mixing weight α ∈ [0, 1] folded into their weights.
std::vector<ObjectiveTerm> expandTerm(const TermSpec &spec);

/// The registry's traits of a term's kind (registry/include/align/registry/Objectives.def).
bool isPairTerm(LossKind kind);        ///< compares better and worse responses
bool needsReference(LossKind kind);    ///< reads a frozen reference
bool trainsRewardModel(LossKind kind); ///< trains a reward head

/// Whether some term reads the log-probs of prompt tokens too (`allTargets`: nll with prompt_loss, imitation),
/// not only of the responses; the LM head is evaluated only at the positions the terms read.
bool readsPromptTokens(const std::vector<ObjectiveTerm> &terms);

/// The number of units (see the file comment) of each term over a set of examples.
std::vector<double> countUnits(const std::vector<ObjectiveTerm> &terms, const std::vector<const PreparedExample *> &batch);

/// One micro-batch of a policy's outputs: `tokenLogps` [N, T-1] of the N sequences of `batch` (in the order
/// PreparedExample::sequences lists them, example after example), their masks from collation, and the frozen
/// reference's summed response log-probs [N] (undefined when no term needs them).
struct PolicyOutputs {
  torch::Tensor tokenLogps;
  torch::Tensor responseTargets; ///< [N, T-1] bool: response tokens (the loss targets)
  torch::Tensor allTargets;      ///< [N, T-1] bool: every non-pad target token (query included)
  torch::Tensor referenceLogps;  ///< [N] or undefined
};

/// The micro-batch's contribution to the step loss, and sums for the logged metrics (detached doubles,
/// to be divided by the same unit counts): "loss/<term>", "accuracy", "margin", "chosen_reward", ...
struct TermContribution {
  torch::Tensor loss; ///< scalar, differentiable
  std::map<std::string, double> sums;
};

TermContribution policyContribution(const std::vector<ObjectiveTerm> &terms, const std::vector<double> &fullUnits,
                                    const std::vector<const PreparedExample *> &batch, const PolicyOutputs &outputs);

/// Pairwise terms also sum "pairs#<group>" and "correct#<group>" for examples with a data `group`; this
/// replaces those counts (summed over a whole batch or evaluation set) by "accuracy/<group>".
void foldGroupCounts(std::map<std::string, double> &sums);

/// The same for a reward model: `rewards` [N, K] for the N sequences of `batch`. An imitation term on a reward
/// model also needs `tokenLogps`/`allTargets` from its LM head (undefined otherwise).
TermContribution rewardContribution(const std::vector<ObjectiveTerm> &terms, const std::vector<double> &fullUnits,
                                    const std::vector<const PreparedExample *> &batch, const torch::Tensor &rewards,
                                    const PolicyOutputs &lmOutputs);

} // namespace align::rt
