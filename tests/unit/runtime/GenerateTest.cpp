//===- GenerateTest.cpp - KV-cache decoding equals full recomputation -----===//
//
// Decoding with the cache must give exactly what running the whole sequence through the model gives, at
// every step; batched decoding what each prompt gives alone; sampling must be reproducible per seed and
// layout and respect top-k and top-p, with the CPU selection kernel and the portable (CUDA) one agreeing.
// Greedy parity with transformers' generate() is in tests/reference/test_logits_parity.py.
//
//===----------------------------------------------------------------------===//

#include "align/rt/Error.h"
#include "model/Checkpoint.h"
#include "model/Generate.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <tuple>

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

namespace {

/// logits [1, 4] of the probabilities {0.5, 0.2, 0.2, 0.1}.
torch::Tensor fourTokens() { return torch::tensor({0.5, 0.2, 0.2, 0.1}, torch::kFloat32).log().unsqueeze(0); }

/// The token each kernel draws from fourTokens() with uniform `u`.
std::vector<int64_t> drawBoth(const SamplingOptions &options, double u) {
  torch::Tensor uniforms = torch::full({1}, u, torch::kFloat64);
  std::vector<int64_t> out;
  for (SamplingKernel kernel : {SamplingKernel::CpuSelect, SamplingKernel::Portable})
    out.push_back(sampleTokens(fourTokens(), options, uniforms, kernel).item<int64_t>());
  return out;
}

} // namespace

TEST(SampleTokens, CutsAndDrawByHand) {
  SamplingOptions options;
  // No cut: token i covers [cumulative before it, cumulative through it).
  EXPECT_EQ(drawBoth(options, 0.0), (std::vector<int64_t>{0, 0}));
  EXPECT_EQ(drawBoth(options, 0.49), (std::vector<int64_t>{0, 0}));
  EXPECT_EQ(drawBoth(options, 0.51), (std::vector<int64_t>{1, 1}));
  EXPECT_EQ(drawBoth(options, 0.95), (std::vector<int64_t>{3, 3}));
  // top_p 0.6: 0.5 falls short, 0.5 + 0.2 reaches it; the other 0.2 ties the cut and stays: {0, 1, 2}, mass 0.9.
  options.topP = 0.6;
  EXPECT_EQ(drawBoth(options, 0.99), (std::vector<int64_t>{2, 2}));
  EXPECT_EQ(drawBoth(options, 0.6), (std::vector<int64_t>{1, 1})); // 0.54 of 0.9: in token 1's [0.5, 0.7)
  // top_p 0.5: the first token alone reaches it.
  options.topP = 0.5;
  EXPECT_EQ(drawBoth(options, 0.99), (std::vector<int64_t>{0, 0}));
  // top_k 2: the second largest is 0.2, and its tie stays too.
  options.topP = 1.0;
  options.topK = 2;
  EXPECT_EQ(drawBoth(options, 0.99), (std::vector<int64_t>{2, 2}));
  // top_k 1, then top_p over what is left: only the first.
  options.topK = 1;
  EXPECT_EQ(drawBoth(options, 0.99), (std::vector<int64_t>{0, 0}));
  // top_k 3 then top_p 0.7 of the remaining 0.9 (0.63): 0.5 + 0.2 reaches it, the tie stays.
  options.topK = 3;
  options.topP = 0.7;
  EXPECT_EQ(drawBoth(options, 0.99), (std::vector<int64_t>{2, 2}));
  // Temperature 0.5 squares the odds: {25, 4, 4, 1} / 34; u = 0.75 → 25.5 of 34 is token 1.
  options = SamplingOptions();
  options.temperature = 0.5;
  EXPECT_EQ(drawBoth(options, 0.75), (std::vector<int64_t>{1, 1}));
  options.temperature = 0;
  EXPECT_EQ(drawBoth(options, 0.99), (std::vector<int64_t>{0, 0}));
}

