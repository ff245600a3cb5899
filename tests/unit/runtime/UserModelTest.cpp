//===- UserModelTest.cpp - P-RLHF user models and the P-DPO family --------===//
//
// The user embeddings against their formulas (individual with and without the generic offset, cluster
// mixtures), vocabulary initialisation, unseen users, save/load; soft tokens after BOS against a hand-built
// decoder input, and generation with them against full forwards; the P-DPO loss against
// α·mean(user rows) + (1 − α)·mean(generic rows) (objectives/Losses mixUserGeneric), the dropped term, and
// P-DPO with α = 0 on duplicated rows equal to plain DPO.

#include "model/Generate.h"
#include "model/RewardModel.h"
#include "model/UserModel.h"
#include "core/UserTables.h"
#include "objectives/Losses.h"
#include "objectives/ObjectiveTerms.h"

#include "TestFiles.h"
#include "TestModels.h"

#include <gtest/gtest.h>

#include <cmath>
#include <map>

using namespace align::rt;
using align::rt::testing::randomModel;
using align::rt::testing::tinyConfig;

namespace {

UserModelSpec settings(UserModelKind kind, int64_t tokens, bool generic = true) {
  UserModelSpec s;
  s.kind = kind;
  s.tokens = tokens;
  s.generic = generic;
  s.clusters = 3;
  return s;
}

std::vector<std::string> names(std::initializer_list<const char *> list) { return {list.begin(), list.end()}; }

torch::Tensor randomTable(torch::Tensor &param, uint64_t seed) {
  torch::NoGradGuard noGrad;
  torch::manual_seed(seed);
  param.copy_(torch::randn(param.sizes()));
  return param;
}

/// The decoder's hidden states for BOS, `soft` [B, T, H], then the rest of `ids`, built by hand, with the T
/// soft-token positions dropped: what a model reading user tokens must return.
torch::Tensor handSplicedHidden(Decoder &decoder, const torch::Tensor &ids, const torch::Tensor &soft) {
  torch::Tensor embedded = decoder->embed_tokens(ids);
  torch::Tensor input = torch::cat({embedded.slice(1, 0, 1), soft, embedded.slice(1, 1)}, 1);
  torch::Tensor positions = torch::arange(input.size(1), torch::kInt64).unsqueeze(0).expand({ids.size(0), -1});
  return decoder->forward(input, positions).slice(1, soft.size(1));
}

} // namespace

TEST(UserModel, IndividualIsGenericPlusOffset) {
  const int64_t t = 2, d = 4;
  UserModel users(settings(UserModelKind::individual, t), names({"carol", "alice", "bob"}), d);
  EXPECT_EQ(users->idOf("alice"), 1); // sorted names: ids do not depend on row order
  EXPECT_EQ(users->idOf("bob"), 2);
  EXPECT_EQ(users->idOf("carol"), 3);
  EXPECT_EQ(users->idOf("dave"), 0); // unseen → generic
  torch::Tensor table = randomTable(users->user_embedding, 1).view({4, t, d});
  torch::Tensor e = users->forward(torch::tensor({0, 2, 3}, torch::kInt64));
  ASSERT_EQ(e.sizes(), (std::vector<int64_t>{3, t, d}));
  EXPECT_TRUE(torch::allclose(e[0], table[0]));
  EXPECT_TRUE(torch::allclose(e[1], table[0] + table[2]));
  EXPECT_TRUE(torch::allclose(e[2], table[0] + table[3]));

  UserModel offsets(settings(UserModelKind::individual, t, /*generic=*/false), names({"a", "b"}), d);
  torch::Tensor rows = randomTable(offsets->user_embedding, 2).view({3, t, d});
  EXPECT_TRUE(torch::allclose(offsets->forward(torch::tensor({2}, torch::kInt64))[0], rows[2]));
}

