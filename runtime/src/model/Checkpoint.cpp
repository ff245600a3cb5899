//===- Checkpoint.cpp - Hugging Face checkpoint directories ---------------===//

#include "model/Checkpoint.h"

#include "align/rt/Error.h"
#include "checkpoint/SafeTensors.h"
#include "core/Files.h"

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

CausalLM loadCausalLM(const std::string &dir) {
  if (!isDirectory(dir))
    throw Error(dir + ": not a checkpoint directory");
  ModelConfig config = readModelConfig(joinPath(dir, "config.json"));
  CausalLM model(config);
  std::map<std::string, torch::Tensor> tensors = readCheckpointTensors(dir);
  std::string weights = joinPath(dir, "model.safetensors");

  torch::NoGradGuard noGrad;
  std::set<std::string> used;
  for (auto &item : model->named_parameters()) {
    auto it = tensors.find(item.key());
    if (it == tensors.end())
      throw Error(weights + ": missing tensor '" + item.key() + "' (expected shape " + shape(item.value()) + ")");
    if (!it->second.sizes().equals(item.value().sizes()))
      throw Error(weights + ": tensor '" + item.key() + "' has shape " + shape(it->second) + ", but config.json implies " +
                  shape(item.value()));
    item.value().copy_(it->second.to(torch::kFloat32));
    used.insert(item.key());
  }
  for (const auto &[name, tensor] : tensors) {
    bool tiedHead = name == "lm_head.weight" && config.tieWordEmbeddings;
    if (!used.count(name) && !isDerivedBuffer(name) && !tiedHead)
      throw Error(weights + ": unexpected tensor '" + name + "' (not a parameter of a " + config.modelType +
                  " model with this config.json)");
  }
  return model;
}

void saveCausalLM(CausalLM &model, const std::string &dir) {
  makeDirectories(dir);
  std::map<std::string, torch::Tensor> tensors;
  for (const auto &item : model->named_parameters())
    tensors[item.key()] = item.value().detach().to(torch::kCPU).contiguous();
  writeSafetensors(joinPath(dir, "model.safetensors"), tensors, {{"format", "pt"}});
  writeModelConfig(model->config, joinPath(dir, "config.json"));
}

CausalLM presetCausalLM(const std::string &preset, int64_t vocabSize, uint64_t seed) {
  CausalLM model(presetConfig(preset, vocabSize));
  model->initialize(seed);
  return model;
}

} // namespace align::rt
