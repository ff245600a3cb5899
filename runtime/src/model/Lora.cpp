//===- Lora.cpp - Low-rank adapters on the decoder's projections ----------===//

#include "model/Lora.h"

#include "align/rt/Error.h"
#include "checkpoint/SafeTensors.h"
#include "support/Files.h"

#include <ATen/CPUGeneratorImpl.h>
#include <nlohmann/json.hpp>

#include <cmath>

namespace align::rt {

LoraLinearImpl::LoraLinearImpl(int64_t in, int64_t out, const LoraSpec &settings, uint64_t seed)
    : scaling(settings.alpha / static_cast<double>(settings.rank)), dropout(settings.dropout) {
  if (settings.rank < 1)
    throw Error("lora: r must be at least 1, got " + std::to_string(settings.rank));
  torch::NoGradGuard noGrad;
  // nn.Linear's (and PEFT's) kaiming_uniform_(a=√5) on [r, in] is uniform(−1/√in, 1/√in).
  at::Generator generator = at::make_generator<at::CPUGeneratorImpl>(seed);
  const double bound = 1.0 / std::sqrt(static_cast<double>(in));
  lora_A = register_parameter("lora_A", torch::empty({settings.rank, in}).uniform_(-bound, bound, generator));
  lora_B = register_parameter("lora_B", torch::zeros({out, settings.rank}));
}

torch::Tensor LoraLinearImpl::delta(const torch::Tensor &x) {
  torch::Tensor input = dropout > 0 ? torch::dropout(x, dropout, is_training()) : x;
  torch::Tensor a = lora_A, b = lora_B;
  if (a.scalar_type() != input.scalar_type()) // under autocast the activations may be bf16
    a = a.to(input.scalar_type()), b = b.to(input.scalar_type());
  return torch::nn::functional::linear(torch::nn::functional::linear(input, a), b) * scaling;
}

torch::Tensor LoraLinearImpl::weightDelta() const { return torch::matmul(lora_B, lora_A) * scaling; }

LoraAdapters attachLora(CausalLM &model, const LoraSpec &settings, uint64_t seed) {
  static const std::vector<std::string> known = {"q_proj", "k_proj", "v_proj", "o_proj",
                                                 "gate_proj", "up_proj", "down_proj"};
  for (const std::string &t : settings.targets)
    if (std::find(known.begin(), known.end(), t) == known.end())
      throw Error("lora: unknown target module '" + t +
                  "' (expected q_proj, k_proj, v_proj, o_proj, gate_proj, up_proj or down_proj)");
  for (auto &p : model->parameters())
    p.set_requires_grad(false);
  LoraAdapters adapters;
  adapters->settings = settings;
  for (size_t i = 0; i < model->model->layers->size(); ++i) {
    auto layer = model->model->layers[i]->as<DecoderLayerImpl>();
    auto &attn = *layer->self_attn;
    auto &mlp = *layer->mlp;
    const std::vector<std::tuple<std::string, torch::nn::Linear, std::shared_ptr<ProjectionAdapter> *>> candidates = {
        {"self_attn.q_proj", attn.q_proj, &attn.q_adapter},   {"self_attn.k_proj", attn.k_proj, &attn.k_adapter},
        {"self_attn.v_proj", attn.v_proj, &attn.v_adapter},   {"self_attn.o_proj", attn.o_proj, &attn.o_adapter},
        {"mlp.gate_proj", mlp.gate_proj, &mlp.gate_adapter}, {"mlp.up_proj", mlp.up_proj, &mlp.up_adapter},
        {"mlp.down_proj", mlp.down_proj, &mlp.down_adapter}};
    for (const auto &[suffix, linear, slot] : candidates) {
      const std::string module = suffix.substr(suffix.find('.') + 1);
      if (std::find(settings.targets.begin(), settings.targets.end(), module) == settings.targets.end())
        continue;
      const int64_t in = linear->weight.size(1), out = linear->weight.size(0);
      LoraAdaptersImpl::Site site;
      site.name = "model.layers." + std::to_string(i) + "." + suffix;
      site.base = linear;
      site.slot = slot;
      site.adapter = LoraLinear(in, out, settings, seed++);
      site.adapter->to(linear->weight.device());
      // Module names may not contain dots: the registered name uses '_' and saveLoraAdapter writes PEFT's.
      std::string registered = site.name;
      std::replace(registered.begin(), registered.end(), '.', '_');
      adapters->register_module(registered, site.adapter);
      *slot = site.adapter.ptr();
      adapters->sites.push_back(site);
    }
  }
  return adapters;
}

void mergeLora(CausalLM &model, LoraAdapters &adapters) {
  torch::NoGradGuard noGrad;
  for (auto &site : adapters->sites) {
    site.base->weight.add_(site.adapter->weightDelta().to(site.base->weight.dtype()));
    site.slot->reset();
  }
  for (auto &p : model->parameters())
    p.set_requires_grad(true);
}

void saveLoraAdapter(LoraAdapters &adapters, const std::string &dir, const std::string &baseModel) {
  makeDirectories(dir);
  std::map<std::string, torch::Tensor> tensors;
  for (auto &site : adapters->sites) {
    tensors["base_model.model." + site.name + ".lora_A.weight"] = site.adapter->lora_A.detach().cpu().contiguous();
    tensors["base_model.model." + site.name + ".lora_B.weight"] = site.adapter->lora_B.detach().cpu().contiguous();
  }
  writeSafetensors(joinPath(dir, "adapter_model.safetensors"), tensors, {{"format", "pt"}});
  const LoraSpec &s = adapters->settings;
  nlohmann::json config = {{"peft_type", "LORA"},         {"task_type", "CAUSAL_LM"}, {"r", s.rank},
                           {"lora_alpha", s.alpha},       {"lora_dropout", s.dropout}, {"target_modules", s.targets},
                           {"bias", "none"},              {"fan_in_fan_out", false},   {"inference_mode", true},
                           {"base_model_name_or_path", baseModel}};
  writeFileAtomically(joinPath(dir, "adapter_config.json"), config.dump(2) + "\n");
}

} // namespace align::rt