TEST(UserModel, ClusterMixesByUserSoftmax) {
  const int64_t t = 2, d = 3;
  UserModel users(settings(UserModelKind::cluster, t), names({"a", "b"}), d);
  torch::Tensor c = randomTable(users->cluster_embedding, 3).view({3, t * d});
  torch::Tensor w = randomTable(users->user_weight, 4);
  torch::Tensor e = users->forward(torch::tensor({1, 0}, torch::kInt64));
  for (int64_t row = 0; row < 2; ++row) {
    const int64_t id = row == 0 ? 1 : 0;
    torch::Tensor expected = (torch::softmax(w[id], 0).unsqueeze(1) * c).sum(0).view({t, d});
    EXPECT_TRUE(torch::allclose(e[row], expected, 1e-6, 1e-6));
  }
}

TEST(UserModel, ClusterGradientsByHandForTwoUsersAndTwoClusters) {
  // K = 2, T = 1, d = 2; users a (id 1) and b (id 2). Loss L = Σ_rows g_row · e_row with fixed g, so
  // ∂L/∂C_k = Σ_rows w_row,k g_row and ∂L/∂W_i = Σ_{rows of i} w_i ⊙ (C g − (w_i · C g)) (the softmax Jacobian).
  UserModelSpec s = settings(UserModelKind::cluster, 1);
  s.clusters = 2;
  UserModel users(s, names({"a", "b"}), 2);
  {
    torch::NoGradGuard noGrad;
    users->cluster_embedding.copy_(torch::tensor({{1.0, 0.0}, {0.0, 2.0}}));
    users->user_weight.copy_(torch::tensor({{0.0, 0.0}, {std::log(3.0), 0.0}, {0.0, std::log(4.0)}}));
  }
  // a: w = (3/4, 1/4), e = (0.75, 0.5); b: w = (1/5, 4/5), e = (0.2, 1.6).
  torch::Tensor e = users->forward(torch::tensor({1, 2}, torch::kInt64));
  EXPECT_TRUE(torch::allclose(e, torch::tensor({{{0.75, 0.5}}, {{0.2, 1.6}}}), 1e-6, 1e-6));
  torch::Tensor g = torch::tensor({{{1.0, -1.0}}, {{2.0, 0.5}}});
  (e * g).sum().backward();
  // ∂L/∂C_0 = 0.75·(1, −1) + 0.2·(2, 0.5) = (1.15, −0.65); ∂L/∂C_1 = 0.25·(1, −1) + 0.8·(2, 0.5) = (1.85, 0.15).
  EXPECT_TRUE(torch::allclose(users->cluster_embedding.grad(), torch::tensor({{1.15, -0.65}, {1.85, 0.15}}), 1e-6, 1e-6));
  // a: C g = (1, −2), w · C g = 0.25; ∂W_a = (0.75·0.75, 0.25·(−2.25)) = (0.5625, −0.5625).
  // b: C g = (2, 1), w · C g = 1.2; ∂W_b = (0.2·0.8, 0.8·(−0.2)) = (0.16, −0.16). The generic row has none.
  EXPECT_TRUE(torch::allclose(users->user_weight.grad(), torch::tensor({{0.0, 0.0}, {0.5625, -0.5625}, {0.16, -0.16}}),
                              1e-6, 1e-6));
  // The diagnostics a stage logs: per-table gradient norms, W's shift from a start, and the commitment.
  std::map<std::string, double> d = userModelDiagnostics(users, torch::zeros({3, 2}));
  EXPECT_NEAR(d.at("users/grad_norm/user_weight"), std::sqrt(2 * 0.5625 * 0.5625 + 2 * 0.16 * 0.16), 1e-6);
  EXPECT_NEAR(d.at("users/weight_shift"), std::log(4.0), 1e-6);
  EXPECT_NEAR(d.at("users/commitment"), (0.75 + 0.8) / 2, 1e-6);
}

