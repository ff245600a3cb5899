//===- LlamaTest.cpp - The Llama-family decoder against its definition ----===//
//
// Properties that pin the math down without a peer (the peer comparison with transformers is in
// tests/reference/test_logits_parity.py): RMSNorm's formula, causality, rotary embeddings depending only on
// relative position, grouped-query attention equal to multi-head attention with repeated key/value heads,
// tied heads sharing storage, and checkpoints that round-trip bit for bit and refuse to half-load.
//
//===----------------------------------------------------------------------===//

#include "TestModels.h"
#include "align/rt/Error.h"
#include "checkpoint/SafeTensors.h"
#include "support/Files.h"
#include "model/Checkpoint.h"
#include "model/Llama.h"

#include <gtest/gtest.h>

using namespace align::rt;
using align::rt::testing::randomModel;
using align::rt::testing::tinyConfig;

namespace {

std::string tempDir(const std::string &name) {
  std::string dir = joinPath(::testing::TempDir(), "align-llama-" + name);
  removeTree(dir);
  return dir;
}

} // namespace

TEST(RMSNorm, MatchesTheFormula) {
  RMSNorm norm(8, 1e-6);
  torch::NoGradGuard noGrad;
  norm->weight.copy_(torch::linspace(0.5, 2.0, 8));
  torch::Tensor x = torch::randn({3, 5, 8});
  torch::Tensor expected = norm->weight * x / torch::sqrt(x.pow(2).mean(-1, true) + 1e-6);
  EXPECT_TRUE(torch::allclose(norm(x), expected, 1e-6, 1e-6));
}

TEST(Rotary, ScoresDependOnlyOnRelativePosition) {
  ModelConfig c = tinyConfig();
  RotaryEmbedding rotary(c);
  torch::Tensor q = torch::randn({c.headDim}), k = torch::randn({c.headDim});
  auto rotate = [&](const torch::Tensor &v, int64_t pos) {
    auto [cos, sin] = rotary(torch::full({1, 1}, pos, torch::kInt64), torch::kFloat32);
    int64_t half = c.headDim / 2;
    torch::Tensor rotated = torch::cat({-v.slice(0, half), v.slice(0, 0, half)});
    return v * cos[0][0] + rotated * sin[0][0];
  };
  double a = rotate(q, 7).dot(rotate(k, 3)).item<double>();
  double b = rotate(q, 104).dot(rotate(k, 100)).item<double>();
  EXPECT_NEAR(a, b, 1e-4);
  EXPECT_NEAR(rotate(q, 50).norm().item<double>(), q.norm().item<double>(), 1e-4);
}

TEST(CausalLM, IsCausal) {
  CausalLM model = randomModel(tinyConfig(), 1);
  torch::NoGradGuard noGrad;
  torch::Tensor ids = torch::randint(0, 97, {2, 12}, torch::kInt64);
  torch::Tensor changed = ids.clone();
  changed.index_put_({torch::indexing::Slice(), 8}, (ids.index({torch::indexing::Slice(), 8}) + 1) % 97);
  torch::Tensor a = model->logits(ids), b = model->logits(changed);
  EXPECT_TRUE(torch::equal(a.slice(1, 0, 8), b.slice(1, 0, 8)));
  EXPECT_FALSE(torch::allclose(a.slice(1, 8), b.slice(1, 8)));
}

TEST(CausalLM, GroupedQueryAttentionEqualsRepeatedHeads) {
  ModelConfig gqa = tinyConfig(/*kvHeads=*/2), mha = tinyConfig(/*kvHeads=*/4);
  CausalLM grouped = randomModel(gqa, 2), full(mha);
  torch::NoGradGuard noGrad;
  auto params = grouped->named_parameters();
  for (auto &item : full->named_parameters()) {
    torch::Tensor source = params[item.key()];
    bool kv = item.key().find("k_proj") != std::string::npos || item.key().find("v_proj") != std::string::npos;
    if (kv) // each of the 2 key/value heads serves 2 query heads: repeat per head, in order
      source = source.view({2, gqa.headDim, -1}).repeat_interleave(2, 0).reshape(item.value().sizes());
    item.value().copy_(source);
  }
  full->eval();
  torch::Tensor ids = torch::randint(0, 97, {1, 10}, torch::kInt64);
  EXPECT_TRUE(torch::allclose(grouped->logits(ids), full->logits(ids), 1e-5, 1e-5));
}

