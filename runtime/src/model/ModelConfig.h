//===- ModelConfig.h - Llama-family decoder shape ---------------*- C++ -*-===//
//
// The hyperparameters of a Llama, Qwen2 or Mistral decoder, read from and written to Hugging Face's
// `config.json`. Reading accepts both the transformers 4 spelling (`rope_theta`, `rope_scaling`,
// `torch_dtype`) and the transformers 5 one (`rope_parameters`, `dtype`); writing uses the 4 spelling,
// which both versions load.
//
//===----------------------------------------------------------------------===//
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace align::rt {

/// Rotary-embedding frequency scaling for contexts longer than the model was pretrained on.
struct RopeScaling {
  std::string type = "linear"; // "linear" (positions divided by factor) or "llama3" (frequency bands)
  double factor = 1.0;
  // Llama-3 only: wavelengths above originalMaxPositionEmbeddings / lowFreqFactor are divided by factor,
  // those below originalMaxPositionEmbeddings / highFreqFactor are kept, the band between interpolated.
  double lowFreqFactor = 1.0;
  double highFreqFactor = 4.0;
  int64_t originalMaxPositionEmbeddings = 8192;

  bool operator==(const RopeScaling &other) const;
};

struct ModelConfig {
  std::string modelType = "llama"; // "llama" | "qwen2" | "mistral"
  int64_t vocabSize = 0;
  int64_t hiddenSize = 0;
  int64_t intermediateSize = 0;
  int64_t numHiddenLayers = 0;
  int64_t numAttentionHeads = 0;
  int64_t numKeyValueHeads = 0; // grouped-query attention; equal to numAttentionHeads for plain MHA
  int64_t headDim = 0;          // explicit `head_dim`, else hiddenSize / numAttentionHeads
  int64_t maxPositionEmbeddings = 0;
  double rmsNormEps = 1e-6;
  double ropeTheta = 10000.0;
  bool tieWordEmbeddings = false;
  /// Biases on the q/k/v projections: Llama's `attention_bias` (which also puts one on o_proj), always on
  /// for Qwen2 (q/k/v only, see outputProjectionBias), always off for Mistral.
  bool attentionBias = false;
  bool mlpBias = false; // Llama's `mlp_bias`: biases on gate/up/down projections
  std::string hiddenAct = "silu";
  std::optional<RopeScaling> ropeScaling;
  std::optional<int64_t> bosTokenId;
  std::optional<int64_t> eosTokenId; // the first end-of-sequence id
  std::vector<int64_t> eosTokenIds;  // all of them (Llama-3 configs list several); empty when none
  std::optional<int64_t> padTokenId;
  std::optional<int64_t> slidingWindow; // Mistral's attention window, when it has one
  std::string torchDtype = "float32";   // the dtype the checkpoint's weights were saved in

  /// Whether o_proj has a bias: Llama's attention_bias covers all four projections, Qwen2's only three.
  bool outputProjectionBias() const { return attentionBias && modelType != "qwen2"; }

  bool operator==(const ModelConfig &other) const;
  bool operator!=(const ModelConfig &other) const { return !(*this == other); }
};

/// Reads a Hugging Face config.json. Missing required fields, fields of the wrong JSON type, values out of
/// range, an unsupported model_type, hidden_act or rope scaling type are align::rt::Errors naming the file
/// and the field.
ModelConfig readModelConfig(const std::string &configJsonPath);

/// The same on the text of a config.json; `path` names it in messages.
ModelConfig parseModelConfig(const std::string &text, const std::string &path);

/// Writes a config.json that transformers' AutoConfig and AutoModelForCausalLM load, atomically. The
/// weights the runtime saves are float32, so "torch_dtype" is always "float32".
void writeModelConfig(const ModelConfig &config, const std::string &path);

/// Built-in sizes for training from scratch: "tiny", "small", "medium" (all Llama, untied).
ModelConfig presetConfig(const std::string &preset, int64_t vocabSize);

} // namespace align::rt