TEST(UserModel, VocabInitCopiesDistinctEmbeddingRows) {
  const int64_t t = 3, d = 5;
  torch::Tensor embedding = torch::randn({40, d});
  UserModelSpec s = settings(UserModelKind::individual, t);
  s.initSeed = 123;
  UserModel users(s, names({"a", "b", "c"}), d);
  users->initialize(embedding);
  torch::Tensor rows = users->user_embedding;
  std::set<int64_t> used;
  for (int64_t r = 0; r < rows.size(0); ++r) {
    torch::Tensor match = (embedding - rows[r]).abs().sum(1).eq(0).nonzero();
    ASSERT_EQ(match.size(0), 1) << "row " << r << " is not a copy of one embedding row";
    used.insert(match[0][0].item<int64_t>());
  }
  EXPECT_EQ(static_cast<int64_t>(used.size()), rows.size(0)); // without replacement
  UserModel again(s, names({"a", "b", "c"}), d);
  again->initialize(embedding);
  EXPECT_TRUE(torch::equal(again->user_embedding, rows)); // seeded

  s.init = UsersInit::uniform;
  s.initRange = 0.25;
  UserModel uniform(s, names({"a"}), d);
  uniform->initialize(embedding);
  EXPECT_LE(uniform->user_embedding.abs().max().item<double>(), 0.25);

  UserModelSpec tooMany = settings(UserModelKind::individual, 20);
  UserModel big(tooMany, names({"a", "b"}), d); // 60 rows from a 40-token vocabulary
  EXPECT_THROW(big->initialize(embedding), Error);
}

TEST(UserModel, UnseenUsersAreGenericOrAnError) {
  UserModelSpec s = settings(UserModelKind::individual, 1);
  s.unseen = Unseen::error;
  UserModel strict(s, names({"a"}), 4);
  EXPECT_EQ(strict->idOf("a"), 1);
  try {
    strict->idOf("zed");
    FAIL() << "expected an error";
  } catch (const Error &e) {
    EXPECT_NE(std::string(e.what()).find("'zed'"), std::string::npos);
  }
}

TEST(UserModel, SaveAndLoadRoundTrip) {
  const std::string dir = align::rt::testing::scratchDir("users", "roundtrip");
  UserModel users(settings(UserModelKind::cluster, 2), names({"x", "y"}), 6);
  randomTable(users->cluster_embedding, 5);
  randomTable(users->user_weight, 6);
  saveUserModel(users, dir);
  UserModel loaded = loadUserModel(dir);
  ASSERT_TRUE(loaded);
  EXPECT_EQ(loaded->names, users->names);
  EXPECT_EQ(loaded->settings.kind, UserModelKind::cluster);
  torch::Tensor ids = torch::tensor({0, 1, 2}, torch::kInt64);
  EXPECT_TRUE(torch::equal(loaded->forward(ids), users->forward(ids)));
  EXPECT_FALSE(loadUserModel(align::rt::testing::scratchDir("users", "empty")));
}

TEST(SoftTokens, InsertedAfterBosAndDroppedFromTheOutput) {
  CausalLM model = randomModel(tinyConfig(), 11);
  torch::NoGradGuard noGrad;
  const int64_t t = 3, d = model->config.hiddenSize;
  torch::Tensor ids = torch::tensor({{1, 5, 9, 4, 7}, {1, 8, 8, 2, 0}}, torch::kInt64);
  torch::Tensor soft = torch::randn({2, t, d});
  torch::Tensor h = model->hidden(ids, soft);
  ASSERT_EQ(h.sizes(), (std::vector<int64_t>{2, 5, d}));
  // By hand: BOS, the soft tokens, the other ids; positions 0..T+S-1; keep positions T.. (row i predicts ids[i+1]).
  EXPECT_TRUE(torch::allclose(h, handSplicedHidden(model->model, ids, soft), 1e-5, 1e-5));
  // No soft tokens: the plain forward.
  EXPECT_TRUE(torch::allclose(model->hidden(ids, torch::Tensor()), model->hidden(ids)));
  // Different user tokens change every prediction after BOS.
  torch::Tensor other = model->hidden(ids, torch::randn({2, t, d}));
  EXPECT_FALSE(torch::allclose(other.slice(1, 0, 1), h.slice(1, 0, 1)));
}

