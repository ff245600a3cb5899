//===- TestModels.h - Small random models shared by runtime tests -*- C++ -*-===//
#pragma once

#include "model/Checkpoint.h"
#include "model/Llama.h"

namespace align::rt::testing {

/// The tiny preset (vocabulary 97) with the given key/value heads and head tying.
inline ModelConfig tinyConfig(int64_t kvHeads = 2, bool tied = false) {
  ModelConfig c = presetConfig("tiny", 97);
  c.numKeyValueHeads = kvHeads;
  c.tieWordEmbeddings = tied;
  return c;
}

/// A seeded model with weights 10× the 0.02 init, so logits are far from uniform.
inline CausalLM randomModel(const ModelConfig &config, uint64_t seed) {
  CausalLM model(config);
  model->initialize(seed);
  torch::NoGradGuard noGrad;
  for (auto &p : model->parameters())
    p.mul_(10);
  model->eval();
  return model;
}

} // namespace align::rt::testing
