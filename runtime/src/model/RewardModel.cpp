//===- RewardModel.cpp - Reward heads on the decoder ----------------------===//

#include "model/RewardModel.h"

#include "align/rt/Error.h"
#include "checkpoint/SafeTensors.h"
#include "support/Files.h"
#include "model/Checkpoint.h"

#include <nlohmann/json.hpp>

#include <fstream>
#include <map>
#include <sstream>

namespace align::rt {

Pooling parsePooling(const std::string &name) {
  Pooling pooling = Pooling::eos;
  if (!parse(name, pooling))
    throw Error("unknown pooling '" + name + "' (expected last, eos, mean or max)");
  return pooling;
}

torch::Tensor poolHidden(const torch::Tensor &hidden, const torch::Tensor &mask, Pooling pooling) {
  torch::Tensor keep = mask.to(torch::kBool);
  torch::Tensor lengths = keep.sum(1); // non-pad tokens per row (right padding)
  if (pooling == Pooling::mean) {
    torch::Tensor m = keep.unsqueeze(-1).to(hidden.scalar_type());
    return (hidden * m).sum(1) / lengths.clamp_min(1).unsqueeze(-1).to(hidden.scalar_type());
  }
  if (pooling == Pooling::max) {
    torch::Tensor masked = hidden.masked_fill(~keep.unsqueeze(-1), -std::numeric_limits<float>::infinity());
    return std::get<0>(masked.max(1));
  }
  // Eos reads index length − 1; Last reads length − 2, the token before EOS. A one-token row has no token
  // before its last, so it reads index 0 rather than wrapping around to the padding at the end.
  torch::Tensor index = (lengths - (pooling == Pooling::last ? 2 : 1)).clamp_min(0);
  torch::Tensor rows = torch::arange(hidden.size(0), index.options());
  return hidden.index({rows, index});
}

RewardModelImpl::RewardModelImpl(const ModelConfig &config, int64_t outputs, Pooling pooling, bool lmHead)
    : config(config), outputs(outputs), pooling(pooling), hasHead(lmHead) {
  if (outputs < 1)
    throw Error("a reward model needs at least one output");
  model = register_module("model", Decoder(config));
  score = register_module("score", torch::nn::Linear(torch::nn::LinearOptions(config.hiddenSize, outputs).bias(false)));
  if (lmHead && !config.tieWordEmbeddings)
    lm_head = register_module(
        "lm_head", torch::nn::Linear(torch::nn::LinearOptions(config.hiddenSize, config.vocabSize).bias(false)));
}

torch::Tensor RewardModelImpl::hidden(const torch::Tensor &inputIds, const torch::Tensor &softTokens,
                                      const RowLayout &layout) {
  const int64_t t = softTokens.defined() ? softTokens.size(1) : 0;
  torch::Tensor embeddings = t > 0 ? spliceSoftTokens(model->embed_tokens(inputIds), softTokens)
                                   : model->embed_tokens(inputIds);
  torch::Tensor h = runDecoder(*model, embeddings, layout.shifted(t));
  return t > 0 ? h.slice(1, t) : h;
}

torch::Tensor RewardModelImpl::rewardsOf(const torch::Tensor &hidden, const torch::Tensor &mask) {
  return score(poolHidden(hidden, mask, pooling));
}

torch::Tensor RewardModelImpl::forward(const torch::Tensor &inputIds, const torch::Tensor &mask,
                                       const torch::Tensor &softTokens) {
  return rewardsOf(hidden(inputIds, softTokens, mask.sum(1)), mask);
}

torch::Tensor RewardModelImpl::headWeight() const {
  if (!hasHead)
    throw Error("this reward model has no language-model head (its checkpoint has no lm_head.weight)");
  return lm_head ? lm_head->weight : model->embed_tokens->weight;
}

RewardModel rewardModelFrom(CausalLM &lm, int64_t outputs, Pooling pooling, uint64_t seed) {
  RewardModel rm(lm->config, outputs, pooling);
  torch::NoGradGuard noGrad;
  auto source = lm->model->named_parameters();
  for (auto &item : rm->model->named_parameters())
    item.value().copy_(source[item.key()]);
  if (rm->lm_head) // tied configs share the embedding, copied above
    rm->lm_head->weight.copy_(lm->headWeight());
  auto generator = at::make_generator<at::CPUGeneratorImpl>(seed);
  rm->score->weight.copy_(at::normal(0.0, 0.02, rm->score->weight.sizes(), generator, rm->score->weight.options()));
  return rm;
}

namespace {

nlohmann::json readJson(const std::string &path) {
  std::ifstream in(path);
  if (!in)
    throw Error(path + ": cannot read file");
  nlohmann::json j = nlohmann::json::parse(in, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object())
    throw Error(path + ": not a JSON object");
  return j;
}

std::string architecture(const std::string &modelType) {
  if (modelType == "qwen2")
    return "Qwen2ForSequenceClassification";
  if (modelType == "mistral")
    return "MistralForSequenceClassification";
  return "LlamaForSequenceClassification";
}

} // namespace

RewardModel loadRewardModel(const std::string &dir) {
  if (!isDirectory(dir))
    throw Error(dir + ": not a checkpoint directory");
  checkCheckpointManifest(dir);
  std::string configPath = joinPath(dir, "config.json");
  ModelConfig config = readModelConfig(configPath);
  nlohmann::json j = readJson(configPath);
  // transformers stores the number of outputs as id2label (num_labels is derived from it); 2 when absent.
  int64_t outputs = 2;
  if (j.contains("id2label")) {
    if (!j["id2label"].is_object() || j["id2label"].empty())
      throw Error(configPath + ": field 'id2label': expected a non-empty object");
    outputs = static_cast<int64_t>(j["id2label"].size());
  }
  Pooling pooling = Pooling::eos; // what transformers' sequence classification reads
  if (j.contains("align_pooling")) {
    if (!j["align_pooling"].is_string())
      throw Error(configPath + ": field 'align_pooling': expected a string");
    pooling = parsePooling(j["align_pooling"].get<std::string>());
  }
  std::map<std::string, torch::Tensor> tensors = readCheckpointTensors(dir);
  checkConfigAgainstTensors(config, tensors, configPath);
  // Ours keep the LM head (DSP's imitation term reads it); transformers' reward models have none.
  const bool lmHead = config.tieWordEmbeddings || tensors.count("lm_head.weight") > 0;
  RewardModel rm(config, outputs, pooling, lmHead);
  loadParametersStrict(*rm, tensors, joinPath(dir, "model.safetensors"),
                       [&](const std::string &name) { return name == "lm_head.weight" && config.tieWordEmbeddings; });
  return rm;
}

void saveRewardModel(RewardModel &model, const std::string &dir) {
  saveParameters(*model, dir);
  std::string configPath = joinPath(dir, "config.json");
  writeModelConfig(model->config, configPath);
  // Turn the causal-LM config into a sequence-classification one transformers loads as such.
  nlohmann::json j = readJson(configPath);
  j["architectures"] = {architecture(model->config.modelType)};
  nlohmann::json id2label = nlohmann::json::object(), label2id = nlohmann::json::object();
  for (int64_t i = 0; i < model->outputs; ++i) {
    id2label[std::to_string(i)] = "LABEL_" + std::to_string(i);
    label2id["LABEL_" + std::to_string(i)] = i;
  }
  j["id2label"] = id2label;
  j["label2id"] = label2id;
  j["align_pooling"] = spelling(model->pooling);
  writeFileAtomically(configPath, j.dump(2) + "\n");
}

} // namespace align::rt
