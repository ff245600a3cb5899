//===- RewardModelTest.cpp - Pooling and reward heads by hand -------------===//
//
// The pooled positions are checked against indices worked out by hand on right-padded rows — DSP's `last`
// reads the token BEFORE the final one (index length − 2), the classic off-by-one — and the head against a
// direct computation. Parity with transformers' sequence classification is in
// tests/reference/test_reward_parity.py.
//
//===----------------------------------------------------------------------===//

#include "align/rt/Error.h"
#include "support/Files.h"
#include "model/Checkpoint.h"
#include "model/RewardModel.h"

#include <gtest/gtest.h>

using namespace align::rt;

namespace {

/// hidden[b][t] = [100·b + t, −(100·b + t)]: the pooled vector names the position it came from.
torch::Tensor positionalHidden(int64_t batch, int64_t seq) {
  torch::Tensor base = (torch::arange(batch).unsqueeze(1) * 100 + torch::arange(seq).unsqueeze(0)).to(torch::kFloat64);
  return torch::stack({base, -base}, -1);
}

} // namespace

TEST(Pooling, LastIsTheTokenBeforeTheFinalNonPadToken) {
  // Row 0 has 5 real tokens (…, x, EOS), row 1 has 3, row 2 has 1; the rest is right padding.
  torch::Tensor mask = torch::tensor({{1, 1, 1, 1, 1, 0}, {1, 1, 1, 0, 0, 0}, {1, 0, 0, 0, 0, 0}});
  torch::Tensor pooled = poolHidden(positionalHidden(3, 6), mask, Pooling::last);
  EXPECT_EQ(pooled[0][0].item<double>(), 3);   // index 5 − 2
  EXPECT_EQ(pooled[1][0].item<double>(), 101); // index 3 − 2
  EXPECT_EQ(pooled[2][0].item<double>(), 200); // a single token: itself, never the padding at the end
}

TEST(Pooling, EosIsTheFinalNonPadToken) {
  torch::Tensor mask = torch::tensor({{1, 1, 1, 1, 1, 0}, {1, 1, 1, 0, 0, 0}, {1, 1, 1, 1, 1, 1}});
  torch::Tensor pooled = poolHidden(positionalHidden(3, 6), mask, Pooling::eos);
  EXPECT_EQ(pooled[0][0].item<double>(), 4);
  EXPECT_EQ(pooled[1][0].item<double>(), 102);
  EXPECT_EQ(pooled[2][0].item<double>(), 205);
}

TEST(Pooling, MeanAndMaxIgnorePadding) {
  torch::Tensor mask = torch::tensor({{1, 1, 1, 0}, {1, 1, 1, 1}});
  torch::Tensor hidden = positionalHidden(2, 4);
  torch::Tensor mean = poolHidden(hidden, mask, Pooling::mean), max = poolHidden(hidden, mask, Pooling::max);
  EXPECT_DOUBLE_EQ(mean[0][0].item<double>(), 1.0);   // (0 + 1 + 2) / 3
  EXPECT_DOUBLE_EQ(mean[1][0].item<double>(), 101.5); // (100 + … + 103) / 4
  EXPECT_DOUBLE_EQ(max[0][0].item<double>(), 2.0);    // not the padded 3
  EXPECT_DOUBLE_EQ(max[0][1].item<double>(), 0.0);    // max of −0, −1, −2
}

TEST(RewardModel, ScoresThePooledHiddenState) {
  CausalLM lm = presetCausalLM("tiny", 61, 1);
  RewardModel rm = rewardModelFrom(lm, /*outputs=*/3, Pooling::last, 2);
  rm->eval();
  torch::NoGradGuard noGrad;
  torch::Tensor ids = torch::randint(0, 61, {2, 7}, torch::kInt64);
  torch::Tensor mask = torch::tensor({{1, 1, 1, 1, 1, 1, 1}, {1, 1, 1, 1, 0, 0, 0}});
  torch::Tensor rewards = rm(ids, mask);
  ASSERT_EQ(rewards.sizes(), (std::vector<int64_t>{2, 3}));
  // Row 1 reads position 2; its hidden state there is the causal LM's (shared decoder weights).
  torch::Tensor hidden = lm->hidden(ids);
  torch::Tensor expected = torch::matmul(hidden[1][2], rm->score->weight.t());
  EXPECT_TRUE(torch::allclose(rewards[1], expected, 1e-5, 1e-6));
  // Padding after a row's last token does not change its reward.
  torch::Tensor other = ids.clone();
  other.index_put_({1, 5}, (ids[1][5] + 1) % 61);
  EXPECT_TRUE(torch::equal(rm(other, mask)[1], rewards[1]));
}

TEST(RewardModel, CheckpointRoundTrip) {
  CausalLM lm = presetCausalLM("tiny", 61, 3);
  RewardModel rm = rewardModelFrom(lm, 2, Pooling::mean, 4);
  std::string dir = joinPath(::testing::TempDir(), "align-reward-roundtrip");
  removeTree(dir);
  saveRewardModel(rm, dir);
  RewardModel loaded = loadRewardModel(dir);
  EXPECT_EQ(loaded->outputs, 2);
  EXPECT_EQ(loaded->pooling, Pooling::mean);
  rm->eval();
  loaded->eval();
  torch::NoGradGuard noGrad;
  torch::Tensor ids = torch::randint(0, 61, {3, 5}, torch::kInt64);
  torch::Tensor mask = torch::ones({3, 5}, torch::kInt64);
  EXPECT_TRUE(torch::equal(rm(ids, mask), loaded(ids, mask)));
  EXPECT_THROW(loadCausalLM(dir), Error); // a reward checkpoint has `score`, not `lm_head`: not a causal LM
}

TEST(Pooling, NamesRoundTrip) {
  for (Pooling p : {Pooling::last, Pooling::eos, Pooling::mean, Pooling::max})
    EXPECT_EQ(parsePooling(spelling(p)), p);
  EXPECT_THROW(parsePooling("first"), Error);
}
