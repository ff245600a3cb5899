//===- GeneratedLength.h - Mean generated length by group ------*- C++ -*-===//
//
// The recipe metric `generated_length`: sample a response for held-out prompts and count its tokens (up to
// EOS, which is not counted; `max_new_tokens` when none comes). P-RLHF's length task asks whether a
// personalized policy writes longer for users who prefer long answers, so each prompt is sampled with the
// row's user tokens when the policy has a user model (users it does not know get the generic tokens).
//
// Per group, the first `samples` rows of that group in data order are used, each sampled with its own seed
// (seed + row number), so a run is reproducible and groups are measured on the same number of prompts.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "data/Collate.h"
#include "data/Examples.h"
#include "dist/World.h"
#include "model/Llama.h"
#include "model/UserModel.h"
#include "tokenizer/Tokenizer.h"

#include <functional>
#include <map>
#include <string>
#include <vector>

namespace align::rt {

struct GenerationSettings {
  int64_t maxNewTokens = 64;
  double temperature = 1.0;
  int64_t samples = 32; ///< prompts per group
  uint64_t seed = 0;
};

struct GeneratedLengths {
  std::map<std::string, double> mean;    ///< group → mean generated tokens
  std::map<std::string, int64_t> prompts; ///< group → prompts sampled
  /// group → one sample's text, for the report.
  std::map<std::string, std::string> example; ///< (valid UTF-8: ill-formed bytes become U+FFFD)
};

/// Mean generated length of `policy` on the prompts of `rows`, grouped by `groupOf` (key "" for all rows).
/// With a many-process `world`, each rank samples a contiguous share of the chosen prompts and every rank
/// gets the whole result (the same numbers: a prompt's seed is its row number, not its rank).
GeneratedLengths generatedLengthBy(CausalLM &policy, UserModel users, const std::vector<data::Example> &rows,
                                   const std::function<std::string(const data::Example &)> &groupOf,
                                   const Tokenizer &tokenizer, const data::TokenizeOptions &tokenize,
                                   const GenerationSettings &settings, torch::Device device,
                                   const dist::World *world = nullptr);

} // namespace align::rt