TEST(SoftTokens, GreedyGenerationWithUserTokensMatchesFullForwards) {
  CausalLM model = randomModel(tinyConfig(), 12);
  const int64_t t = 2;
  torch::Tensor soft = torch::randn({1, t, model->config.hiddenSize});
  std::vector<int64_t> prompt = {1, 17, 23, 5};
  SamplingOptions greedy;
  greedy.temperature = 0;
  greedy.maxNewTokens = 6;
  std::vector<int64_t> generated = generate(model, prompt, greedy, soft);
  ASSERT_EQ(generated.size(), 6u);
  std::vector<int64_t> sequence = prompt;
  torch::NoGradGuard noGrad;
  for (int64_t next : generated) {
    torch::Tensor ids = torch::tensor(sequence, torch::kInt64).unsqueeze(0);
    torch::Tensor logits = model->logits(ids, soft)[0][-1];
    EXPECT_EQ(logits.argmax().item<int64_t>(), next);
    sequence.push_back(next);
  }
}

namespace {

/// Examples of one pair each (sequences 2e, 2e + 1) with the given user ids, and random outputs.
struct PairBatch {
  std::vector<PreparedExample> examples;
  std::vector<const PreparedExample *> pointers;
  PolicyOutputs outputs;

  explicit PairBatch(const std::vector<int64_t> &userIds, uint64_t seed = 7) {
    torch::manual_seed(seed);
    for (int64_t id : userIds) {
      PreparedExample e;
      e.sequences.resize(2);
      e.pairs = {{0, 1}};
      e.userId = id;
      examples.push_back(e);
    }
    for (const PreparedExample &e : examples)
      pointers.push_back(&e);
    const int64_t n = 2 * static_cast<int64_t>(userIds.size());
    outputs.tokenLogps = -torch::rand({n, 6}, torch::kFloat64) * 3;
    outputs.tokenLogps.set_requires_grad(true);
    outputs.responseTargets = torch::ones({n, 6}, torch::kBool);
    outputs.responseTargets.slice(1, 0, 2).fill_(false);
    outputs.allTargets = torch::ones({n, 6}, torch::kBool);
    outputs.referenceLogps = -torch::rand({n}, torch::kFloat64) * 12;
  }

  /// Per-pair DPO losses (the formula's ℓ) for every example.
  torch::Tensor perPairDpo(double beta) const {
    torch::Tensor seq = sequenceLogprobs(outputs.tokenLogps, outputs.responseTargets);
    torch::Tensor even = torch::arange(0, seq.size(0), 2), odd = even + 1;
    PreferenceLogprobs logps{seq.index_select(0, even), seq.index_select(0, odd),
                             outputs.referenceLogps.index_select(0, even), outputs.referenceLogps.index_select(0, odd)};
    return dpoLoss(logps, beta).perExample;
  }
};

double stepLoss(const std::vector<ObjectiveTerm> &terms, const PairBatch &b) {
  return policyContribution(terms, countUnits(terms, b.pointers), b.pointers, b.outputs).loss.item<double>();
}

/// The two halves of a pdpo(beta, alpha) term.
std::vector<ObjectiveTerm> pdpoTerms(double beta, double alpha) { return expandTerm(TermSpec(PdpoParams{beta, alpha})); }

} // namespace

TEST(PersonalizedDpo, MatchesTheFormula) {
  PairBatch b({1, 0, 3, 0, 2, 1});
  for (double alpha : {0.0, 0.3, 0.5, 1.0}) {
    const std::vector<ObjectiveTerm> terms = pdpoTerms(0.5, alpha);
    ASSERT_EQ(terms.size(), 2u);
    torch::Tensor isUser = torch::tensor(std::vector<int64_t>{1, 0, 1, 0, 1, 1}).to(torch::kBool);
    const double expected = mixUserGeneric(b.perPairDpo(0.5), isUser, alpha).item<double>();
    EXPECT_NEAR(stepLoss(terms, b), expected, 1e-12) << "alpha " << alpha;
  }
  // The mixing, written out: α·mean(users) + (1 − α)·mean(generic).
  torch::Tensor l = b.perPairDpo(0.5);
  const double byHand = 0.3 * (l[0] + l[2] + l[4] + l[5]).item<double>() / 4 + 0.7 * (l[1] + l[3]).item<double>() / 2;
  EXPECT_NEAR(stepLoss(pdpoTerms(0.5, 0.3), b), byHand, 1e-12);
}