TEST(SampleTokens, KernelsAgreeOnRandomLogits) {
  torch::manual_seed(3);
  // Near-uniform (a random model's: thousands of values per histogram bucket), moderate and peaked rows.
  for (auto [vocab, scale] : std::vector<std::pair<int64_t, double>>{{5000, 0.2}, {500, 3.0}, {2000, 12.0}}) {
    torch::Tensor logits = torch::randn({64, vocab}) * scale;
    torch::Tensor uniforms = torch::rand({64}, torch::kFloat64);
    for (auto [topK, topP, temperature] : std::vector<std::tuple<int64_t, double, double>>{
             {0, 1.0, 1.0}, {0, 0.9, 1.0}, {40, 1.0, 0.7}, {40, 0.8, 1.3}, {1, 1.0, 1.0}, {0, 0.05, 1.0},
             {vocab / 2, 0.95, 1.0}}) {
      SamplingOptions options;
      options.topK = topK;
      options.topP = topP;
      options.temperature = temperature;
      torch::Tensor cpu = sampleTokens(logits, options, uniforms, SamplingKernel::CpuSelect);
      torch::Tensor portable = sampleTokens(logits, options, uniforms, SamplingKernel::Portable);
      EXPECT_TRUE(cpu.equal(portable)) << "vocab " << vocab << ", scale " << scale << ", top_k " << topK
                                       << ", top_p " << topP;
      if (topK == 1)
        EXPECT_TRUE(cpu.equal(logits.argmax(-1)));
    }
  }
}

TEST(GenerateBatch, TopKOneIsGreedy) {
  CausalLM model = presetCausalLM("tiny", 53, 10); // not sharpened: sampling would otherwise differ
  model->eval();
  std::vector<std::vector<int64_t>> prompts{{3, 14, 15, 9}, {1}, {2, 7}};
  SamplingOptions topOne, greedy;
  topOne.topK = 1;
  topOne.seed = 99;
  topOne.maxNewTokens = greedy.maxNewTokens = 12;
  greedy.temperature = 0;
  EXPECT_EQ(generateBatch(model, prompts, topOne), generateBatch(model, prompts, greedy));
  topOne.topK = 0; // the same seed without the cut samples something else
  EXPECT_NE(generateBatch(model, prompts, topOne), generateBatch(model, prompts, greedy));
}

TEST(GenerateBatch, RepeatedPromptsShareThePromptPass) {
  CausalLM model = sharpModel(11);
  std::vector<std::vector<int64_t>> prompts{{3, 14, 15}, {5}, {3, 14, 15}, {9, 2, 6, 5, 3}, {5}};
  SamplingOptions greedy;
  greedy.temperature = 0;
  greedy.maxNewTokens = 10;
  auto together = generateBatch(model, prompts, greedy);
  for (size_t r = 0; r < prompts.size(); ++r)
    EXPECT_EQ(together[r], generate(model, prompts[r], greedy)) << "row " << r;
  // Sampled: the copies of a prompt are different samples (their own streams), each reproducible.
  SamplingOptions sampled;
  sampled.maxNewTokens = 10;
  CausalLM plain = presetCausalLM("tiny", 53, 12);
  auto a = generateBatch(plain, prompts, sampled);
  EXPECT_NE(a[0], a[2]);
  EXPECT_EQ(a, generateBatch(plain, prompts, sampled));
}

TEST(GenerateBatch, SampledRowsStopAtEosWithoutChangingTheOthers) {
  CausalLM model = presetCausalLM("tiny", 53, 13);
  model->eval();
  std::vector<std::vector<int64_t>> prompts;
  for (int64_t r = 0; r < 12; ++r)
    prompts.push_back(std::vector<int64_t>(static_cast<size_t>(1 + r % 4), 1 + r));
  SamplingOptions options;
  options.maxNewTokens = 20;
  options.seed = 5;
  auto free = generateBatch(model, prompts, options);
  // Token 7 as eos: rows stop at different steps; once a tenth of the batch has, they leave it (compaction),
  // and every row's tokens are its free run's up to its first 7.
  options.eosId = 7;
  auto stopped = generateBatch(model, prompts, options);
  size_t stoppedEarly = 0;
  for (size_t r = 0; r < prompts.size(); ++r) {
    auto it = std::find(free[r].begin(), free[r].end(), 7);
    stoppedEarly += it != free[r].end();
    EXPECT_EQ(stopped[r], std::vector<int64_t>(free[r].begin(), it == free[r].end() ? it : it + 1)) << "row " << r;
  }
  EXPECT_GE(stoppedEarly, 3u); // enough rows stopped for a compaction to happen
}

