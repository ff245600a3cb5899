//===- ModelConfig.cpp - Llama-family decoder shape -----------------------===//
//
// Reading mirrors what transformers' LlamaConfig/Qwen2Config/MistralConfig accept: optional fields take the
// class defaults, JSON null means "not set", and Llama-3's list of end-of-sequence ids is kept whole. What
// our decoder cannot run (another activation, YaRN or dynamic RoPE, Qwen2's per-layer sliding windows) is
// refused by name instead of being silently approximated.
//
//===----------------------------------------------------------------------===//

#include "model/ModelConfig.h"

#include "support/AtomicWrite.h"

#include "align/rt/Error.h"
#include "align/registry/Registry.h"

#include <nlohmann/json.hpp>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <iterator>

namespace align::rt {
namespace {

using Json = nlohmann::json;

/// Typed access to the fields of one JSON object; errors name the file and the (dotted) field.
class FieldReader {
public:
  FieldReader(const std::string &path, const Json &object, std::string prefix = "")
      : path(path), object(object), prefix(std::move(prefix)) {}

  /// The field, or null when it is absent or JSON null (transformers treats both as "use the default").
  const Json *find(const std::string &field) const {
    auto it = object.find(field);
    return it == object.end() || it->is_null() ? nullptr : &*it;
  }
  bool has(const std::string &field) const { return find(field) != nullptr; }

  Error error(const std::string &field, const std::string &message) const {
    return Error(path + ": field '" + prefix + field + "' " + message);
  }

  const Json &require(const std::string &field) const {
    if (const Json *value = find(field))
      return *value;
    throw Error(path + ": missing field '" + prefix + field + "'");
  }

  int64_t integer(const std::string &field, const Json &value) const {
    if (!value.is_number_integer())
      throw error(field, "must be an integer, got " + value.dump());
    if (value.is_number_unsigned() && value.get<uint64_t>() > uint64_t(INT64_MAX)) // would wrap negative
      throw error(field, "is out of range for a 64-bit integer, got " + value.dump());
    return value.get<int64_t>();
  }
  int64_t requiredInt(const std::string &field) const { return integer(field, require(field)); }
  std::optional<int64_t> optionalInt(const std::string &field) const {
    const Json *value = find(field);
    return value ? std::optional<int64_t>(integer(field, *value)) : std::nullopt;
  }

  double number(const std::string &field, double fallback) const {
    const Json *value = find(field);
    if (!value)
      return fallback;
    if (!value->is_number())
      throw error(field, "must be a number, got " + value->dump());
    return value->get<double>();
  }
  double requiredNumber(const std::string &field) const {
    require(field);
    return number(field, 0.0);
  }

  bool boolean(const std::string &field, bool fallback) const {
    const Json *value = find(field);
    if (!value)
      return fallback;
    if (!value->is_boolean())
      throw error(field, "must be true or false, got " + value->dump());
    return value->get<bool>();
  }

  std::string string(const std::string &field, const std::string &fallback) const {
    const Json *value = find(field);
    if (!value)
      return fallback;
    if (!value->is_string())
      throw error(field, "must be a string, got " + value->dump());
    return value->get<std::string>();
  }

  const Json *objectOrNull(const std::string &field) const {
    const Json *value = find(field);
    if (value && !value->is_object())
      throw error(field, "must be an object or null, got " + value->dump());
    return value;
  }

