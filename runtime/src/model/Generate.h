//===- Generate.h - Sampling from a causal LM with a KV cache --*- C++ -*-===//
//
// One engine answers one prompt, a batch of prompts, or prompts × samples (rejection sampling, MMRA, eval):
// prompts are left-padded to one block, a key mask in the cache keeps the padding out of attention, and each
// row's positions start at 0 at its first real token, so a row decodes as it would alone. Identical prompts
// in a block share one prompt pass (the cache is copied per row afterwards). Then one token per row per step
// until every row has stopped (eos, maxNewTokens, or no positions left); finished rows are dropped from the
// batch and its cache once a tenth of the batch has finished, so they cost little.
//
// Sampling: temperature 0 is greedy; otherwise softmax(logits / T), cut to the top_k most likely tokens
// (0: no cut), then to the nucleus — the smallest set of the most likely tokens whose probability reaches
// top_p of what remains — and one token drawn from what is left. Ties at a cut are all kept. The order of the
// cuts is transformers' (temperature, top-k, top-p).
//
// Determinism. The draw of sample j of prompt i at step t uses one uniform number that is a function of
// (seed, i, j, t) only (SplitMix64, support/SplitMix64.h); the token is the first whose cumulative
// probability, in vocabulary order, exceeds it. So the same seed, prompts and batch layout give the same ids
// on the same machine, device and thread count (which fix the logits' float rounding). Another layout
// (block size, other prompts beside a row) draws the same numbers, so its ids differ only where the float
// rounding of the differently padded block moves a logit across a token's boundary or a greedy tie — rare,
// but not excluded; dropping finished rows from the batch does not change the draws either.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "model/Llama.h"

#include <optional>
#include <vector>

namespace align::rt {

struct SamplingOptions {
  int64_t maxNewTokens = 64;
  double temperature = 1.0; // 0: greedy
  double topP = 1.0;        // (0, 1]
  int64_t topK = 0;         // 0: no cut
  uint64_t seed = 0;
  std::optional<int64_t> eosId; // stop after generating it
};

/// The new tokens generated after `prompt` (the prompt is not repeated). `softTokens` [1, T, hidden] (a
/// user's P-RLHF tokens) are read after the prompt's first token (BOS), as in training. The same as
/// generateBatch({prompt}) — sample 0 of prompt 0.
std::vector<int64_t> generate(CausalLM &model, const std::vector<int64_t> &prompt, const SamplingOptions &options,
                              const torch::Tensor &softTokens = {});

/// The new tokens for each of `prompts` (each ≥ 1 token), decoded together as one block; row r is sample 0 of
/// prompt r. A row's tokens stop after its eos (eos included), after maxNewTokens, or when its next position
/// would be the model's maxPositionEmbeddings-th. `padId` fills the padding (its embedding is never attended
/// to). `softTokens`: [rows, T, hidden] (each row's user) or [1, T, hidden] (one user for all), after BOS.
std::vector<std::vector<int64_t>> generateBatch(CausalLM &model, const std::vector<std::vector<int64_t>> &prompts,
                                                const SamplingOptions &options, int64_t padId = 0,
                                                const torch::Tensor &softTokens = {});

/// One row of a generateRows call: sample `sample` of prompt `prompt` (its random stream; see above).
struct SampleSlot {
  int64_t prompt = 0;
  int64_t sample = 0;
};

/// The new tokens of each slot, in slot order. Slots are ordered by prompt length (then prompt, then sample)
/// and decoded in blocks of at most `maxRowsPerBatch` rows; that order and `maxRowsPerBatch` are the layout.
/// `softTokens`: [prompts, T, hidden] (each prompt's user) or [1, T, hidden].
std::vector<std::vector<int64_t>> generateRows(CausalLM &model, const std::vector<std::vector<int64_t>> &prompts,
                                               const std::vector<SampleSlot> &slots, const SamplingOptions &options,
                                               int64_t padId, int64_t maxRowsPerBatch,
                                               const torch::Tensor &softTokens = {});

/// `samplesPerPrompt` samples of each prompt: result[i][j] is sample j of prompt i (generateRows over every
/// (i, j)). Rejection sampling's generator: the same seed, prompts, samplesPerPrompt and maxRowsPerBatch give
/// the same ids.
std::vector<std::vector<std::vector<int64_t>>> generateSamples(CausalLM &model,
                                                               const std::vector<std::vector<int64_t>> &prompts,
                                                               int64_t samplesPerPrompt, const SamplingOptions &options,
                                                               int64_t padId, int64_t maxRowsPerBatch,
                                                               const torch::Tensor &softTokens = {});

/// How sampleTokens draws: CpuSelect (CPU logits only) finds each row's cuts from a histogram of its
/// probabilities in O(vocab), rows in parallel; Portable uses tensor operations that run on any device (a sort
/// for top-p).
/// They keep the same tokens and draw the same one from the same uniform, up to float summation order.
enum class SamplingKernel { Auto, Portable, CpuSelect };

/// The next token of each row of `logits` [rows, vocab] (any device and float dtype) → [rows] int64 on the CPU.
/// `uniforms` [rows] float64 on the CPU, in [0, 1): each row's draw (unused when greedy).
torch::Tensor sampleTokens(const torch::Tensor &logits, const SamplingOptions &options, const torch::Tensor &uniforms,
                           SamplingKernel kernel = SamplingKernel::Auto);

/// The uniform number in [0, 1) that draws step `step` of sample `sample` of prompt `prompt` under `seed`.
double sampleUniform(uint64_t seed, int64_t prompt, int64_t sample, int64_t step);

} // namespace align::rt
