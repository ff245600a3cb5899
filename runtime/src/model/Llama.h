//===- Llama.h - Llama-family decoder (Llama, Qwen2, Mistral) --*- C++ -*-===//
//
// One decoder for the Llama family: RMSNorm, rotary position embeddings (theta, Llama-3 and linear scaling),
// grouped-query attention through scaled_dot_product_attention, SwiGLU MLP, tied or untied LM head; Qwen2's
// q/k/v biases and Llama's attention/MLP biases are config switches. Module and parameter names follow
// Hugging Face (`model.layers.0.self_attn.q_proj.weight`), so a checkpoint maps one to one.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "model/ModelConfig.h"
#include "model/PackedLayout.h"

#include <torch/torch.h>

namespace align::rt {

/// y = w ⊙ x / sqrt(mean(x²) + ε), computed in float32 like Hugging Face.
struct RMSNormImpl : torch::nn::Module {
  RMSNormImpl(int64_t size, double eps);
  torch::Tensor forward(const torch::Tensor &x);
  torch::Tensor weight;
  double eps;
};
TORCH_MODULE(RMSNorm);

/// cos and sin tables for positions, from the config's theta and scaling.
struct RotaryEmbeddingImpl : torch::nn::Module {
  explicit RotaryEmbeddingImpl(const ModelConfig &config);
  /// positions: [batch, seq] int64 → (cos, sin), each [batch, seq, headDim], in `dtype`.
  std::pair<torch::Tensor, torch::Tensor> forward(const torch::Tensor &positions, torch::ScalarType dtype);
  torch::Tensor invFreq; // buffer [headDim / 2]
};
TORCH_MODULE(RotaryEmbedding);

/// A trainable update added to a projection's output — LoRA's low-rank delta (model/Lora.h). Kept outside the
/// module tree, so the decoder's parameter names stay Hugging Face's with or without adapters.
struct ProjectionAdapter {
  virtual ~ProjectionAdapter() = default;
  /// The update for input `x` [..., in] → [..., out].
  virtual torch::Tensor delta(const torch::Tensor &x) = 0;
};

/// proj(x), plus the adapter's delta when one is attached.
inline torch::Tensor project(torch::nn::Linear &proj, const std::shared_ptr<ProjectionAdapter> &adapter,
                             const torch::Tensor &x) {
  torch::Tensor y = proj(x);
  return adapter ? y + adapter->delta(x) : y;
}

/// Keys and values of the positions already processed, per layer, for incremental decoding.
struct KVCache {
  std::vector<torch::Tensor> keys, values; // per layer: [batch, kvHeads, cached or capacity, headDim]
  int64_t length = 0;                      // positions cached
  /// 0: each forward appends by concatenation (a new tensor per layer and step). N > 0: the first forward
  /// allocates room for N positions and later ones write theirs in place; the first `length` are attended.
  int64_t capacity = 0;
  /// Batched decoding of prompts of different lengths (left padding): [batch, cached + new], true where a
  /// key is a real token. The caller extends it before each forward; undefined: every key is real.
  torch::Tensor keyMask;
};

struct AttentionImpl : torch::nn::Module {
  explicit AttentionImpl(const ModelConfig &config);
  /// With `cache`, the keys and values of `x` are appended to the layer's entries and the queries attend to
  /// all cached positions (x holds only new positions: the whole prompt first, then one token at a time).
  /// With `packed`, x is [1, S, hidden]: the packed tokens of model/PackedLayout.h, end to end.
  torch::Tensor forward(const torch::Tensor &x, const torch::Tensor &cos, const torch::Tensor &sin,
                        KVCache *cache = nullptr, size_t layer = 0, const PackedTokens *packed = nullptr);
  torch::nn::Linear q_proj{nullptr}, k_proj{nullptr}, v_proj{nullptr}, o_proj{nullptr};
  std::shared_ptr<ProjectionAdapter> q_adapter, k_adapter, v_adapter, o_adapter;
  int64_t heads, kvHeads, headDim;
};
TORCH_MODULE(Attention);

struct MlpImpl : torch::nn::Module {
  explicit MlpImpl(const ModelConfig &config);
  torch::Tensor forward(const torch::Tensor &x);
  torch::nn::Linear gate_proj{nullptr}, up_proj{nullptr}, down_proj{nullptr};
  std::shared_ptr<ProjectionAdapter> gate_adapter, up_adapter, down_adapter;
};
TORCH_MODULE(Mlp);

struct DecoderLayerImpl : torch::nn::Module {
  explicit DecoderLayerImpl(const ModelConfig &config);
  torch::Tensor forward(const torch::Tensor &x, const torch::Tensor &cos, const torch::Tensor &sin,
                        KVCache *cache = nullptr, size_t layer = 0, const PackedTokens *packed = nullptr);
  RMSNorm input_layernorm{nullptr}, post_attention_layernorm{nullptr};
  Attention self_attn{nullptr};
  Mlp mlp{nullptr};
};
TORCH_MODULE(DecoderLayer);

/// The decoder stack without the LM head (Hugging Face's `model.` prefix).
struct DecoderImpl : torch::nn::Module {
  explicit DecoderImpl(const ModelConfig &config);
  /// embeddings [batch, seq, hidden] (token embeddings, possibly with soft tokens spliced in) → final hidden.
  torch::Tensor forward(const torch::Tensor &embeddings, const torch::Tensor &positions, KVCache *cache = nullptr);
  /// The same for right-padded embeddings laid out as `packed` says (model/PackedLayout.h): without the
  /// padding, shared prefixes once; the result is [batch, seq, hidden] again, zero at padded positions.
  torch::Tensor forwardPacked(const torch::Tensor &embeddings, const PackedTokens &packed);
  /// Layer i on x, recomputed in backward when recomputeLayers says so.
  torch::Tensor runLayer(size_t i, const torch::Tensor &x, const torch::Tensor &cos, const torch::Tensor &sin,
                         const PackedTokens *packed);
  /// Activation checkpointing (model/ActivationRecompute.h): each layer keeps only its input and runs again
  /// in backward. The stage sets it from its schedule's `activations`; passes without gradients ignore it.
  bool recomputeLayers = false;
  torch::nn::Embedding embed_tokens{nullptr};
  torch::nn::ModuleList layers{nullptr};
  RMSNorm norm{nullptr};
  RotaryEmbedding rotary{nullptr};
};
TORCH_MODULE(Decoder);

/// A causal language model: decoder + LM head (tied to the embedding when the config says so).
struct CausalLMImpl : torch::nn::Module {
  explicit CausalLMImpl(const ModelConfig &config);
  /// Final hidden states for input ids [batch, seq] (right padding; positions 0..seq-1).
  ///
  /// With `softTokens` [batch, T, hidden] (P-RLHF user tokens), the decoder reads BOS, the T soft tokens,
  /// then the rest of the ids, and the result drops the first T positions: row i is then the state that
  /// predicts ids[i + 1] — for i = 0 the last soft token — so shapes and label positions do not change.
  ///
  /// With a `layout` (the real tokens of each right-padded row, and which rows share a prefix), the pass skips
  /// the padding and decodes shared prefixes once when that is worth it (worthPacking); the padded positions'
  /// states are zero. Without, every position is computed.
  torch::Tensor hidden(const torch::Tensor &inputIds, const torch::Tensor &softTokens = {},
                       const RowLayout &layout = {});
  /// LM-head weight [vocab, hidden]: the embedding matrix when tied.
  torch::Tensor headWeight() const;
  torch::Tensor logits(const torch::Tensor &inputIds, const torch::Tensor &softTokens = {}) {
    return torch::nn::functional::linear(hidden(inputIds, softTokens), headWeight());
  }
  /// Random initialisation as in Hugging Face (normal(0, 0.02) weights, zero biases, unit norms), seeded.
  void initialize(uint64_t seed);