TEST(PersonalizedDpo, DropsTheTermOfAKindTheBatchLacks) {
  PairBatch b({2, 1, 3});
  torch::Tensor l = b.perPairDpo(0.1);
  // No generic row: α · mean(users) only, not renormalised.
  EXPECT_NEAR(stepLoss(pdpoTerms(0.1, 0.5), b), 0.5 * l.mean().item<double>(), 1e-12);
  TermContribution c = policyContribution(pdpoTerms(0.1, 0.5),
                                          countUnits(pdpoTerms(0.1, 0.5), b.pointers), b.pointers,
                                          b.outputs);
  c.loss.backward(); // the empty half still leaves a graph
  EXPECT_EQ(c.sums.count("accuracy@generic"), 0u);
  EXPECT_EQ(c.sums.count("accuracy@users"), 1u);
}

TEST(PersonalizedDpo, AlphaZeroOnDuplicatedRowsIsPlainDpo) {
  // Three user rows and their generic duplicates; with α = 0 only the duplicates count, which are the rows
  // plain DPO trains on: the same loss and the same gradient.
  PairBatch plain({0, 0, 0}, 21);
  PairBatch personal({0, 0, 0, 1, 2, 1}, 21);
  {
    torch::NoGradGuard noGrad;
    personal.outputs.tokenLogps.slice(0, 0, 6).copy_(plain.outputs.tokenLogps);
    personal.outputs.referenceLogps.slice(0, 0, 6).copy_(plain.outputs.referenceLogps);
  }
  ObjectiveTerm dpo = termOf(DpoParams{0.5, 0.0});
  TermContribution a = policyContribution({dpo}, countUnits({dpo}, plain.pointers), plain.pointers, plain.outputs);
  const auto pdpo = pdpoTerms(0.5, 0.0);
  TermContribution b = policyContribution(pdpo, countUnits(pdpo, personal.pointers), personal.pointers, personal.outputs);
  EXPECT_EQ(a.loss.item<double>(), b.loss.item<double>());
  a.loss.backward();
  b.loss.backward();
  EXPECT_TRUE(torch::equal(plain.outputs.tokenLogps.grad(), personal.outputs.tokenLogps.grad().slice(0, 0, 6)));
  EXPECT_EQ(personal.outputs.tokenLogps.grad().slice(0, 6).abs().sum().item<double>(), 0.0);
}

TEST(PersonalizedDpo, FamilyAndErrors) {
  auto ipo = expandTerm(TermSpec(PipoParams{0.5, 0.25}));
  EXPECT_EQ(mathOf(ipo[0].kind()), LossKind::ipo);
  EXPECT_EQ(ipo[0].rows, UserRows::Users);
  EXPECT_DOUBLE_EQ(ipo[0].weight, 0.25);
  EXPECT_DOUBLE_EQ(ipo[1].weight, 0.75);
  EXPECT_EQ(termLabel(ipo[1]), "ipo@generic");
  EXPECT_EQ(mathOf(expandTerm(TermSpec(PsimpoParams{2, 0.5, 0.5}))[0].kind()), LossKind::simpo);
  EXPECT_EQ(expandTerm(TermSpec(DpoParams{0.1, 0.0})).size(), 1u);
  EXPECT_THROW(pdpoTerms(0.1, 1.5), Error);
}