TEST(CausalLM, TiedHeadIsTheEmbedding) {
  CausalLM model = randomModel(tinyConfig(2, /*tied=*/true), 3);
  EXPECT_FALSE(model->lm_head);
  EXPECT_EQ(model->headWeight().data_ptr(), model->model->embed_tokens->weight.data_ptr());
  for (const auto &item : model->named_parameters())
    EXPECT_EQ(item.key().find("lm_head"), std::string::npos);
}

TEST(CausalLM, TokenLogprobsAreLogSoftmaxOfTheNextToken) {
  CausalLM model = randomModel(tinyConfig(), 4);
  torch::NoGradGuard noGrad;
  torch::Tensor ids = torch::randint(0, 97, {1, 6}, torch::kInt64);
  torch::Tensor logits = model->logits(ids);
  torch::Tensor got = tokenLogprobs(model, ids);
  ASSERT_EQ(got.size(1), 5);
  for (int64_t t = 0; t < 5; ++t) {
    double expected = torch::log_softmax(logits[0][t], -1)[ids[0][t + 1].item<int64_t>()].item<double>();
    EXPECT_NEAR(got[0][t].item<double>(), expected, 1e-6);
  }
}

TEST(Checkpoint, RoundTripIsBitExact) {
  for (bool tied : {false, true}) {
    CausalLM model = randomModel(tinyConfig(2, tied), 5);
    std::string dir = tempDir(tied ? "tied" : "untied");
    saveCausalLM(model, dir);
    CausalLM loaded = loadCausalLM(dir);
    loaded->eval();
    torch::NoGradGuard noGrad;
    torch::Tensor ids = torch::randint(0, 97, {2, 9}, torch::kInt64);
    EXPECT_TRUE(torch::equal(model->logits(ids), loaded->logits(ids))) << (tied ? "tied" : "untied");
  }
}

TEST(Checkpoint, RefusesAMissingOrMisshapenTensor) {
  CausalLM model = randomModel(tinyConfig(), 6);
  std::string dir = tempDir("broken");
  saveCausalLM(model, dir);
  std::string weights = dir + "/model.safetensors";
  auto tensors = readSafetensors(weights);

  auto missing = tensors;
  missing.erase("model.layers.1.mlp.up_proj.weight");
  writeSafetensors(weights, missing);
  try {
    loadCausalLM(dir);
    FAIL() << "a missing tensor must be an error";
  } catch (const Error &e) {
    EXPECT_NE(std::string(e.what()).find("missing tensor 'model.layers.1.mlp.up_proj.weight'"), std::string::npos) << e.what();
  }

  auto misshapen = tensors;
  misshapen["model.norm.weight"] = torch::ones({3});
  writeSafetensors(weights, misshapen);
  EXPECT_THROW(loadCausalLM(dir), Error);

  auto extra = tensors;
  extra["model.layers.9.unknown.weight"] = torch::ones({2});
  writeSafetensors(weights, extra);
  EXPECT_THROW(loadCausalLM(dir), Error);
}

TEST(Presets, AreSeeded) {
  CausalLM a = presetCausalLM("tiny", 97, 11), b = presetCausalLM("tiny", 97, 11), c = presetCausalLM("tiny", 97, 12);
  auto pa = a->parameters(), pb = b->parameters(), pc = c->parameters();
  bool allEqual = true, anyDifferent = false;
  for (size_t i = 0; i < pa.size(); ++i) {
    allEqual &= torch::equal(pa[i], pb[i]);
    anyDifferent |= !torch::equal(pa[i], pc[i]);
  }
  EXPECT_TRUE(allEqual);
  EXPECT_TRUE(anyDifferent);
}
