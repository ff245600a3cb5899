//===- GenerateTest.cpp - KV-cache decoding equals full recomputation -----===//
//
// Decoding with the cache must give exactly what running the whole sequence through the model gives, at
// every step; sampling must be reproducible per seed and respect top_p. Greedy parity with transformers'
// generate() is in tests/reference/test_logits_parity.py.
//
//===----------------------------------------------------------------------===//

#include "align/rt/Error.h"
#include "model/Checkpoint.h"
#include "model/Generate.h"

#include <gtest/gtest.h>

#include <algorithm>

using namespace align::rt;

namespace {

CausalLM sharpModel(uint64_t seed) {
  CausalLM model = presetCausalLM("tiny", 53, seed);
  torch::NoGradGuard noGrad;
  for (auto &p : model->parameters()) // far from uniform, so greedy choices are clear-cut
    p.mul_(20);
  model->eval();
  return model;
}

/// Greedy decoding without a cache: the whole sequence through the model at every step.
std::vector<int64_t> greedyWithoutCache(CausalLM &model, std::vector<int64_t> ids, int64_t steps) {
  torch::NoGradGuard noGrad;
  std::vector<int64_t> out;
  for (int64_t i = 0; i < steps; ++i) {
    torch::Tensor logits = model->logits(torch::tensor(ids, torch::kInt64).unsqueeze(0));
    int64_t next = logits[0][-1].argmax().item<int64_t>();
    out.push_back(next);
    ids.push_back(next);
  }
  return out;
}

/// Largest difference relative to the largest logit: the ×20 weights make logits large, so an absolute
/// tolerance would test float rounding rather than the cache.
double relativeError(const torch::Tensor &a, const torch::Tensor &b) {
  return ((a - b).abs().max() / b.abs().max()).item<double>();
}

} // namespace

TEST(Generate, GreedyWithCacheEqualsRecomputation) {
  for (uint64_t seed : {1, 2, 3}) {
    CausalLM model = sharpModel(seed);
    std::vector<int64_t> prompt{3, 14, 15, 9, 26};
    SamplingOptions greedy;
    greedy.temperature = 0;
    greedy.maxNewTokens = 24;
    EXPECT_EQ(generate(model, prompt, greedy), greedyWithoutCache(model, prompt, 24)) << "seed " << seed;
  }
}

TEST(Generate, CachedLogitsEqualFullLogits) {
  CausalLM model = sharpModel(4);
  torch::NoGradGuard noGrad;
  std::vector<int64_t> ids{5, 8, 13, 21, 34, 2, 7};
  torch::Tensor full = model->logits(torch::tensor(ids, torch::kInt64).unsqueeze(0))[0];
  KVCache cache;
  auto step = [&](const std::vector<int64_t> &chunk) {
    torch::Tensor input = torch::tensor(chunk, torch::kInt64).unsqueeze(0);
    torch::Tensor positions = torch::arange(cache.length, cache.length + int64_t(chunk.size()), torch::kInt64).unsqueeze(0);
    return torch::nn::functional::linear(model->model->forward(model->model->embed_tokens(input), positions, &cache),
                                         model->headWeight())[0];
  };
  torch::Tensor prefix = step({5, 8, 13});
  EXPECT_LT(relativeError(prefix, full.slice(0, 0, 3)), 1e-5);
  for (size_t t = 3; t < ids.size(); ++t)
    EXPECT_LT(relativeError(step({ids[t]})[0], full[t]), 1e-5) << "position " << t;
  EXPECT_EQ(cache.length, 7);
}

TEST(Generate, SamplingIsSeededAndStopsAtEos) {
  CausalLM model = presetCausalLM("tiny", 53, 5);
  SamplingOptions options;
  options.maxNewTokens = 30;
  options.temperature = 1.0;
  options.seed = 17;
  auto a = generate(model, {1, 2, 3}, options), b = generate(model, {1, 2, 3}, options);
  options.seed = 18;
  auto c = generate(model, {1, 2, 3}, options);
  EXPECT_EQ(a, b);
  EXPECT_NE(a, c);
  ASSERT_EQ(a.size(), 30u);
  options.seed = 17;
  options.eosId = a[4];
  auto stopped = generate(model, {1, 2, 3}, options);
  EXPECT_LE(stopped.size(), 5u);
  EXPECT_EQ(stopped.back(), a[4]);
}

TEST(Generate, TinyTopPIsGreedy) {
  CausalLM model = sharpModel(6);
  SamplingOptions nucleus, greedy;
  nucleus.topP = 1e-9; // only the most likely token survives the cut
  nucleus.maxNewTokens = greedy.maxNewTokens = 12;
  greedy.temperature = 0;
  EXPECT_EQ(generate(model, {4, 4, 4}, nucleus), generate(model, {4, 4, 4}, greedy));
  nucleus.topP = 0;
  EXPECT_THROW(generate(model, {4}, nucleus), Error);
  EXPECT_THROW(generate(model, {}, greedy), Error);
}

TEST(GenerateBatch, GreedyRowsEqualGeneratingEachPromptAlone) {
  for (uint64_t seed : {6, 7}) {
    CausalLM model = sharpModel(seed);
    std::vector<std::vector<int64_t>> prompts{{3, 14, 15, 9, 26}, {1}, {2, 7, 1, 8}, {44, 4}};
    SamplingOptions greedy;
    greedy.temperature = 0;
    greedy.maxNewTokens = 16;
    auto together = generateBatch(model, prompts, greedy, /*padId=*/0);
    ASSERT_EQ(together.size(), prompts.size());
    for (size_t r = 0; r < prompts.size(); ++r)
      EXPECT_EQ(together[r], generate(model, prompts[r], greedy)) << "seed " << seed << ", row " << r;
  }
}

TEST(GenerateBatch, RowsStopAtTheirOwnEos) {
  CausalLM model = sharpModel(8);
  std::vector<std::vector<int64_t>> prompts{{3, 14, 15}, {5}, {9, 2}};
  SamplingOptions greedy;
  greedy.temperature = 0;
  greedy.maxNewTokens = 12;
  auto free = generateBatch(model, prompts, greedy);
  // Each row's 3rd token becomes "eos": a row stops there, the others go on as without it.
  greedy.eosId = free[1][2];
  auto stopped = generateBatch(model, prompts, greedy);
  for (size_t r = 0; r < prompts.size(); ++r) {
    auto it = std::find(free[r].begin(), free[r].end(), *greedy.eosId);
    std::vector<int64_t> expected(free[r].begin(), it == free[r].end() ? it : it + 1);
    EXPECT_EQ(stopped[r], expected) << "row " << r;
  }
}

TEST(GenerateBatch, SamplingIsSeededAndChecksItsInput) {
  CausalLM model = presetCausalLM("tiny", 53, 9);
  model->eval();
  std::vector<std::vector<int64_t>> prompts{{1, 2, 3}, {4}, {5, 6}};
  SamplingOptions options;
  options.maxNewTokens = 10;
  options.seed = 11;
  auto a = generateBatch(model, prompts, options), b = generateBatch(model, prompts, options);
  EXPECT_EQ(a, b);
  options.seed = 12;
  EXPECT_NE(generateBatch(model, prompts, options), a);
  for (const auto &row : a) {
    EXPECT_EQ(row.size(), 10u);
    for (int64_t id : row)
      EXPECT_TRUE(id >= 0 && id < 53);
  }
  EXPECT_TRUE(generateBatch(model, {}, options).empty());
  EXPECT_THROW(generateBatch(model, {{1}, {}}, options), Error);
}
