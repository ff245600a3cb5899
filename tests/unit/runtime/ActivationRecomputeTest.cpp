//===- ActivationRecomputeTest.cpp - Recomputed layers give the kept layers' values and gradients ===//
//
// With DecoderImpl::recomputeLayers each layer keeps only its input and runs again in backward
// (model/ActivationRecompute.h). The recomputation replays the forward's operations on the same inputs, so
// the hidden states and every gradient (parameters, P-RLHF soft tokens, LoRA adapters with dropout) must equal
// the kept pass's: in float32 to rounding, under bf16 autocast to bf16 rounding of the same products.
//
//===----------------------------------------------------------------------===//

#include "TestModels.h"
#include "model/ActivationRecompute.h"
#include "model/Llama.h"
#include "model/Lora.h"

#include <ATen/autocast_mode.h>
#include <gtest/gtest.h>

using namespace align::rt;
using align::rt::testing::randomModel;
using align::rt::testing::tinyConfig;

namespace {

struct Pass {
  torch::Tensor hidden, softGrad;
  std::map<std::string, torch::Tensor> grads;
};

/// hidden(ids, soft, layout) and the gradients of Σ hidden · probe, with layers kept or recomputed.
Pass run(CausalLM &model, const torch::Tensor &ids, const torch::Tensor &soft, const RowLayout &layout,
         const torch::Tensor &probe, bool recompute, std::vector<torch::Tensor> extra = {}) {
  model->zero_grad();
  for (torch::Tensor &t : extra)
    t.mutable_grad() = torch::Tensor();
  model->model->recomputeLayers = recompute;
  torch::Tensor softLeaf = soft.defined() ? soft.clone().requires_grad_(true) : torch::Tensor();
  Pass out;
  out.hidden = model->hidden(ids, softLeaf, layout);
  (out.hidden.to(torch::kFloat32) * probe).sum().backward();
  model->model->recomputeLayers = false;
  out.hidden = out.hidden.detach();
  if (softLeaf.defined())
    out.softGrad = softLeaf.grad();
  for (auto &item : model->named_parameters())
    if (item.value().grad().defined())
      out.grads[item.key()] = item.value().grad().clone();
  for (size_t i = 0; i < extra.size(); ++i)
    if (extra[i].grad().defined())
      out.grads["extra." + std::to_string(i)] = extra[i].grad().clone();
  return out;
}

void expectSame(const Pass &kept, const Pass &recomputed, double tolerance) {
  auto close = [&](const torch::Tensor &a, const torch::Tensor &b, const std::string &what) {
    const double scale = std::max(1.0, b.abs().max().item<double>());
    EXPECT_LE((a.to(torch::kFloat64) - b.to(torch::kFloat64)).abs().max().item<double>(), tolerance * scale) << what;
  };
  close(recomputed.hidden, kept.hidden, "hidden states");
  if (kept.softGrad.defined()) {
    ASSERT_TRUE(recomputed.softGrad.defined());
    close(recomputed.softGrad, kept.softGrad, "soft-token gradient");
  }
  ASSERT_EQ(recomputed.grads.size(), kept.grads.size());
  ASSERT_FALSE(kept.grads.empty());
  for (const auto &[name, grad] : kept.grads) {
    ASSERT_TRUE(recomputed.grads.count(name)) << name;
    close(recomputed.grads.at(name), grad, "gradient of " + name);
  }
}

} // namespace

TEST(ActivationRecompute, PaddedPassHasTheKeptGradients) {
  torch::manual_seed(1);
  CausalLM model = randomModel(tinyConfig(2), 11);
  model->train();
  torch::Tensor ids = torch::randint(1, 97, {3, 9}, torch::kInt64);
  torch::Tensor probe = torch::randn({3, 9, model->config.hiddenSize});
  Pass kept = run(model, ids, {}, {}, probe, false), recomputed = run(model, ids, {}, {}, probe, true);
  expectSame(kept, recomputed, 1e-6);
}

TEST(ActivationRecompute, PackedSharedPrefixPassWithSoftTokens) {
  torch::manual_seed(2);
  CausalLM model = randomModel(tinyConfig(4), 12);
  model->train();
  const int64_t length = 10;
  torch::Tensor ids = torch::randint(1, 97, {4, length}, torch::kInt64);
  ids[1].slice(0, 0, 4).copy_(ids[0].slice(0, 0, 4)); // rows 0 and 1 share 4 tokens, as a pair's prompt
  ids[3].slice(0, 0, 3).copy_(ids[2].slice(0, 0, 3));
  RowLayout layout(torch::tensor({10, 7, 6, 9}, torch::kInt64));
  layout.groupSizes = {2, 2};
  layout.sharedPrefixes = {4, 3};
  torch::Tensor soft = torch::randn({4, 2, model->config.hiddenSize});
  torch::Tensor probe = torch::randn({4, length, model->config.hiddenSize});
  ASSERT_TRUE(worthPacking(layout.shifted(2), length + 2));
  Pass kept = run(model, ids, soft, layout, probe, false), recomputed = run(model, ids, soft, layout, probe, true);
  expectSame(kept, recomputed, 1e-6);
}

