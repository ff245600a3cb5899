//===- Checkpoint.cpp - Hugging Face checkpoint directories ---------------===//

#include "model/Checkpoint.h"

#include "align/rt/Error.h"
#include "checkpoint/SafeTensors.h"
#include "support/Files.h"
#include "support/Manifest.h"

#include <unistd.h>

#include <set>

namespace align::rt {

namespace {

std::string shape(const torch::Tensor &t) {
  std::string out = "[";
  for (int64_t i = 0; i < t.dim(); ++i)
    out += (i ? ", " : "") + std::to_string(t.size(i));
  return out + "]";
}

/// Tensors a checkpoint may carry that are not parameters (older exports store rotary tables).
bool isDerivedBuffer(const std::string &name) { return name.find("rotary_emb.inv_freq") != std::string::npos; }

} // namespace

void loadParametersStrict(torch::nn::Module &module, const std::map<std::string, torch::Tensor> &tensors,
                          const std::string &weights, const std::function<bool(const std::string &)> &ignorable) {
  torch::NoGradGuard noGrad;
  std::set<std::string> used;
  for (auto &item : module.named_parameters()) {
    auto it = tensors.find(item.key());
    if (it == tensors.end())
      throw Error(weights + ": missing tensor '" + item.key() + "' (expected shape " + shape(item.value()) + ")");
    if (!it->second.sizes().equals(item.value().sizes()))
      throw Error(weights + ": tensor '" + item.key() + "' has shape " + shape(it->second) + ", but config.json implies " +
                  shape(item.value()));
    item.value().copy_(it->second.to(torch::kFloat32));
    used.insert(item.key());
  }
  for (const auto &[name, tensor] : tensors)
    if (!used.count(name) && !isDerivedBuffer(name) && !ignorable(name))
      throw Error(weights + ": unexpected tensor '" + name + "' (not a parameter of this model and config.json)");
}

void saveParameters(torch::nn::Module &module, const std::string &dir) {
  makeDirectories(dir);
  ::unlink(joinPath(dir, kManifestFile).c_str()); // it would describe the files replaced here
  std::map<std::string, torch::Tensor> tensors;
  for (const auto &item : module.named_parameters())
    tensors[item.key()] = item.value().detach().to(torch::kCPU).contiguous();
  writeSafetensors(joinPath(dir, "model.safetensors"), tensors, {{"format", "pt"}});
}

void checkConfigAgainstTensors(const ModelConfig &config, const std::map<std::string, torch::Tensor> &tensors,
                               const std::string &configPath) {
  auto embedding = tensors.find("model.embed_tokens.weight");
  if (embedding == tensors.end())
    throw Error(configPath + ": the checkpoint holds no model.embed_tokens.weight");
  if (embedding->second.dim() != 2 || embedding->second.size(0) != config.vocabSize ||
      embedding->second.size(1) != config.hiddenSize)
    throw Error(configPath + ": fields 'vocab_size' = " + std::to_string(config.vocabSize) + " and 'hidden_size' = " +
                std::to_string(config.hiddenSize) + " do not match model.embed_tokens.weight " +
                c10::str(embedding->second.sizes()));
  // Layers the tensors name: model.layers.<i>.…
  int64_t layers = 0;
  const std::string prefix = "model.layers.";
  for (const auto &[name, tensor] : tensors)
    if (name.compare(0, prefix.size(), prefix) == 0) {
      const int64_t index = std::strtoll(name.c_str() + prefix.size(), nullptr, 10);
      layers = std::max(layers, index + 1);
    }
  if (config.numHiddenLayers != layers)
    throw Error(configPath + ": field 'num_hidden_layers' = " + std::to_string(config.numHiddenLayers) +
                ", but the checkpoint holds " + std::to_string(layers) + " layers (model.layers.0.." +
                std::to_string(layers - 1) + ")");
}

void checkCheckpointManifest(const std::string &dir) {
  if (!hasManifest(dir))
    return;
  const std::string problem = checkManifest(dir);
  if (!problem.empty())
    throw Error(problem + "\n  the checkpoint " + dir + " is damaged; run the stage that writes it again (--resume "
                "does, from its training state)");
}

CausalLM loadCausalLM(const std::string &dir) {
  if (!isDirectory(dir))
    throw Error(dir + ": not a checkpoint directory");
  checkCheckpointManifest(dir);
  ModelConfig config = readModelConfig(joinPath(dir, "config.json"));
  std::map<std::string, torch::Tensor> tensors = readCheckpointTensors(dir);
  checkConfigAgainstTensors(config, tensors, joinPath(dir, "config.json"));
  CausalLM model(config);
  loadParametersStrict(*model, tensors, joinPath(dir, "model.safetensors"),
                       [&](const std::string &name) { return name == "lm_head.weight" && config.tieWordEmbeddings; });
  return model;
}

void saveCausalLM(CausalLM &model, const std::string &dir) {
  saveParameters(*model, dir);
  writeModelConfig(model->config, joinPath(dir, "config.json"));
}

CausalLM presetCausalLM(const std::string &preset, int64_t vocabSize, uint64_t seed) {
  CausalLM model(presetConfig(preset, vocabSize));
  model->initialize(seed);
  return model;
}

} // namespace align::rt
