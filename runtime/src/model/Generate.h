//===- Generate.h - Sampling from a causal LM with a KV cache --*- C++ -*-===//
//
// The prompt goes through the decoder once, filling the cache; then one token at a time. Temperature 0 is
// greedy; otherwise softmax(logits / T), restricted to the smallest set of tokens whose probability reaches
// top_p (nucleus sampling), drawn with a generator seeded per call so a run is reproducible.
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

} // namespace align::rt