TEST(GenerateBatch, RowsStopWhenOutOfPositions) {
  ModelConfig config = presetConfig("tiny", 53);
  config.maxPositionEmbeddings = 8;
  CausalLM model(config);
  model->initialize(14);
  model->eval();
  SamplingOptions greedy;
  greedy.temperature = 0;
  greedy.maxNewTokens = 20;
  // A prompt of n tokens can be followed by 8 - n + 1 tokens (the last one is never fed back); 9 tokens: none.
  auto out = generateBatch(model, {{1, 2, 3, 4, 5, 6}, {1, 2}, {1, 2, 3, 4, 5, 6, 7, 8}, std::vector<int64_t>(9, 1)}, greedy);
  EXPECT_EQ(out[0].size(), 3u);
  EXPECT_EQ(out[1].size(), 7u);
  EXPECT_EQ(out[2].size(), 1u);
  EXPECT_TRUE(out[3].empty());
  EXPECT_EQ(out[1], generate(model, {1, 2}, greedy));
}

TEST(GenerateBatch, PerRowSoftTokensEqualEachRowAlone) {
  CausalLM model = sharpModel(15);
  torch::manual_seed(15);
  torch::Tensor soft = torch::randn({3, 2, model->config.hiddenSize}) * 5; // 3 rows' users, 2 tokens each
  std::vector<std::vector<int64_t>> prompts{{1, 4, 4, 2}, {1}, {1, 9}};
  SamplingOptions greedy;
  greedy.temperature = 0;
  greedy.maxNewTokens = 10;
  auto together = generateBatch(model, prompts, greedy, 0, soft);
  for (size_t r = 0; r < prompts.size(); ++r) {
    torch::Tensor mine = soft.narrow(0, static_cast<int64_t>(r), 1);
    EXPECT_EQ(together[r], generate(model, prompts[r], greedy, mine)) << "row " << r;
    // The reference: greedy decoding by recomputation, the soft tokens spliced after BOS.
    std::vector<int64_t> ids = prompts[r], expected;
    torch::NoGradGuard noGrad;
    for (int64_t t = 0; t < 10; ++t) {
      torch::Tensor logits = model->logits(torch::tensor(ids, torch::kInt64).unsqueeze(0), mine);
      expected.push_back(logits[0][-1].argmax().item<int64_t>());
      ids.push_back(expected.back());
    }
    EXPECT_EQ(together[r], expected) << "row " << r;
  }
  // One user for every row: [1, T, hidden].
  auto shared = generateBatch(model, prompts, greedy, 0, soft.narrow(0, 1, 1));
  EXPECT_EQ(shared[1], together[1]);
  EXPECT_THROW(generateBatch(model, prompts, greedy, 0, soft.narrow(0, 0, 2)), Error);
}

TEST(GenerateSamples, ShapeAndDeterminism) {
  CausalLM model = presetCausalLM("tiny", 53, 16);
  model->eval();
  std::vector<std::vector<int64_t>> prompts{{1, 2, 3}, {4}, {5, 6}, {7, 8, 9, 10}, {11}};
  SamplingOptions options;
  options.maxNewTokens = 8;
  options.seed = 21;
  auto a = generateSamples(model, prompts, 3, options, 0, 4);
  ASSERT_EQ(a.size(), prompts.size());
  for (const auto &samples : a) {
    ASSERT_EQ(samples.size(), 3u);
    for (const auto &ids : samples)
      EXPECT_EQ(ids.size(), 8u);
    EXPECT_NE(samples[0], samples[1]);
  }
  EXPECT_EQ(generateSamples(model, prompts, 3, options, 0, 4), a); // same seed and layout
  options.seed = 22;
  auto b = generateSamples(model, prompts, 3, options, 0, 4);
  EXPECT_NE(b, a);
  // Sample j of prompt i draws from its own stream, so a single row of it decoded alone, or the whole set
  // in one block, gives the same ids here (guaranteed only up to the padded block's float rounding).
  options.seed = 21;
  EXPECT_EQ(generateRows(model, prompts, {{3, 2}}, options, 0, 1)[0], a[3][2]);
  EXPECT_EQ(generateSamples(model, prompts, 3, options, 0, 15), a);
  // Greedy: every sample is the prompt's greedy answer, whatever the block size.
  options.temperature = 0;
  auto greedy = generateSamples(model, prompts, 2, options, 0, 3);
  for (size_t i = 0; i < prompts.size(); ++i) {
    EXPECT_EQ(greedy[i][0], generate(model, prompts[i], options));
    EXPECT_EQ(greedy[i][1], greedy[i][0]);
  }
  EXPECT_THROW(generateSamples(model, prompts, 0, options, 0, 4), Error);
  EXPECT_THROW(generateSamples(model, prompts, 2, options, 0, 0), Error);
  EXPECT_THROW(generateRows(model, prompts, {{5, 0}}, options, 0, 4), Error);
}

