//===- AggregationTest.cpp - MMRA's sampling, scoring and mixture file -----===//
//
// answerLogprobs is the sum of the answer's token log-probs, checked against scoring each pair alone with
// tokenLogprobs (the formula); sampled answers are reproducible; mixture.json round-trips with policies
// relative to its directory, rejects bad weights, and pickPolicy draws policy k with frequency w_k.
//
//===----------------------------------------------------------------------===//

#include "aggregate/MixtureFile.h"
#include "aggregate/PolicySamples.h"
#include "align/rt/Error.h"
#include "model/Checkpoint.h"
#include "support/AtomicWrite.h"
#include "support/Files.h"

#include <gtest/gtest.h>

#include <fstream>

using namespace align::rt;

namespace {

std::string scratchDir(const std::string &name) {
  std::string dir = joinPath(::testing::TempDir(), "aggregation-" + name);
  removeTree(dir);
  makeDirectories(dir);
  return dir;
}

} // namespace

TEST(PolicySamples, AnswerLogprobsSumTheAnswersTokens) {
  CausalLM model = presetCausalLM("tiny", 61, 3);
  model->eval();
  TokenRows prompts{{1, 5, 9}, {1}, {1, 4, 4, 4, 2}}, answers{{7, 8}, {3, 3, 3, 6}, {}};
  std::vector<double> batched = answerLogprobs(model, prompts, answers, /*padId=*/0, /*batch=*/2);
  ASSERT_EQ(batched.size(), 3u);
  torch::NoGradGuard noGrad;
  for (size_t r = 0; r < prompts.size(); ++r) {
    std::vector<int64_t> ids = prompts[r];
    ids.insert(ids.end(), answers[r].begin(), answers[r].end());
    double expected = 0;
    if (!answers[r].empty()) {
      torch::Tensor logps = tokenLogprobs(model, torch::tensor(ids, torch::kInt64).unsqueeze(0))[0];
      expected = logps.slice(0, static_cast<int64_t>(prompts[r].size()) - 1).sum().item<double>();
    }
    EXPECT_NEAR(batched[r], expected, 1e-4) << "pair " << r;
  }
  EXPECT_EQ(batched[2], 0.0); // an empty answer
  EXPECT_THROW(answerLogprobs(model, prompts, {{1}}, 0), Error);
  EXPECT_THROW(answerLogprobs(model, {{}}, {{1}}, 0), Error);
}

TEST(PolicySamples, SampledAnswersAreSeededAndScoreBelowZero) {
  CausalLM model = presetCausalLM("tiny", 61, 4);
  TokenRows prompts{{1, 2}, {1, 3, 5}, {1}, {1, 2}};
  SamplingOptions options;
  options.maxNewTokens = 6;
  options.seed = 17;
  TokenRows a = sampleAnswers(model, prompts, options, 0, /*batch=*/3), b = sampleAnswers(model, prompts, options, 0, 3);
  EXPECT_EQ(a, b);
  ASSERT_EQ(a.size(), prompts.size());
  for (double lp : answerLogprobs(model, prompts, a, 0))
    EXPECT_LT(lp, 0.0);
}

TEST(MixtureFile, RoundTripsWithRelativePolicies) {
  std::string out = scratchDir("roundtrip");
  std::string dir = joinPath(joinPath(out, "checkpoints"), "fair");
  MixtureFile written{{joinPath(joinPath(out, "checkpoints"), "em.type0"), joinPath(joinPath(out, "checkpoints"), "em.type1")},
                      {0.25, 0.75}};
  writeMixture(dir, written, {{"kind", "minmax_regret"}});
  std::ifstream in(joinPath(dir, "mixture.json"));
  nlohmann::json j;
  in >> j;
  EXPECT_EQ(j["policies"][0], "../em.type0");
  EXPECT_EQ(j["kind"], "minmax_regret");
  MixtureFile read = readMixture(dir);
  ASSERT_EQ(read.policies.size(), 2u);
  EXPECT_EQ(read.policies[1], joinPath(dir, "../em.type1")); // resolved against the mixture directory
  EXPECT_EQ(read.weights, written.weights);
}

TEST(MixtureFile, BadFilesAreErrorsNamingTheField) {
  std::string dir = scratchDir("bad");
  EXPECT_THROW(readMixture(dir), Error); // no file
  auto expectError = [&](const std::string &text, const std::string &fragment) {
    writeFileAtomically(joinPath(dir, "mixture.json"), text);
    try {
      readMixture(dir);
      ADD_FAILURE() << "no error for " << text;
    } catch (const Error &e) {
      EXPECT_NE(std::string(e.what()).find(fragment), std::string::npos) << e.what();
    }
  };
  expectError("{", "not JSON");
  expectError(R"({"policies": [], "weights": []})", "'policies' is empty");
  expectError(R"({"policies": ["a", "b"], "weights": [1]})", "'weights' has 1 entries");
  expectError(R"({"policies": ["a", "b"], "weights": [1.5, -0.5]})", "negative");
  expectError(R"({"policies": ["a", "b"], "weights": [0.5, 0.6]})", "sums to");
}

TEST(MixtureFile, PickPolicyDrawsEachPolicyWithItsWeight) {
  MixtureFile mixture{{"a", "b", "c"}, {0.2, 0.0, 0.8}};
  std::vector<int> counts(3, 0);
  const int draws = 20000;
  for (int i = 0; i < draws; ++i)
    ++counts[pickPolicy(mixture, 5, static_cast<uint64_t>(i))];
  EXPECT_EQ(counts[1], 0);
  EXPECT_NEAR(counts[0] / double(draws), 0.2, 0.015);
  EXPECT_NEAR(counts[2] / double(draws), 0.8, 0.015);
  EXPECT_EQ(pickPolicy(mixture, 5, 123), pickPolicy(mixture, 5, 123));
}
