//===- PolicySamples.h - Answers of policies to prompts, scored by other models -*- C++ -*-===//
//
// MMRA's regret estimate (docs/methods.md §3.5) needs, for each policy π_j, answers y_j ~ π_j(·|x) to the
// same prompts, and the log-probability every type's policy π_i and the reference give each answer. Both
// run in batches: the answers through the KV-cached batched sampler (model/Generate.h), the scores as
// right-padded teacher-forced passes.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "dist/World.h"
#include "model/Generate.h"

#include <vector>

namespace align::rt {

using TokenRows = std::vector<std::vector<int64_t>>;

/// Prompts sampled, or pairs scored, together unless a caller says otherwise.
constexpr int64_t kAnswerBatch = 32;

/// One answer of `policy` to each of `prompts` (token ids, BOS included), `batch` prompts at a time.
/// Batch b is sampled with seed options.seed + b, so the answers depend on the seed and the batch size only —
/// not on a many-process `world`, whose ranks each sample a contiguous share of the batches and all get
/// every answer.
TokenRows sampleAnswers(CausalLM &policy, const TokenRows &prompts, const SamplingOptions &options, int64_t padId,
                        int64_t batch = kAnswerBatch, const dist::World *world = nullptr);

/// log π(answer | prompt) = Σ_t log π(answer_t | prompt, answer_<t) for each pair (`prompts[r]`,
/// `answers[r]`), in right-padded batches of `batch` pairs. An empty answer scores 0. Errors: the two lists
/// differ in length, an empty prompt, a pair longer than the model's positions. With a many-process `world`,
/// each rank scores a contiguous share of the batches and all get every value.
std::vector<double> answerLogprobs(CausalLM &model, const TokenRows &prompts, const TokenRows &answers, int64_t padId,
                                   int64_t batch = kAnswerBatch, const dist::World *world = nullptr);

} // namespace align::rt