// P-RM: pbt is the Bradley–Terry loss mixed as P-DPO mixes DPO, α·mean(users' pairs) + (1 − α)·mean(generic).
TEST(PersonalizedRewardModel, PbtMatchesTheFormula) {
  PairBatch b({1, 0, 3, 0, 2, 1});
  torch::Tensor rewards = torch::randn({12, 1}, torch::kFloat64).set_requires_grad(true);
  torch::Tensor r = rewards.select(1, 0);
  torch::Tensor even = torch::arange(0, 12, 2), odd = even + 1;
  torch::Tensor l = -torch::log_sigmoid(r.index_select(0, even) - r.index_select(0, odd)); // per pair
  for (double alpha : {0.0, 0.3, 1.0}) {
    const std::vector<ObjectiveTerm> terms = expandTerm(TermSpec(PbtParams{alpha}));
    ASSERT_EQ(terms.size(), 2u);
    TermContribution c = rewardContribution(terms, countUnits(terms, b.pointers), b.pointers, rewards, PolicyOutputs{});
    const double byHand =
        alpha * (l[0] + l[2] + l[4] + l[5]).item<double>() / 4 + (1 - alpha) * (l[1] + l[3]).item<double>() / 2;
    EXPECT_NEAR(c.loss.item<double>(), byHand, 1e-12) << "alpha " << alpha;
    EXPECT_EQ(c.sums.count("accuracy@users"), 1u);
    EXPECT_EQ(c.sums.count("accuracy@generic"), 1u);
  }
  // A batch of users' rows only: the generic half is dropped (and leaves a graph).
  PairBatch users({2, 1});
  const std::vector<ObjectiveTerm> terms = expandTerm(TermSpec(PbtParams{0.5}));
  TermContribution c =
      rewardContribution(terms, countUnits(terms, users.pointers), users.pointers, rewards.slice(0, 0, 4), PolicyOutputs{});
  c.loss.backward();
  EXPECT_EQ(c.sums.count("accuracy@generic"), 0u);
}

// A P-RM's decoder reads BOS, the user's soft tokens, then the rest; pooling reads the same positions.
TEST(PersonalizedRewardModel, SoftTokensAfterBosAndTheSamePooledPosition) {
  CausalLM lm = randomModel(tinyConfig(), 12);
  RewardModel reward = rewardModelFrom(lm, 1, Pooling::last, 3);
  torch::NoGradGuard noGrad;
  const int64_t t = 2, d = lm->config.hiddenSize;
  torch::Tensor ids = torch::tensor({{1, 5, 9, 4, 2}, {1, 8, 2, 0, 0}}, torch::kInt64);
  torch::Tensor mask = torch::tensor({{1, 1, 1, 1, 1}, {1, 1, 1, 0, 0}}, torch::kInt64);
  torch::Tensor soft = torch::randn({2, t, d});
  torch::Tensor h = reward->hidden(ids, soft);
  ASSERT_EQ(h.sizes(), (std::vector<int64_t>{2, 5, d}));
  EXPECT_TRUE(torch::allclose(h, handSplicedHidden(reward->model, ids, soft), 1e-5, 1e-5));
  // The reward is the head on the token before EOS (index 3 and 1), read after the soft tokens.
  torch::Tensor rewards = reward->forward(ids, mask, soft);
  EXPECT_TRUE(torch::allclose(rewards[0], reward->score(h[0][3]), 1e-5, 1e-5));
  EXPECT_TRUE(torch::allclose(rewards[1], reward->score(h[1][1]), 1e-5, 1e-5));
  EXPECT_FALSE(torch::allclose(rewards, reward->forward(ids, mask)));
}

namespace {

/// One row per user of `groups` (user name → group), with ids as the user model gives them.
std::vector<PreparedExample> groupRows(UserModel &users, const std::map<std::string, std::string> &groups) {
  std::vector<PreparedExample> rows;
  for (const auto &[name, group] : groups) {
    PreparedExample row;
    row.user = name;
    row.group = group;
    row.userId = users->idOf(name);
    rows.push_back(row);
  }
  return rows;
}

} // namespace

