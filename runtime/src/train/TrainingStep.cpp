//===- TrainingStep.cpp - One micro-batch through the step program --------===//
//
// Reads top to bottom as the step program of an emitted trainer does (compiler/emit/StageEmission.cpp maps
// each train op to a field of the StageSpec this file reads):
//
//   train.batch_fetch          the micro-batch's examples, collated: ids [N, T] (N sequences, example after
//                              example), masks [N, T-1]
//   train.forward / score      one decoder pass over the N sequences (concat_pairs), or two: each example's
//                              first response, then its others -> hidden [N, T, H]; shared_prefix: in one
//                              pass, the start an example's sequences share is decoded once
//                              (model/PackedLayout.h)
//   train.sequence_logprobs    the LM head's log-prob of every next token [N, T-1], fused in vocabulary chunks
//                              (fused chunk C) or through the full logits [N, T-1, V]
//   train.reference_logprobs   the frozen reference's summed response log-probs [N]: cached (precomputed
//                              before the stage) or a no-grad pass now
//   train.loss / loss_sum      the objective's terms (objectives/ObjectiveTerms.h) -> a scalar
//
//===----------------------------------------------------------------------===//

#include "train/TrainingStep.h"

#include "align/rt/Error.h"
#include "data/Collate.h"
#include "dist/World.h"
#include "objectives/ChunkedLogprobs.h"
#include "objectives/Losses.h"
#include "train/Precision.h"

#include <functional>

