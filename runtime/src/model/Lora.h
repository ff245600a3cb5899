//===- Lora.h - Low-rank adapters on the decoder's projections --*- C++ -*-===//
//
// LoRA (Hu et al. 2021) as PEFT implements it: for each targeted projection W (q_proj, v_proj, … in every
// layer) a trainable update ΔW = (α/r)·B·A with A [r, in] initialised like nn.Linear (uniform ±1/√in) and
// B [out, r] zero, so training starts exactly at the base model; dropout acts on the adapter's input only.
// The base weights are frozen while adapters are attached. Adapters save in PEFT's layout
// (adapter_model.safetensors + adapter_config.json, which `peft` loads), and merge into the base weights
// (W ← W + (α/r)·B·A) so the stage's checkpoint is a plain Hugging Face model.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "align/rt/Trainer.h"
#include "model/Llama.h"

#include <string>
#include <vector>

namespace align::rt {

/// One projection's adapter.
struct LoraLinearImpl : torch::nn::Module, ProjectionAdapter {
  LoraLinearImpl(int64_t in, int64_t out, const LoraSpec &settings, uint64_t seed);
  torch::Tensor delta(const torch::Tensor &x) override;
  /// (α/r)·B·A, [out, in].
  torch::Tensor weightDelta() const;
  torch::Tensor lora_A, lora_B;
  double scaling, dropout;
};
TORCH_MODULE(LoraLinear);

/// Every adapter of a model, registered under PEFT's names without the `base_model.model.` prefix
/// (`model.layers.0.self_attn.q_proj.lora_A` holds the tensor PEFT calls `...q_proj.lora_A.weight`).
struct LoraAdaptersImpl : torch::nn::Module {
  LoraSpec settings;
  struct Site {
    std::string name;                              ///< model.layers.N.self_attn.q_proj
    torch::nn::Linear base{nullptr};
    std::shared_ptr<ProjectionAdapter> *slot = nullptr; ///< where the decoder reads the adapter
    LoraLinear adapter{nullptr};
  };
  std::vector<Site> sites;
};
TORCH_MODULE(LoraAdapters);

/// Attaches fresh adapters to `model` and freezes its own parameters. An unknown target is an Error.
LoraAdapters attachLora(CausalLM &model, const LoraSpec &settings, uint64_t seed);
/// Folds the adapters into the base weights, detaches them and unfreezes the model.
void mergeLora(CausalLM &model, LoraAdapters &adapters);
/// adapter_model.safetensors + adapter_config.json in PEFT's format; `baseModel` is the checkpoint directory
/// the adapted model started from (its `base_model_name_or_path`; "" when it was a random preset).
void saveLoraAdapter(LoraAdapters &adapters, const std::string &dir, const std::string &baseModel);

} // namespace align::rt