  ModelConfig config;
  Decoder model{nullptr};
  torch::nn::Linear lm_head{nullptr}; // null when tied
};
TORCH_MODULE(CausalLM);

/// log p(ids[t] | ids[<t]) for t = 1..seq-1 of each row: [batch, seq - 1]. Materialises the logits; the
/// chunked path that does not is the objectives' business. `softTokens` as in CausalLMImpl::hidden.
torch::Tensor tokenLogprobs(CausalLM &model, const torch::Tensor &inputIds, const torch::Tensor &softTokens = {});

/// Token embeddings of `inputIds` with `softTokens` [batch, T, hidden] inserted after the first (BOS).
torch::Tensor embedWithSoftTokens(CausalLM &model, const torch::Tensor &inputIds, const torch::Tensor &softTokens);
/// Token embeddings [batch, seq, hidden] with `softTokens` [batch, T, hidden] inserted after the first (BOS).
torch::Tensor spliceSoftTokens(const torch::Tensor &embedded, const torch::Tensor &softTokens);

/// The decoder's final hidden states for `embeddings` [batch, seq, hidden] at positions 0..seq-1, packed as
/// `layout` allows when that is worth it (worthPacking); shared by CausalLM and RewardModel.
torch::Tensor runDecoder(DecoderImpl &decoder, const torch::Tensor &embeddings, const RowLayout &layout);

} // namespace align::rt