TEST(ActivationRecompute, LoraDropoutDrawsTheSameMaskAgain) {
  // Only the adapters train and the first layer's input (frozen embeddings) needs no gradient: the
  // recomputed layers must still reach the adapters, and dropout must replay the forward's mask.
  torch::manual_seed(3);
  CausalLM model = randomModel(tinyConfig(2), 13);
  LoraSpec settings;
  settings.dropout = 0.5;
  settings.targets = {"q_proj", "v_proj", "down_proj"};
  LoraAdapters adapters = attachLora(model, settings, 7);
  model->train();
  adapters->train();
  std::vector<torch::Tensor> trained = adapters->parameters(); // outside the decoder's module tree
  {
    torch::NoGradGuard noGrad; // B starts at zero; give it values so A's gradient is not zero either
    for (auto &p : trained)
      p.normal_(0, 0.1);
  }
  torch::Tensor ids = torch::randint(1, 97, {2, 8}, torch::kInt64);
  torch::Tensor probe = torch::randn({2, 8, model->config.hiddenSize});
  torch::manual_seed(100);
  Pass kept = run(model, ids, {}, {}, probe, false, trained);
  torch::manual_seed(100);
  Pass recomputed = run(model, ids, {}, {}, probe, true, trained);
  EXPECT_EQ(kept.grads.size(), trained.size()) << "only the adapters train";
  expectSame(kept, recomputed, 1e-6);
  torch::manual_seed(101); // another mask gives other gradients: the comparison above can fail
  Pass other = run(model, ids, {}, {}, probe, true, trained);
  double difference = 0;
  for (const auto &[name, grad] : kept.grads)
    difference = std::max(difference, (other.grads.at(name) - grad).abs().max().item<double>());
  EXPECT_GT(difference, 1e-3);
}

TEST(ActivationRecompute, Bf16AutocastRecomputesInBf16) {
  torch::manual_seed(4);
  CausalLM model = randomModel(tinyConfig(2), 14);
  model->train();
  torch::Tensor ids = torch::randint(1, 97, {2, 12}, torch::kInt64);
  torch::Tensor probe = torch::randn({2, 12, model->config.hiddenSize});
  auto underAutocast = [&](bool recompute) {
    at::autocast::set_autocast_dtype(at::kCPU, at::kBFloat16);
    at::autocast::set_autocast_enabled(at::kCPU, true);
    torch::Tensor ids2 = ids;
    model->zero_grad();
    model->model->recomputeLayers = recompute;
    torch::Tensor hidden = model->hidden(ids2);
    at::autocast::set_autocast_enabled(at::kCPU, false); // backward outside autocast, as the stage loop does
    at::autocast::clear_cache();
    (hidden.to(torch::kFloat32) * probe).sum().backward();
    model->model->recomputeLayers = false;
    Pass out;
    out.hidden = hidden.detach();
    for (auto &item : model->named_parameters())
      if (item.value().grad().defined())
        out.grads[item.key()] = item.value().grad().clone();
    return out;
  };
  Pass kept = underAutocast(false), recomputed = underAutocast(true);
  EXPECT_FALSE(at::autocast::is_autocast_enabled(at::kCPU));
  EXPECT_TRUE(at::autocast::is_autocast_cache_enabled()) << "the recomputation restores autocast's cache flag";
  expectSame(kept, recomputed, 1e-5);
}

TEST(ActivationRecompute, WithoutGradientsItIsThePlainLayer) {
  torch::Tensor x = torch::randn({2, 3}, torch::requires_grad());
  int calls = 0;
  auto layer = [&](const torch::Tensor &input) {
    ++calls;
    return input * 2;
  };
  {
    torch::NoGradGuard noGrad;
    torch::Tensor y = recomputeInBackward(layer, x);
    EXPECT_FALSE(y.requires_grad());
  }
  EXPECT_EQ(calls, 1);
  torch::Tensor y = recomputeInBackward(layer, x);
  EXPECT_EQ(calls, 2);
  y.sum().backward();
  EXPECT_EQ(calls, 3) << "the backward ran the layer once more";
  EXPECT_TRUE(torch::allclose(x.grad(), torch::full({2, 3}, 2.0)));
}
