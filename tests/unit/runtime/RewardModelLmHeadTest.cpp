//===- RewardModelLmHeadTest.cpp - The reward model's LM head (DSP imitation) -===//
//
// DSP's LlamaRewardModel keeps the language model's head beside the reward head, and its imitation term is
// the mean token NLL — query included — of the sequences whose normalised score exceeds the threshold. Here:
// the head is the LM's after rewardModelFrom, it survives a checkpoint round trip, a checkpoint without one
// (transformers' sequence classification) loads without a head, and the imitation term of a reward stage
// equals the NLL worked out directly from the LM's log-probs.
//
//===----------------------------------------------------------------------===//

#include "align/rt/Error.h"
#include "checkpoint/SafeTensors.h"
#include "support/Files.h"
#include "model/Checkpoint.h"
#include "model/RewardModel.h"
#include "objectives/ChunkedLogprobs.h"
#include "objectives/ObjectiveTerms.h"
#include "data/PreparedData.h"

#include <gtest/gtest.h>

using namespace align::rt;

TEST(RewardModelLmHead, IsTheLanguageModelsHead) {
  CausalLM lm = presetCausalLM("tiny", 61, 1);
  RewardModel rm = rewardModelFrom(lm, 1, Pooling::last, 2);
  ASSERT_TRUE(rm->hasLmHead());
  rm->eval();
  torch::NoGradGuard noGrad;
  torch::Tensor ids = torch::randint(0, 61, {2, 7}, torch::kInt64);
  torch::Tensor fromRm = chunkedSequenceTokenLogprobs(rm->hidden(ids), rm->headWeight(), ids, 1024);
  EXPECT_TRUE(torch::allclose(fromRm, tokenLogprobs(lm, ids), 1e-5, 1e-6));
}

TEST(RewardModelLmHead, SurvivesACheckpointAndIsOptionalOnLoad) {
  CausalLM lm = presetCausalLM("tiny", 61, 3);
  RewardModel rm = rewardModelFrom(lm, 1, Pooling::last, 4);
  std::string dir = joinPath(::testing::TempDir(), "align-reward-lmhead");
  removeTree(dir);
  saveRewardModel(rm, dir);
  RewardModel loaded = loadRewardModel(dir);
  ASSERT_TRUE(loaded->hasLmHead());
  EXPECT_TRUE(torch::equal(loaded->headWeight(), rm->headWeight()));

  // Without lm_head.weight (what transformers' *ForSequenceClassification saves): rewards load, no LM head.
  std::map<std::string, torch::Tensor> tensors = readCheckpointTensors(dir);
  tensors.erase("lm_head.weight");
  writeSafetensors(joinPath(dir, "model.safetensors"), tensors, {{"format", "pt"}});
  RewardModel headless = loadRewardModel(dir);
  EXPECT_FALSE(headless->hasLmHead());
  EXPECT_THROW(headless->headWeight(), Error);
  rm->eval();
  headless->eval();
  torch::NoGradGuard noGrad;
  torch::Tensor ids = torch::randint(0, 61, {2, 5}, torch::kInt64);
  torch::Tensor mask = torch::ones({2, 5}, torch::kInt64);
  EXPECT_TRUE(torch::equal(rm(ids, mask), headless(ids, mask)));
}

TEST(RewardModelLmHead, ImitationIsTheMeanNllOfTheBestSequenceQueryIncluded) {
  // One example: two responses to a 2-token prompt ([BOS] q), scores {1, 0}; the second is padded.
  PreparedExample e;
  e.sequences = {{{1, 7, 8, 9, 2}, 2, false}, {{1, 7, 5, 2}, 2, false}};
  e.scores = {1.0, 0.0};
  e.pairs = {{0, 1}};
  e.imitation = {0};
  const std::vector<const PreparedExample *> batch = {&e};
  MicroBatch micro = collateSequences(batch, /*padId=*/0);

  CausalLM lm = presetCausalLM("tiny", 16, 5);
  RewardModel rm = rewardModelFrom(lm, 1, Pooling::last, 6);
  torch::Tensor ids = micro.tokens.ids;
  torch::Tensor hidden = rm->hidden(ids);
  PolicyOutputs lmOutputs;
  lmOutputs.tokenLogps = chunkedSequenceTokenLogprobs(hidden, rm->headWeight(), ids, 1024);
  lmOutputs.responseTargets = micro.responseTargets;
  lmOutputs.allTargets = micro.allTargets;
  torch::Tensor rewards = rm->rewardsOf(hidden, micro.tokens.attention);

  ObjectiveTerm rank = termOf(RankLossParams{}), imitation = termOf(ImitationParams{});
  imitation.weight = 0.1;
  const std::vector<ObjectiveTerm> terms = {rank, imitation};
  TermContribution c = rewardContribution(terms, countUnits(terms, batch), batch, rewards, lmOutputs);

  // By hand: every target of sequence 0 (7, 8, 9, EOS — the query token included), mean of −log p.
  torch::NoGradGuard noGrad;
  torch::Tensor logps = tokenLogprobs(lm, ids)[0];
  const double nll = -logps.slice(0, 0, 4).mean().item<double>();
  EXPECT_NEAR(c.sums.at("loss/imitation"), nll, 1e-5);
  // Ranking loss on one pair is Bradley–Terry: −log σ(r0 − r1).
  const double r0 = rewards[0][0].item<double>(), r1 = rewards[1][0].item<double>();
  const double rankLoss = std::log1p(std::exp(-(r0 - r1)));
  EXPECT_NEAR(c.sums.at("loss/rank_loss"), rankLoss, 1e-5);
  EXPECT_NEAR(c.loss.item<double>(), rankLoss + 0.1 * nll, 1e-5);
}