namespace align::rt {

namespace {

/// A decoder pass over some rows of the micro-batch: `rows` [n] indexes ids [N, T] (undefined: all rows).
using DecoderPass = std::function<torch::Tensor(const torch::Tensor &rows)>;

/// train.forward: hidden [N, T, H] in one pass over all sequences, or, when `separate` (a pairwise objective
/// whose forwards are not concat_pairs), in two — each example's first sequence, then the others — put back in
/// row order.
torch::Tensor decoderHidden(const DecoderPass &pass, const std::vector<const PreparedExample *> &part, bool separate,
                            torch::Device device) {
  std::vector<int64_t> first, others;
  for (const PreparedExample *e : part) {
    const int64_t base = static_cast<int64_t>(first.size() + others.size());
    first.push_back(base);
    for (size_t i = 1; i < e->sequences.size(); ++i)
      others.push_back(base + static_cast<int64_t>(i));
  }
  if (!separate || others.empty())
    return pass(torch::Tensor());
  torch::Tensor firstRows = torch::tensor(first, torch::kInt64).to(device);
  torch::Tensor otherRows = torch::tensor(others, torch::kInt64).to(device);
  torch::Tensor a = pass(firstRows), b = pass(otherRows);
  std::vector<int64_t> shape = a.sizes().vec();
  shape[0] = static_cast<int64_t>(first.size() + others.size());
  return torch::zeros(shape, a.options()).index_copy(0, firstRows, a).index_copy(0, otherRows, b);
}

/// The step's log-prob decision as headTokenLogps takes it: the fused chunk, or 0 for unfused.
int64_t logprobChunk(const StageSchedule &schedule) { return schedule.fusedLogprobs ? schedule.logprobChunk : 0; }

/// The frozen reference's summed response log-probs [N] for collated ids [N, T] laid out as `layout` (no gradient).
torch::Tensor referenceSequenceLogps(StageInputs &inputs, const torch::Tensor &ids, const RowLayout &layout,
                                     const torch::Tensor &responseTargets) {
  torch::NoGradGuard noGrad;
  torch::Tensor hidden = inputs.reference->hidden(ids, {}, layout);
  return sequenceLogprobs(headTokenLogps(hidden, inputs.reference->headWeight(), ids, responseTargets, logprobChunk(inputs.schedule)),
                          responseTargets);
}

/// The user id of each sequence of the micro-batch (example after example), [N].
torch::Tensor sequenceUserIds(const std::vector<const PreparedExample *> &part) {
  std::vector<int64_t> ids;
  for (const PreparedExample *e : part)
    ids.insert(ids.end(), e->sequences.size(), e->userId);
  return torch::tensor(ids, torch::kInt64);
}

torch::Tensor rowsOf(const torch::Tensor &x, const torch::Tensor &rows) {
  return rows.defined() ? x.index_select(0, rows) : x;
}

} // namespace

RowLayout rowLayout(const std::vector<const PreparedExample *> &part, const torch::Tensor &lengths, bool sharePrefixes) {
  RowLayout layout(lengths);
  if (!sharePrefixes)
    return layout;
  std::vector<const std::vector<int64_t> *> sequences;
  for (const PreparedExample *e : part) {
    layout.groupSizes.push_back(static_cast<int64_t>(e->sequences.size()));
    for (const data::TokenizedText &sequence : e->sequences)
      sequences.push_back(&sequence.ids);
  }
  layout.sharedPrefixes = commonPrefixes(sequences, layout.groupSizes);
  return layout;
}

// train.sequence_logprobs. The head is the largest single product of a small model, and padding and prompt
// tokens are often most of the positions: only the read ones go through it.
torch::Tensor headTokenLogps(const torch::Tensor &hidden, torch::Tensor weight, const torch::Tensor &ids,
                             const torch::Tensor &targets, int64_t chunk) {
  const int64_t n = hidden.size(0), positions = hidden.size(1) - 1, size = hidden.size(2);
  torch::Tensor where = targets.reshape({-1}).nonzero().squeeze(1); // [M] into the [N * (T-1)] positions
  torch::Tensor states = hidden.slice(1, 0, positions).reshape({-1, size}).index_select(0, where); // [M, H]
  torch::Tensor next = ids.slice(1, 1).reshape({-1}).index_select(0, where);                       // [M]
  torch::Tensor logps;
  if (chunk > 0) {
    if (weight.scalar_type() != states.scalar_type())
      weight = weight.to(states.scalar_type()); // autocast gives bf16 hidden states over fp32 weights
    logps = chunkedTokenLogprobs(states, weight, next, chunk);
  } else {
    torch::Tensor logits = torch::nn::functional::linear(states, weight).to(torch::kFloat32); // [M, V]
    logps = torch::log_softmax(logits, -1).gather(-1, next.unsqueeze(-1)).squeeze(-1);
  }
  return torch::zeros({n * positions}, logps.options()).index_copy(0, where, logps).view({n, positions});
}

bool anyReferenceTerm(const std::vector<ObjectiveTerm> &terms) {
  for (const ObjectiveTerm &t : terms)
    if (needsReference(t.kind()))
      return true;
  return false;
}

namespace {

/// Scores `examples` with the frozen reference in micro-batches, storing each one's summed response log-probs.
void scoreWithReference(StageInputs &inputs, const std::vector<PreparedExample *> &examples, torch::Device device) {
  // The stage's precision, so that a policy equal to its reference scores exactly what was cached (DPO's
  // first loss is then ln 2 in bf16 as in fp32).
  PrecisionScope precision(inputs.schedule.precision, device);
  const int64_t micro = inputs.schedule.microBatch > 0 ? inputs.schedule.microBatch : inputs.schedule.batch;
  for (size_t start = 0; start < examples.size(); start += static_cast<size_t>(micro)) {
    const size_t end = std::min(examples.size(), start + static_cast<size_t>(micro));
    const std::vector<const PreparedExample *> part(examples.begin() + start, examples.begin() + end);
    MicroBatch batch = collateSequences(part, inputs.padId);
    torch::Tensor sums = referenceSequenceLogps(inputs, batch.tokens.ids.to(device),
                                                rowLayout(part, batch.tokens.lengths.to(device), inputs.schedule.sharedPrefix),
                                                batch.responseTargets.to(device))
                             .to(torch::kCPU)
                             .to(torch::kFloat64)
                             .contiguous();
    const double *value = sums.data_ptr<double>();
    for (size_t i = start; i < end; ++i) {
      const size_t n = examples[i]->sequences.size();
      examples[i]->referenceLogps.assign(value, value + n);
      value += n;
    }
  }
}

} // namespace

void precomputeReference(StageInputs &inputs, std::vector<PreparedExample> &examples, torch::Device device,
                         const std::vector<char> *only, const dist::World *world) {
  std::vector<PreparedExample *> selected;
  for (size_t i = 0; i < examples.size(); ++i)
    if (!only || (*only)[i])
      selected.push_back(&examples[i]);
  if (!world || !world->distributed()) {
    scoreWithReference(inputs, selected, device);
    return;
  }
  // Each rank scores its contiguous share, then every rank gathers all values in example order.
  const auto [begin, end] = dist::sliceOf(static_cast<int64_t>(selected.size()), world->rank(), world->size());
  const std::vector<PreparedExample *> mine(selected.begin() + begin, selected.begin() + end);
  scoreWithReference(inputs, mine, device);
  std::vector<double> values;
  for (const PreparedExample *e : mine)
    values.insert(values.end(), e->referenceLogps.begin(), e->referenceLogps.end());
  const std::vector<double> all = world->allGather(values);
  size_t next = 0;
  for (PreparedExample *e : selected) {
    const size_t n = e->sequences.size();
    if (next + n > all.size())
      throw Error("precomputeReference: the ranks gathered " + std::to_string(all.size()) + " values, too few");
    e->referenceLogps.assign(all.begin() + static_cast<int64_t>(next), all.begin() + static_cast<int64_t>(next + n));
    next += n;
  }
}

TermContribution microBatchLoss(StageInputs &inputs, const std::vector<const PreparedExample *> &part,
                                const std::vector<double> &units, torch::Device device, int64_t *tokens) {
  const StageSchedule &schedule = inputs.schedule;
  // train.batch_fetch: ids [N, T] right-padded, targets [N, T-1] (response tokens; every non-pad token).
  MicroBatch micro = collateSequences(part, inputs.padId);
  if (tokens)
    *tokens += micro.tokenCount;
  torch::Tensor ids = micro.tokens.ids.to(device), lengths = micro.tokens.lengths.to(device);
  PolicyOutputs outputs;
  outputs.responseTargets = micro.responseTargets.to(device);
  outputs.allTargets = micro.allTargets.to(device);
  PrecisionScope precision(schedule.precision, device);
  bool pairwise = false;
  for (const ObjectiveTerm &t : inputs.terms)
    pairwise = pairwise || isPairTerm(t.kind());
  const bool separatePairs = pairwise && !schedule.concatPairs;
  // One pass over all rows may decode each example's shared prefix once; a pass over some rows does not.
  const RowLayout layout = rowLayout(part, lengths, schedule.sharedPrefix && !separatePairs);
  auto layoutOf = [&](const torch::Tensor &rows) { return rows.defined() ? RowLayout(rowsOf(lengths, rows)) : layout; };

  // The P-RLHF user tokens [N, T_u, H] after BOS (a personalized policy, or a P-RM).
  torch::Tensor softTokens;
  if (inputs.users)
    softTokens = inputs.users->forward(sequenceUserIds(part).to(device));
  auto withUsers = [&](const torch::Tensor &rows) { return softTokens.defined() ? rowsOf(softTokens, rows) : softTokens; };

  if (inputs.reward) {
    // train.score (and train.forward for DSP's imitation term): one decoder pass gives the rewards [N, K] and
    // the LM head's token log-probs.
    torch::Tensor hidden = decoderHidden(
        [&](const torch::Tensor &rows) { return inputs.reward->hidden(rowsOf(ids, rows), withUsers(rows), layoutOf(rows)); }, part,
        separatePairs, device); // [N, T, H]
    torch::Tensor rewards = inputs.reward->rewardsOf(hidden, micro.tokens.attention.to(device)).to(torch::kFloat32);
    bool imitation = false;
    for (const ObjectiveTerm &t : inputs.terms)
      imitation = imitation || t.kind() == LossKind::imitation;
    if (imitation)
      outputs.tokenLogps = headTokenLogps(hidden, inputs.reward->headWeight(), ids, outputs.allTargets, logprobChunk(schedule));
    else
      outputs = PolicyOutputs{};
    return rewardContribution(inputs.terms, units, part, rewards, outputs);
  }

  // train.forward with the user tokens, then train.sequence_logprobs.
  torch::Tensor hidden = decoderHidden(
      [&](const torch::Tensor &rows) { return inputs.policy->hidden(rowsOf(ids, rows), withUsers(rows), layoutOf(rows)); }, part,
      separatePairs, device); // [N, T, H]
  outputs.tokenLogps = headTokenLogps(hidden, inputs.policy->headWeight(), ids,
                                      readsPromptTokens(inputs.terms) ? outputs.allTargets : outputs.responseTargets,
                                      logprobChunk(schedule)); // [N, T-1]

  // train.reference_logprobs: [N], cached per example or computed now.
  if (anyReferenceTerm(inputs.terms)) {
    bool cached = true;
    for (const PreparedExample *e : part)
      cached = cached && e->referenceLogps.size() == e->sequences.size();
    if (cached) {
      std::vector<double> values;
      for (const PreparedExample *e : part)
        values.insert(values.end(), e->referenceLogps.begin(), e->referenceLogps.end());
      outputs.referenceLogps = torch::tensor(values, torch::kFloat64).to(device).to(outputs.tokenLogps.scalar_type());
    } else {
      if (!inputs.reference)
        throw Error("stage '" + inputs.name + "': the objective needs a reference model");
      outputs.referenceLogps =
          referenceSequenceLogps(inputs, ids, layout, outputs.responseTargets).to(outputs.tokenLogps.scalar_type());
    }
  }
  // train.loss / loss_sum.
  return policyContribution(inputs.terms, units, part, outputs);
}

} // namespace align::rt
