//===- Generate.h - Sampling from a causal LM with a KV cache --*- C++ -*-===//
//
// The prompt goes through the decoder once, filling the cache; then one token at a time. Temperature 0 is
// greedy; otherwise softmax(logits / T), restricted to the smallest set of tokens whose probability reaches
// top_p (nucleus sampling), drawn with a generator seeded per call so a run is reproducible.
//
// generateBatch answers many prompts at once: left-padded to one block, a key mask in the cache keeps the
// padding out of attention and each row's positions start at 0 at its first real token, so greedy decoding
// gives each row what generate gives it alone.
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
  double topP = 1.0;
  uint64_t seed = 0;
  std::optional<int64_t> eosId; // stop after generating it
};

/// The new tokens generated after `prompt` (the prompt is not repeated). `softTokens` [1, T, hidden] (a
/// user's P-RLHF tokens) are read after the prompt's first token (BOS), as in training.
std::vector<int64_t> generate(CausalLM &model, const std::vector<int64_t> &prompt, const SamplingOptions &options,
                              const torch::Tensor &softTokens = {});

/// The new tokens for each of `prompts` (each ≥ 1 token), decoded together: one prompt pass over the
/// left-padded block, then one token per row per step until every row has produced eosId or maxNewTokens (or
/// run out of positions). A row's tokens stop after its eos (eos included). `padId` fills the padding (its
/// embedding is never attended to). Sampling draws every row's token from one generator seeded with
/// options.seed, so results depend on the batch's composition; greedy decoding does not.
std::vector<std::vector<int64_t>> generateBatch(CausalLM &model, const std::vector<std::vector<int64_t>> &prompts,
                                                const SamplingOptions &options, int64_t padId = 0);

} // namespace align::rt
