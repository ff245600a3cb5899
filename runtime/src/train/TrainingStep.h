//===- TrainingStep.h - One micro-batch through the step program -*- C++ -*-===//
//
// The train dialect's step program as the runtime runs it, one micro-batch at a time: collate, the decoder
// pass (with the P-RLHF user tokens), the LM head's token log-probs (fused in vocabulary chunks or not), the
// frozen reference's log-probs (cached before training or computed online), the objective's terms. The
// stage loop (train/StageRunner.h) calls it per micro-batch and does backward, clipping and the optimizer
// step around it.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "train/StageRunner.h"

#include <cstdint>
#include <vector>

namespace align::rt {

/// The micro-batch's contribution to the step's loss (units: the whole batch's, objectives/ObjectiveTerms.h)
/// and its metric sums. `tokens`, when given, is increased by the micro-batch's non-pad tokens.
TermContribution microBatchLoss(StageInputs &inputs, const std::vector<const PreparedExample *> &part,
                                const std::vector<double> &units, torch::Device device, int64_t *tokens);

/// Scores every sequence of `examples` (those marked in `only`, when given) with the frozen reference once,
/// storing the summed response log-probs in the examples (the `cached` reference of the step program). With
/// many processes (`world`), each scores a contiguous share and all gather every value.
void precomputeReference(StageInputs &inputs, std::vector<PreparedExample> &examples, torch::Device device,
                         const std::vector<char> *only, const dist::World *world = nullptr);

/// The decoder's layout of a micro-batch's rows [N] (`part`'s sequences, example after example): their
/// `lengths`, and with `sharePrefixes` (the step's shared_prefix decision) each example's sequences as a group
/// that shares its common prefix (model/PackedLayout.h).
RowLayout rowLayout(const std::vector<const PreparedExample *> &part, const torch::Tensor &lengths, bool sharePrefixes);

/// log p(ids[:, t+1] | ids[:, ≤t]) from hidden [N, T, H] and the head [V, H] → [N, T-1], computed only where
/// `targets` [N, T-1] (the positions some loss reads) is true; 0 elsewhere. `chunk` > 0: the head, log-softmax
/// and gather in vocabulary chunks of `chunk` (fused); 0: through the logits of the read positions.
torch::Tensor headTokenLogps(const torch::Tensor &hidden, torch::Tensor weight, const torch::Tensor &ids,
                             const torch::Tensor &targets, int64_t chunk);

/// Whether a term of the objective reads the frozen reference.
bool anyReferenceTerm(const std::vector<ObjectiveTerm> &terms);

} // namespace align::rt
