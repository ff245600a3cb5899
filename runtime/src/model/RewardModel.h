//===- RewardModel.h - Reward heads on the decoder -------------*- C++ -*-===//
//
// A reward model is the decoder plus a linear `score` head (Hugging Face's *ForSequenceClassification
// layout: no bias, one output per objective), read at one position per sequence or pooled over it:
//   last  the token before the final non-pad token — with sequences ending in EOS, the token before EOS
//         (DSP's `last`, index num_non_pad − 2: the classic off-by-one, tested by hand);
//   eos   the final non-pad token (what transformers' sequence classification reads);
//   mean  masked mean over non-pad tokens;   max  masked elementwise max.
// One output is a scalar reward (Bradley–Terry, DSP); several are a multi-objective regression head (DPA).
// Like DSP's LlamaRewardModel (decoder + reward_head + lm_head) it keeps the language-model head of the LM it
// was made from, so one forward gives both the rewards and the token log-probs of DSP's imitation term; the
// head is saved with the checkpoint (`lm_head.weight`, which transformers' *ForSequenceClassification ignores).
// A checkpoint without one (a transformers reward model) loads without a head: imitation then is an Error.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "align/rt/Trainer.h"
#include "model/Llama.h"

#include <string>

namespace align::rt {

/// The pooling named `name` (Pooling and its spelling are the registry's: align/rt/Trainer.h); an Error for
/// another word.
Pooling parsePooling(const std::string &name);

/// Pools hidden states [B, T, H] with the non-pad mask [B, T] (right padding) into [B, H].
torch::Tensor poolHidden(const torch::Tensor &hidden, const torch::Tensor &mask, Pooling pooling);

struct RewardModelImpl : torch::nn::Module {
  /// `lmHead`: keep a language-model head (untied configs get an `lm_head` module; tied ones read the
  /// embedding, as CausalLM does).
  RewardModelImpl(const ModelConfig &config, int64_t outputs, Pooling pooling, bool lmHead = true);
  /// Rewards [B, outputs] for input ids [B, T] with non-pad mask [B, T] (and a P-RM's user tokens, see hidden).
  torch::Tensor forward(const torch::Tensor &inputIds, const torch::Tensor &mask, const torch::Tensor &softTokens = {});
  /// Final hidden states [B, T, H] (right padding; positions 0..T-1). With `softTokens` [B, T_u, H] (a P-RM's
  /// user tokens) the decoder reads BOS, the soft tokens, then the rest, and their positions are dropped from
  /// the output, as CausalLMImpl::hidden does — so pooling reads the same positions as without users.
  /// `layout`: the real tokens of each row and the prefixes rows share, to skip the padding and decode a
  /// shared prefix once (see CausalLMImpl::hidden).
  torch::Tensor hidden(const torch::Tensor &inputIds, const torch::Tensor &softTokens = {},
                       const RowLayout &layout = {});
  /// The score head on hidden states pooled with `mask`: [B, outputs].
  torch::Tensor rewardsOf(const torch::Tensor &hidden, const torch::Tensor &mask);
  bool hasLmHead() const { return hasHead; }
  /// LM-head weight [vocab, hidden] (the embedding when tied); an Error when the model has no LM head.
  torch::Tensor headWeight() const;

  ModelConfig config;
  int64_t outputs;
  Pooling pooling;
  bool hasHead;
  Decoder model{nullptr};
  torch::nn::Linear score{nullptr};
  torch::nn::Linear lm_head{nullptr}; ///< null when tied or absent
};
TORCH_MODULE(RewardModel);

/// A reward model whose decoder, embedding and LM head are copied from `lm`, with a freshly initialised score
/// head.
RewardModel rewardModelFrom(CausalLM &lm, int64_t outputs, Pooling pooling, uint64_t seed);

/// Loads a checkpoint directory written by saveRewardModel or by transformers' *ForSequenceClassification.
RewardModel loadRewardModel(const std::string &dir);
/// Writes config.json (architectures *ForSequenceClassification, num_labels, pad_token_id, our pooling)
/// and model.safetensors.
void saveRewardModel(RewardModel &model, const std::string &dir);

} // namespace align::rt
