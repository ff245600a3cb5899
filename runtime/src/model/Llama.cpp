//===- Llama.cpp - Llama-family decoder ------------------------------------===//
//
// The numerics follow Hugging Face's modeling_llama.py step for step (float32 RMSNorm, rotary tables from
// inv_freq × position, rotate_half, repeat of key/value heads, SDPA with scale 1/√d), so fp32 logits agree
// with transformers to ~1e-6; tests/reference/test_logits_parity.py holds us to it.
//
//===----------------------------------------------------------------------===//

#include "model/Llama.h"

#include "model/ActivationRecompute.h"

#include "align/rt/Error.h"

#include <cmath>
#include <optional>

namespace align::rt {

namespace F = torch::nn::functional;

RMSNormImpl::RMSNormImpl(int64_t size, double eps) : eps(eps) {
  weight = register_parameter("weight", torch::ones({size}));
}

torch::Tensor RMSNormImpl::forward(const torch::Tensor &x) {
  auto dtype = x.scalar_type();
  torch::Tensor h = x.to(torch::kFloat32);
  h = h * torch::rsqrt(h.pow(2).mean(-1, /*keepdim=*/true) + eps);
  return weight * h.to(dtype);
}

/// Inverse frequencies of the rotary embedding, with the config's scaling (Llama-3 or linear).
static torch::Tensor inverseFrequencies(const ModelConfig &config) {
  int64_t dim = config.headDim;
  torch::Tensor invFreq =
      1.0 / torch::pow(config.ropeTheta, torch::arange(0, dim, 2, torch::kInt64).to(torch::kFloat32) / dim);
  if (!config.ropeScaling)
    return invFreq;
  const RopeScaling &s = *config.ropeScaling;
  if (s.type == "linear")
    return invFreq / s.factor;
  // Llama-3: long wavelengths are divided by the factor, short ones kept, the band between interpolated.
  double lowWavelen = s.originalMaxPositionEmbeddings / s.lowFreqFactor;
  double highWavelen = s.originalMaxPositionEmbeddings / s.highFreqFactor;
  torch::Tensor wavelen = 2 * M_PI / invFreq;
  torch::Tensor scaled = torch::where(wavelen > lowWavelen, invFreq / s.factor, invFreq);
  torch::Tensor smooth =
      (s.originalMaxPositionEmbeddings / wavelen - s.lowFreqFactor) / (s.highFreqFactor - s.lowFreqFactor);
  torch::Tensor smoothed = (1 - smooth) * scaled / s.factor + smooth * scaled;
  torch::Tensor medium = (wavelen >= highWavelen).logical_and(wavelen <= lowWavelen);
  return torch::where(medium, smoothed, scaled);
}

RotaryEmbeddingImpl::RotaryEmbeddingImpl(const ModelConfig &config) {
  invFreq = register_buffer("inv_freq", inverseFrequencies(config));
}

std::pair<torch::Tensor, torch::Tensor> RotaryEmbeddingImpl::forward(const torch::Tensor &positions,
                                                                     torch::ScalarType dtype) {
  torch::Tensor freqs = positions.to(torch::kFloat32).unsqueeze(-1) * invFreq.to(torch::kFloat32); // [B, T, D/2]
  torch::Tensor emb = torch::cat({freqs, freqs}, -1);
  return {emb.cos().to(dtype), emb.sin().to(dtype)};
}

static torch::Tensor rotateHalf(const torch::Tensor &x) {
  int64_t half = x.size(-1) / 2;
  return torch::cat({-x.slice(-1, half), x.slice(-1, 0, half)}, -1);
}

AttentionImpl::AttentionImpl(const ModelConfig &config)
    : heads(config.numAttentionHeads), kvHeads(config.numKeyValueHeads), headDim(config.headDim) {
  if (heads % kvHeads != 0)
    throw Error("config: num_attention_heads (" + std::to_string(heads) + ") is not a multiple of num_key_value_heads (" +
                std::to_string(kvHeads) + ")");
  bool qkvBias = config.attentionBias;
  bool oBias = config.outputProjectionBias(); // Qwen2: biases on q, k, v only
  auto linear = [](int64_t in, int64_t out, bool bias) { return torch::nn::LinearOptions(in, out).bias(bias); };
  q_proj = register_module("q_proj", torch::nn::Linear(linear(config.hiddenSize, heads * headDim, qkvBias)));
  k_proj = register_module("k_proj", torch::nn::Linear(linear(config.hiddenSize, kvHeads * headDim, qkvBias)));
  v_proj = register_module("v_proj", torch::nn::Linear(linear(config.hiddenSize, kvHeads * headDim, qkvBias)));
  o_proj = register_module("o_proj", torch::nn::Linear(linear(heads * headDim, config.hiddenSize, oBias)));
}

torch::Tensor AttentionImpl::forward(const torch::Tensor &x, const torch::Tensor &cos, const torch::Tensor &sin,
                                     KVCache *cache, size_t layer, const PackedTokens *packed) {
  int64_t batch = x.size(0), seq = x.size(1);
  auto split = [&](const torch::Tensor &t, int64_t n) { return t.view({batch, seq, n, headDim}).transpose(1, 2); };
  torch::Tensor q = split(project(q_proj, q_adapter, x), heads), k = split(project(k_proj, k_adapter, x), kvHeads),
                v = split(project(v_proj, v_adapter, x), kvHeads);
  torch::Tensor c = cos.unsqueeze(1), s = sin.unsqueeze(1);
  q = q * c + rotateHalf(q) * s;
  k = k * c + rotateHalf(k) * s;
  if (packed) {
    if (cache)
      throw Error("packed decoding does not use a KV cache");
    // The packed tokens into their attention rows [rows, n, length, d] (zeros elsewhere): each sequence's own
    // row, or its group's (shared prefix, then each sequence's own tokens) under the group's mask.
    const int64_t slots = packed->attentionRows * packed->attentionLength;
    auto intoRows = [&](const torch::Tensor &t, int64_t n) {
      return torch::zeros({slots, n, headDim}, t.options())
          .index_copy(0, packed->slot, t.squeeze(0).transpose(0, 1))
          .view({packed->attentionRows, packed->attentionLength, n, headDim})
          .transpose(1, 2);
    };
    q = intoRows(q, heads);
    k = intoRows(k, kvHeads);
    v = intoRows(v, kvHeads);
    if (kvHeads != heads) {
      k = k.repeat_interleave(heads / kvHeads, 1);
      v = v.repeat_interleave(heads / kvHeads, 1);
    }
    std::optional<torch::Tensor> mask;
    if (packed->mask.defined())
      mask = packed->mask;
    torch::Tensor out = at::scaled_dot_product_attention(q, k, v, /*attn_mask=*/mask, /*dropout_p=*/0.0,
                                                         /*is_causal=*/!mask, /*scale=*/1.0 / std::sqrt(double(headDim)));
    out = out.transpose(1, 2).reshape({slots, heads * headDim}).index_select(0, packed->slot);
    return project(o_proj, o_adapter, out.unsqueeze(0));
  }
  bool causal = true, grouped = false;
  if (cache) {
    if (cache->keys.size() <= layer) {
      cache->keys.resize(layer + 1);
      cache->values.resize(layer + 1);
    }
    const int64_t start = cache->length;
    if (start > 0 && seq != 1) // a query block after cached positions would need an offset causal mask
      throw Error("incremental decoding feeds one token at a time after the prompt");
    if (cache->capacity > 0) {
      if (start + seq > cache->capacity)
        throw Error("the KV cache holds " + std::to_string(cache->capacity) + " positions, not " +
                    std::to_string(start + seq));
      if (!cache->keys[layer].defined()) {
        cache->keys[layer] = torch::empty({batch, kvHeads, cache->capacity, headDim}, k.options());
        cache->values[layer] = torch::empty({batch, kvHeads, cache->capacity, headDim}, v.options());
      }
      cache->keys[layer].narrow(2, start, seq).copy_(k);
      cache->values[layer].narrow(2, start, seq).copy_(v);
      k = cache->keys[layer].narrow(2, 0, start + seq);
      v = cache->values[layer].narrow(2, 0, start + seq);
      grouped = start > 0 && kvHeads != heads; // decoding: SDPA reads the shared key/value heads in place
    } else {
      if (cache->keys[layer].defined()) {
        k = torch::cat({cache->keys[layer], k}, 2);
        v = torch::cat({cache->values[layer], v}, 2);
      }
      cache->keys[layer] = k;
      cache->values[layer] = v;
    }
    causal = start == 0; // after the prompt, the single new query may see every cached position
  }
  if (kvHeads != heads && !grouped) { // grouped-query attention: each key/value head serves heads / kvHeads query heads
    k = k.repeat_interleave(heads / kvHeads, 1);
    v = v.repeat_interleave(heads / kvHeads, 1);
  }
  std::optional<torch::Tensor> mask; // [batch, 1, queries, keys], true: attend
  if (cache && cache->keyMask.defined()) {
    const int64_t keys = k.size(2);
    if (cache->keyMask.size(1) != keys)
      throw Error("the KV cache's key mask covers " + std::to_string(cache->keyMask.size(1)) + " positions, not " +
                  std::to_string(keys));
    mask = cache->keyMask.view({batch, 1, 1, keys});
    if (causal) { // the prompt pass: causal within the left-padded block; each query also sees itself, so a
                  // padding row's softmax has a term (its output is never read)
      torch::Tensor lower = torch::ones({seq, keys}, mask->options()).tril();
      mask = (*mask & lower) | torch::eye(seq, keys, lower.options());
    }
    causal = false;
  }
  torch::Tensor out = at::scaled_dot_product_attention(q, k, v, /*attn_mask=*/mask, /*dropout_p=*/0.0,
                                                       /*is_causal=*/causal, /*scale=*/1.0 / std::sqrt(double(headDim)),
                                                       /*enable_gqa=*/grouped);
  return project(o_proj, o_adapter, out.transpose(1, 2).reshape({batch, seq, heads * headDim}));
}

MlpImpl::MlpImpl(const ModelConfig &config) {
  auto linear = [&](int64_t in, int64_t out) { return torch::nn::Linear(torch::nn::LinearOptions(in, out).bias(config.mlpBias)); };
  gate_proj = register_module("gate_proj", linear(config.hiddenSize, config.intermediateSize));
  up_proj = register_module("up_proj", linear(config.hiddenSize, config.intermediateSize));
  down_proj = register_module("down_proj", linear(config.intermediateSize, config.hiddenSize));
}

torch::Tensor MlpImpl::forward(const torch::Tensor &x) {
  return project(down_proj, down_adapter, F::silu(project(gate_proj, gate_adapter, x)) * project(up_proj, up_adapter, x));
}

DecoderLayerImpl::DecoderLayerImpl(const ModelConfig &config) {
  input_layernorm = register_module("input_layernorm", RMSNorm(config.hiddenSize, config.rmsNormEps));
  self_attn = register_module("self_attn", Attention(config));
  post_attention_layernorm = register_module("post_attention_layernorm", RMSNorm(config.hiddenSize, config.rmsNormEps));
  mlp = register_module("mlp", Mlp(config));
}

torch::Tensor DecoderLayerImpl::forward(const torch::Tensor &x, const torch::Tensor &cos, const torch::Tensor &sin,
                                        KVCache *cache, size_t layer, const PackedTokens *packed) {
  torch::Tensor h = x + self_attn(input_layernorm(x), cos, sin, cache, layer, packed);
  return h + mlp(post_attention_layernorm(h));
}

DecoderImpl::DecoderImpl(const ModelConfig &config) {
  embed_tokens = register_module("embed_tokens", torch::nn::Embedding(config.vocabSize, config.hiddenSize));
  layers = register_module("layers", torch::nn::ModuleList());
  for (int64_t i = 0; i < config.numHiddenLayers; ++i)
    layers->push_back(DecoderLayer(config));
  norm = register_module("norm", RMSNorm(config.hiddenSize, config.rmsNormEps));
  // Not a parameter and not in checkpoints (Hugging Face recomputes it too), so registered under a name
  // the checkpoint code skips.
  rotary = register_module("rotary_emb", RotaryEmbedding(config));
}

torch::Tensor DecoderImpl::forward(const torch::Tensor &embeddings, const torch::Tensor &positions, KVCache *cache) {
  auto [cos, sin] = rotary(positions, embeddings.scalar_type());
  torch::Tensor h = embeddings;
  for (size_t i = 0; i < layers->size(); ++i)
    h = cache ? layers[i]->as<DecoderLayer>()->forward(h, cos, sin, cache, i) : runLayer(i, h, cos, sin, nullptr);
  if (cache)
    cache->length += embeddings.size(1);
  return norm(h);
}

torch::Tensor DecoderImpl::forwardPacked(const torch::Tensor &embeddings, const PackedTokens &packed) {
  const int64_t hiddenSize = embeddings.size(2);
  if (embeddings.size(0) != packed.rows || embeddings.size(1) != packed.length)
    throw Error("packed decoding: the layout is for " + std::to_string(packed.rows) + " rows of " +
                std::to_string(packed.length) + " positions, the embeddings are not");
  torch::Tensor h =
      embeddings.reshape({packed.rows * packed.length, hiddenSize}).index_select(0, packed.index).unsqueeze(0);
  auto [cos, sin] = rotary(packed.positions.unsqueeze(0), embeddings.scalar_type());
  for (size_t i = 0; i < layers->size(); ++i)
    h = runLayer(i, h, cos, sin, &packed);
  h = norm(h).squeeze(0);
  if (packed.outputSource.defined()) // a shared prefix's states serve each sequence of its group
    h = h.index_select(0, packed.outputSource);
  return torch::zeros({packed.rows * packed.length, hiddenSize}, h.options())
      .index_copy(0, packed.outputIndex, h)
      .view({packed.rows, packed.length, hiddenSize});
}

torch::Tensor DecoderImpl::runLayer(size_t i, const torch::Tensor &x, const torch::Tensor &cos, const torch::Tensor &sin,
                                    const PackedTokens *packed) {
  auto layer = std::static_pointer_cast<DecoderLayerImpl>(layers->ptr(i));
  if (!recomputeLayers)
    return layer->forward(x, cos, sin, nullptr, i, packed);
  // The backward runs the layer again after this pass has returned: the closure holds what it reads.
  auto kept = packed ? std::make_shared<const PackedTokens>(*packed) : nullptr;
  return recomputeInBackward(
      [layer, cos, sin, kept, i](const torch::Tensor &input) {
        return layer->forward(input, cos, sin, nullptr, i, kept.get());
      },
      x);
}

torch::Tensor runDecoder(DecoderImpl &decoder, const torch::Tensor &embeddings, const RowLayout &layout) {
  const int64_t length = embeddings.size(1);
  if (worthPacking(layout, length))
    return decoder.forwardPacked(embeddings, packTokens(layout, length));
  torch::Tensor positions =
      torch::arange(length, embeddings.options().dtype(torch::kInt64)).unsqueeze(0).expand({embeddings.size(0), -1});
  return decoder.forward(embeddings, positions);
}

torch::Tensor embedWithSoftTokens(CausalLMImpl &model, const torch::Tensor &inputIds, const torch::Tensor &softTokens);

CausalLMImpl::CausalLMImpl(const ModelConfig &config) : config(config) {
  model = register_module("model", Decoder(config));
  if (!config.tieWordEmbeddings)
    lm_head = register_module("lm_head", torch::nn::Linear(torch::nn::LinearOptions(config.hiddenSize, config.vocabSize).bias(false)));
}

torch::Tensor CausalLMImpl::headWeight() const {
  return config.tieWordEmbeddings ? model->embed_tokens->weight : lm_head->weight;
}

torch::Tensor CausalLMImpl::hidden(const torch::Tensor &inputIds, const torch::Tensor &softTokens,
                                   const RowLayout &layout) {
  if (inputIds.dim() != 2)
    throw Error("input ids must be [batch, sequence], got " + std::to_string(inputIds.dim()) + " dimensions");
  if (inputIds.numel() > 0 && (inputIds.min().item<int64_t>() < 0 || inputIds.max().item<int64_t>() >= config.vocabSize))
    throw Error("token id out of range [0, " + std::to_string(config.vocabSize) + ")");
  const int64_t t = softTokens.defined() ? softTokens.size(1) : 0;
  torch::Tensor embeddings = t > 0 ? embedWithSoftTokens(*this, inputIds, softTokens) : model->embed_tokens(inputIds);
  torch::Tensor h = runDecoder(*model, embeddings, layout.shifted(t));
  return t > 0 ? h.slice(1, t) : h;
}

void CausalLMImpl::initialize(uint64_t seed) {
  torch::NoGradGuard noGrad;
  auto generator = at::make_generator<at::CPUGeneratorImpl>(seed);
  for (auto &item : named_parameters()) {
    const std::string &name = item.key();
    torch::Tensor &p = item.value();
    bool isNorm = name.find("norm") != std::string::npos;
    bool isBias = name.size() >= 4 && name.compare(name.size() - 4, 4, "bias") == 0;
    if (isNorm)
      p.fill_(1.0);
    else if (isBias)
      p.zero_();
    else
      p.copy_(at::normal(0.0, 0.02, p.sizes(), generator, p.options()));
  }
}

torch::Tensor embedWithSoftTokens(CausalLMImpl &model, const torch::Tensor &inputIds, const torch::Tensor &softTokens) {
  return spliceSoftTokens(model.model->embed_tokens(inputIds), softTokens);
}

torch::Tensor spliceSoftTokens(const torch::Tensor &embedded, const torch::Tensor &softTokens) {
  if (softTokens.dim() != 3 || softTokens.size(0) != embedded.size(0) || softTokens.size(2) != embedded.size(2))
    throw Error("soft tokens must be [batch, tokens, hidden] matching the input ids");
  if (embedded.size(1) < 1)
    throw Error("soft tokens go after BOS, but a sequence is empty");
  return torch::cat({embedded.slice(1, 0, 1), softTokens.to(embedded.dtype()), embedded.slice(1, 1)}, 1);
}

torch::Tensor embedWithSoftTokens(CausalLM &model, const torch::Tensor &inputIds, const torch::Tensor &softTokens) {
  return embedWithSoftTokens(*model, inputIds, softTokens);
}

torch::Tensor tokenLogprobs(CausalLM &model, const torch::Tensor &inputIds, const torch::Tensor &softTokens) {
  torch::Tensor logits = model->logits(inputIds, softTokens).to(torch::kFloat32);
  torch::Tensor logp = torch::log_softmax(logits.slice(1, 0, -1), -1);
  return logp.gather(-1, inputIds.slice(1, 1).unsqueeze(-1)).squeeze(-1);
}

} // namespace align::rt