  const std::string &path;
  const Json &object;
  std::string prefix;
};

/// rope_scaling (transformers 4) or rope_parameters (transformers 5): "default" means unscaled.
std::optional<RopeScaling> readRopeScaling(const FieldReader &rope) {
  std::string typeField = rope.has("rope_type") ? "rope_type" : "type";
  std::string type = rope.string(typeField, "default");
  if (type == "default")
    return std::nullopt;
  RopeScaling scaling;
  scaling.type = type;
  if (type == "linear") {
    scaling.factor = rope.requiredNumber("factor");
  } else if (type == "llama3") {
    scaling.factor = rope.requiredNumber("factor");
    scaling.lowFreqFactor = rope.requiredNumber("low_freq_factor");
    scaling.highFreqFactor = rope.requiredNumber("high_freq_factor");
    scaling.originalMaxPositionEmbeddings = rope.requiredInt("original_max_position_embeddings");
    if (scaling.highFreqFactor <= scaling.lowFreqFactor)
      throw rope.error("high_freq_factor", "must exceed low_freq_factor");
    if (scaling.lowFreqFactor <= 0)
      throw rope.error("low_freq_factor", "must be positive");
    if (scaling.originalMaxPositionEmbeddings <= 0)
      throw rope.error("original_max_position_embeddings", "must be positive");
  } else {
    throw rope.error(typeField,
                     "names unsupported rope scaling type '" + type + "' (supported: default, linear, llama3)");
  }
  if (scaling.factor <= 0)
    throw rope.error("factor", "must be positive");
  return scaling;
}

/// The checks shared by reading and writing; `where` is the file, fields carry their config.json names.
void validate(const ModelConfig &c, const std::string &where) {
  auto fail = [&](const std::string &field, const std::string &message) {
    return Error(where + ": field '" + field + "' " + message);
  };
  if (c.modelType != "llama" && c.modelType != "qwen2" && c.modelType != "mistral")
    throw fail("model_type", "names unsupported model type '" + c.modelType + "' (supported: llama, qwen2, mistral)");
  if (c.hiddenAct != "silu")
    throw fail("hidden_act", "names unsupported activation '" + c.hiddenAct + "' (only silu is supported)");
  const std::pair<const char *, int64_t> positive[] = {{"vocab_size", c.vocabSize},
                                                       {"hidden_size", c.hiddenSize},
                                                       {"intermediate_size", c.intermediateSize},
                                                       {"num_hidden_layers", c.numHiddenLayers},
                                                       {"num_attention_heads", c.numAttentionHeads},
                                                       {"num_key_value_heads", c.numKeyValueHeads},
                                                       {"head_dim", c.headDim},
                                                       {"max_position_embeddings", c.maxPositionEmbeddings}};
  for (const auto &[field, value] : positive)
    if (value <= 0)
      throw fail(field, "must be positive, got " + std::to_string(value));
  if (c.numAttentionHeads % c.numKeyValueHeads != 0)
    throw fail("num_key_value_heads", "(" + std::to_string(c.numKeyValueHeads) + ") must divide num_attention_heads (" +
                                          std::to_string(c.numAttentionHeads) + ")");
  if (c.headDim % 2 != 0)
    throw fail("head_dim", "must be even for rotary embeddings, got " + std::to_string(c.headDim));
  if (!(c.rmsNormEps > 0))
    throw fail("rms_norm_eps", "must be positive");
  if (!(c.ropeTheta > 0))
    throw fail("rope_theta", "must be positive");
  if (c.slidingWindow && *c.slidingWindow <= 0)
    throw fail("sliding_window", "must be positive or null, got " + std::to_string(*c.slidingWindow));
  if (c.slidingWindow && c.modelType != "mistral")
    throw fail("sliding_window", "is only supported for mistral models");
}

} // namespace

bool RopeScaling::operator==(const RopeScaling &o) const {
  return type == o.type && factor == o.factor && lowFreqFactor == o.lowFreqFactor &&
         highFreqFactor == o.highFreqFactor && originalMaxPositionEmbeddings == o.originalMaxPositionEmbeddings;
}

bool ModelConfig::operator==(const ModelConfig &o) const {
  return modelType == o.modelType && vocabSize == o.vocabSize && hiddenSize == o.hiddenSize &&
         intermediateSize == o.intermediateSize && numHiddenLayers == o.numHiddenLayers &&
         numAttentionHeads == o.numAttentionHeads && numKeyValueHeads == o.numKeyValueHeads && headDim == o.headDim &&
         maxPositionEmbeddings == o.maxPositionEmbeddings && rmsNormEps == o.rmsNormEps && ropeTheta == o.ropeTheta &&
         tieWordEmbeddings == o.tieWordEmbeddings && attentionBias == o.attentionBias && mlpBias == o.mlpBias &&
         hiddenAct == o.hiddenAct && ropeScaling == o.ropeScaling && bosTokenId == o.bosTokenId &&
         eosTokenId == o.eosTokenId && eosTokenIds == o.eosTokenIds && padTokenId == o.padTokenId &&
         slidingWindow == o.slidingWindow && torchDtype == o.torchDtype;
}

ModelConfig readModelConfig(const std::string &configJsonPath) {
  std::ifstream in(configJsonPath, std::ios::binary);
  if (!in)
    throw Error(configJsonPath + ": cannot open: " + std::strerror(errno));
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  return parseModelConfig(text, configJsonPath);
}

ModelConfig parseModelConfig(const std::string &text, const std::string &path) {
  Json root;
  try {
    root = Json::parse(text);
  } catch (const Json::exception &e) { // parse_error, and out_of_range for a number like 1e999
    throw Error(path + ": not valid JSON: " + e.what());
  }
  if (!root.is_object())
    throw Error(path + ": must hold a JSON object, got " + std::string(root.type_name()));
  FieldReader fields(path, root);

  ModelConfig c;
  const Json &modelType = fields.require("model_type");
  if (!modelType.is_string())
    throw fields.error("model_type", "must be a string, got " + modelType.dump());
  c.modelType = modelType.get<std::string>();
  if (c.modelType != "llama" && c.modelType != "qwen2" && c.modelType != "mistral")
    throw fields.error("model_type",
                       "names unsupported model type '" + c.modelType + "' (supported: llama, qwen2, mistral)");
  c.vocabSize = fields.requiredInt("vocab_size");
  c.hiddenSize = fields.requiredInt("hidden_size");
  c.intermediateSize = fields.requiredInt("intermediate_size");
  c.numHiddenLayers = fields.requiredInt("num_hidden_layers");
  c.numAttentionHeads = fields.requiredInt("num_attention_heads");
  if (c.numAttentionHeads <= 0)
    throw fields.error("num_attention_heads", "must be positive, got " + std::to_string(c.numAttentionHeads));
  c.numKeyValueHeads = fields.optionalInt("num_key_value_heads").value_or(c.numAttentionHeads);
  if (auto headDim = fields.optionalInt("head_dim")) {
    c.headDim = *headDim;
  } else {
    if (c.hiddenSize % c.numAttentionHeads != 0)
      throw fields.error("hidden_size", "(" + std::to_string(c.hiddenSize) +
                                            ") is not a multiple of num_attention_heads (" +
                                            std::to_string(c.numAttentionHeads) + ") and there is no head_dim");
    c.headDim = c.hiddenSize / c.numAttentionHeads;
  }
  // transformers' class defaults for a config.json that leaves the field out.
  int64_t defaultMaxPositions = c.modelType == "llama" ? 2048 : c.modelType == "qwen2" ? 32768 : 131072;
  c.maxPositionEmbeddings = fields.optionalInt("max_position_embeddings").value_or(defaultMaxPositions);
  c.rmsNormEps = fields.number("rms_norm_eps", 1e-6);
  c.tieWordEmbeddings = fields.boolean("tie_word_embeddings", false);
  c.hiddenAct = fields.string("hidden_act", "silu");
  if (c.hiddenAct != "silu")
    throw fields.error("hidden_act", "names unsupported activation '" + c.hiddenAct + "' (only silu is supported)");

  // Biases are architectural: Qwen2 always has them on q/k/v and Mistral never has any.
  c.attentionBias = c.modelType == "qwen2" || (c.modelType == "llama" && fields.boolean("attention_bias", false));
  c.mlpBias = c.modelType == "llama" && fields.boolean("mlp_bias", false);

  // transformers 5 folds theta and scaling into rope_parameters; 4 keeps rope_theta and rope_scaling.
  if (const Json *params = fields.objectOrNull("rope_parameters")) {
    FieldReader rope(path, *params, "rope_parameters.");
    c.ropeTheta = rope.number("rope_theta", fields.number("rope_theta", 10000.0));
    c.ropeScaling = readRopeScaling(rope);
  } else {
    c.ropeTheta = fields.number("rope_theta", 10000.0);
    if (const Json *scaling = fields.objectOrNull("rope_scaling"))
      c.ropeScaling = readRopeScaling(FieldReader(path, *scaling, "rope_scaling."));
  }

  c.bosTokenId = fields.optionalInt("bos_token_id");
  c.padTokenId = fields.optionalInt("pad_token_id");
  if (const Json *eos = fields.find("eos_token_id")) {
    if (eos->is_array()) {
      for (const Json &id : *eos)
        c.eosTokenIds.push_back(fields.integer("eos_token_id", id));
    } else {
      c.eosTokenIds.push_back(fields.integer("eos_token_id", *eos));
    }
    if (!c.eosTokenIds.empty())
      c.eosTokenId = c.eosTokenIds.front();
  }

  if (c.modelType == "mistral")
    c.slidingWindow = fields.optionalInt("sliding_window");
  // Qwen2 ships sliding_window with use_sliding_window false; when true, only the layers from
  // max_window_layers on slide, which our decoder does not model.
  if (c.modelType == "qwen2" && fields.boolean("use_sliding_window", false))
    throw fields.error("use_sliding_window", "is true: Qwen2's per-layer sliding-window attention is not supported");
  c.torchDtype = fields.string("torch_dtype", fields.string("dtype", "float32"));

  validate(c, path);
  return c;
}

void writeModelConfig(const ModelConfig &config, const std::string &path) {
  validate(config, path);
  const ModelConfig &c = config;
  auto optional = [](const std::optional<int64_t> &value) { return value ? Json(*value) : Json(nullptr); };

  // nlohmann::json sorts keys, as transformers' save_pretrained does.
  Json out;
  std::string architecture = c.modelType == "llama"   ? "LlamaForCausalLM"
                             : c.modelType == "qwen2" ? "Qwen2ForCausalLM"
                                                      : "MistralForCausalLM";
  out["architectures"] = {architecture};
  out["model_type"] = c.modelType;
  out["vocab_size"] = c.vocabSize;
  out["hidden_size"] = c.hiddenSize;
  out["intermediate_size"] = c.intermediateSize;
  out["num_hidden_layers"] = c.numHiddenLayers;
  out["num_attention_heads"] = c.numAttentionHeads;
  out["num_key_value_heads"] = c.numKeyValueHeads;
  out["head_dim"] = c.headDim;
  out["max_position_embeddings"] = c.maxPositionEmbeddings;
  out["rms_norm_eps"] = c.rmsNormEps;
  out["rope_theta"] = c.ropeTheta;
  out["rope_scaling"] = nullptr;
  if (c.ropeScaling) {
    const RopeScaling &s = *c.ropeScaling;
    Json scaling = {{"rope_type", s.type}, {"factor", s.factor}};
    if (s.type == "llama3") {
      scaling["low_freq_factor"] = s.lowFreqFactor;
      scaling["high_freq_factor"] = s.highFreqFactor;
      scaling["original_max_position_embeddings"] = s.originalMaxPositionEmbeddings;
    }
    out["rope_scaling"] = scaling;
  }
  out["tie_word_embeddings"] = c.tieWordEmbeddings;
  out["hidden_act"] = c.hiddenAct;
  if (c.modelType == "llama") { // the other two fix their biases by architecture
    out["attention_bias"] = c.attentionBias;
    out["mlp_bias"] = c.mlpBias;
  }
  if (c.modelType == "mistral")
    out["sliding_window"] = optional(c.slidingWindow);
  if (c.modelType == "qwen2") {
    out["sliding_window"] = nullptr;
    out["use_sliding_window"] = false;
  }
  // Written even when unset: an absent id would make transformers fall back to its class default (1, 2).
  out["bos_token_id"] = optional(c.bosTokenId);
  out["pad_token_id"] = optional(c.padTokenId);
  if (c.eosTokenIds.size() > 1)
    out["eos_token_id"] = c.eosTokenIds;
  else
    out["eos_token_id"] = optional(c.eosTokenId);
  out["torch_dtype"] = "float32";
  writeFileAtomically(path, out.dump(2) + "\n");
}

ModelConfig presetConfig(const std::string &preset, int64_t vocabSize) {
  // The sizes are the registry's (registry/include/align/registry/Presets.def).
  if (const registry::PresetShape *found = registry::findPreset(preset)) {
    const registry::PresetShape &p = *found;
    if (vocabSize <= 0)
      throw Error("model preset '" + preset + "': vocabulary size must be positive, got " + std::to_string(vocabSize));
    ModelConfig c;
    c.modelType = "llama";
    c.vocabSize = vocabSize;
    c.hiddenSize = p.hidden;
    c.intermediateSize = p.intermediate;
    c.numHiddenLayers = p.layers;
    c.numAttentionHeads = p.heads;
    c.numKeyValueHeads = p.kvHeads;
    c.headDim = p.hidden / p.heads;
    c.maxPositionEmbeddings = p.maxPositions;
    c.rmsNormEps = 1e-5;
    c.ropeTheta = 10000.0;
    c.tieWordEmbeddings = false;
    return c;
  }
  std::string names;
  for (const registry::PresetShape &p : registry::presets())
    names += (names.empty() ? "" : ", ") + std::string(p.name);
  throw Error("unknown model preset '" + preset + "' (presets: " + names + ")");
}

} // namespace align::rt