TEST(UserTables, ClusterWeightsByUserAndGroupAgainstHandValues) {
  UserModelSpec s = settings(UserModelKind::cluster, 1);
  s.clusters = 2;
  UserModel users(s, names({"a", "b", "c"}), 4);
  {
    torch::NoGradGuard noGrad;
    users->user_weight.copy_(torch::tensor({{0.0f, 0.0f}, {2.0f, 0.0f}, {0.0f, 1.0f}, {0.0f, 2.0f}}));
  }
  const auto rows = groupRows(users, {{"a", "long"}, {"b", "long"}, {"c", "short"}});
  nlohmann::json summary = userTableSummary(users, rows);
  ASSERT_FALSE(summary.is_null());
  EXPECT_EQ(summary["model"], "cluster");
  // a: softmax(2, 0) = (0.8808, 0.1192) → cluster 0; b → 1; c → 1. The long group's votes tie 1:1, so it leans
  // to the lower cluster 0; short leans to 1; with_group = a and c of 3.
  EXPECT_NEAR(summary["by_user"]["a"]["weights"][0].get<double>(), 1.0 / (1.0 + std::exp(-2.0)), 1e-12);
  EXPECT_EQ(summary["by_user"]["b"]["cluster"], 1);
  EXPECT_EQ(summary["by_group"]["long"]["cluster"], 0);
  EXPECT_EQ(summary["by_group"]["short"]["cluster"], 1);
  EXPECT_NEAR(summary["by_group"]["long"]["mean_weights"][1].get<double>(),
              (1.0 / (1.0 + std::exp(2.0)) + 1.0 / (1.0 + std::exp(-1.0))) / 2, 1e-12);
  EXPECT_NEAR(summary["with_group"].get<double>(), 2.0 / 3.0, 1e-12);
  EXPECT_EQ(summary["generic_weights"], nlohmann::json::array({0.5, 0.5}));
  EXPECT_NE(userTableLine(summary).find("67% of users with their group"), std::string::npos) << userTableLine(summary);
  const std::string chart = align::rt::testing::scratchDir("users", "chart") + "/users.svg";
  writeUserTableChart(chart, "personalized", summary);
  EXPECT_TRUE(pathExists(chart));
}

TEST(UserTables, IndividualOffsetsCloserToTheirOwnGroup) {
  UserModelSpec s = settings(UserModelKind::individual, 1);
  UserModel users(s, names({"a", "b", "c", "d"}), 2);
  {
    torch::NoGradGuard noGrad;
    users->user_embedding.copy_(torch::tensor({{0.0f, 0.0f}, {1.0f, 0.0f}, {1.0f, 0.1f}, {-1.0f, 0.0f}, {-1.0f, -0.1f}}));
  }
  const auto rows = groupRows(users, {{"a", "long"}, {"b", "long"}, {"c", "short"}, {"d", "short"}});
  nlohmann::json summary = userTableSummary(users, rows);
  ASSERT_FALSE(summary.is_null());
  EXPECT_EQ(summary["model"], "individual");
  EXPECT_EQ(summary["with_group"].get<double>(), 1.0);
  // a = (1, 0): its own group without it is b = (1, 0.1); the other group's centroid is (-1, -0.05).
  EXPECT_NEAR(summary["by_user"]["a"]["cosine_own_group"].get<double>(), 1.0 / std::sqrt(1.01), 1e-6);
  EXPECT_NEAR(summary["by_user"]["a"]["cosine_other_group"].get<double>(), -1.0 / std::sqrt(1.0025), 1e-6);
  EXPECT_NEAR(summary["by_user"]["b"]["offset_norm"].get<double>(), std::sqrt(1.01), 1e-6);
  EXPECT_TRUE(userTableSummary(users, {}).is_null()); // no groups: nothing to say
}

TEST(UserModel, ClusterWeightsStartNormalWithTheRecipesSpread) {
  std::vector<std::string> many;
  for (int i = 0; i < 400; ++i)
    many.push_back("u" + std::to_string(i));
  for (double spread : {1.0, 0.01}) {
    UserModelSpec s = settings(UserModelKind::cluster, 1);
    s.clusters = 5;
    s.init = UsersInit::uniform;
    s.weightStd = spread;
    UserModel users(s, many, 4);
    users->initialize(torch::zeros({300, 4}));
    // 401 × 5 draws of N(0, spread²): the sample deviation within 10%, the mean within 4 standard errors.
    EXPECT_NEAR(users->user_weight.std().item<double>(), spread, 0.1 * spread);
    EXPECT_NEAR(users->user_weight.mean().item<double>(), 0.0, 4 * spread / std::sqrt(2005.0));
  }
}
