//===- LatentTest.cpp - EM's posterior over latent annotator types --------===//
//
// The E-step against its closed form on a bandit whose type policies are known, and EM over the type shares
// with those policies fixed recovering the generated mixture; the floor on η; K = 1; the posterior file's exact
// round trip; the three starts (Dirichlet, clusters, annotator agreement); k-means; type recovery (matched
// accuracy and the adjusted Rand index against known values).

#include "latent/Posterior.h"
#include "latent/TypeInit.h"
#include "latent/TypeRecovery.h"

#include "align/rt/Error.h"
#include "support/SplitMix64.h"

#include "TestFiles.h"

#include <gtest/gtest.h>

#include <cmath>

using namespace align::rt;

namespace {

std::vector<std::string> names(int64_t n) {
  std::vector<std::string> out;
  for (int64_t h = 0; h < n; ++h)
    out.push_back("u" + std::to_string(h));
  return out;
}

double sigmoid(double x) { return 1 / (1 + std::exp(-x)); }

/// The authors' bandit (docs/methods.md §3.7): three arms, type i's reward is 10 on arm i and 0 elsewhere;
/// each user compares two distinct arms drawn uniformly, the winner by Bradley–Terry.
struct Bandit {
  std::vector<int64_t> typeOf;                       // per user
  std::vector<std::vector<std::pair<int, int>>> won; // per user: (winner, loser) arms
};

Bandit makeBandit(const std::vector<double> &mixture, int users, int pairs, uint64_t seed) {
  SplitMix64 rng(seed);
  auto uniform = [&] { return (static_cast<double>(rng.next() >> 11) + 0.5) * 0x1.0p-53; };
  Bandit b;
  for (int u = 0; u < users; ++u) {
    double draw = uniform(), running = 0;
    int64_t type = static_cast<int64_t>(mixture.size()) - 1;
    for (size_t k = 0; k < mixture.size(); ++k)
      if ((running += mixture[k]) > draw) {
        type = static_cast<int64_t>(k);
        break;
      }
    b.typeOf.push_back(type);
    b.won.emplace_back();
    for (int p = 0; p < pairs; ++p) {
      int a = static_cast<int>(rng.below(3)), c = static_cast<int>(rng.below(2));
      c = c >= a ? c + 1 : c;
      const double ra = a == type ? 10 : 0, rc = c == type ? 10 : 0;
      b.won.back().push_back(uniform() < sigmoid(ra - rc) ? std::make_pair(a, c) : std::make_pair(c, a));
    }
  }
  return b;
}

/// loglik[k, h] = Σ over user h's comparisons of log σ(r_k(winner) − r_k(loser)), the policies being known.
torch::Tensor banditLoglik(const Bandit &b, int64_t types) {
  torch::Tensor ll = torch::zeros({types, static_cast<int64_t>(b.won.size())}, torch::kFloat64);
  for (int64_t k = 0; k < types; ++k)
    for (size_t h = 0; h < b.won.size(); ++h)
      for (auto [w, l] : b.won[h])
        ll[k][static_cast<int64_t>(h)] += std::log(sigmoid((w == k ? 10.0 : 0.0) - (l == k ? 10.0 : 0.0)));
  return ll;
}

} // namespace

TEST(EStep, MatchesTheClosedFormPosterior) {
  // Two users with a few comparisons each, small enough to write the posterior as products:
  //   γ[k, h] = η_k Π σ(·) / Σ_k' η_k' Π σ(·).
  Bandit b = makeBandit({0.5, 0.5, 0.0}, 2, 3, 11);
  LatentPosterior start = posteriorFrom(names(2), torch::tensor({0.2, 0.3, 0.5, 0.4, 0.1, 0.6}, torch::kFloat64).view({3, 2}));
  LatentPosterior next = eStep(start, banditLoglik(b, 3));
  for (int64_t h = 0; h < 2; ++h) {
    std::vector<double> joint(3);
    double total = 0;
    for (int64_t k = 0; k < 3; ++k) {
      joint[k] = start.eta[k].item<double>();
      for (auto [w, l] : b.won[static_cast<size_t>(h)])
        joint[k] *= sigmoid((w == k ? 10.0 : 0.0) - (l == k ? 10.0 : 0.0));
      total += joint[k];
    }
    for (int64_t k = 0; k < 3; ++k)
      EXPECT_NEAR(next.gamma[k][h].item<double>(), joint[k] / total, 1e-12) << k << "," << h;
  }
  // η is the mean posterior, up to the floor's renormalisation (a share below the floor is raised to it).
  EXPECT_TRUE(torch::allclose(next.eta, next.gamma.mean(1), 0, 3 * kEtaFloor));
  EXPECT_NEAR(next.eta.sum().item<double>(), 1.0, 1e-15);
  EXPECT_GE(next.eta.min().item<double>(), kEtaFloor / (1 + 3 * kEtaFloor)); // floored, then renormalised
}

TEST(EStep, RecoversTheBanditMixtureWithKnownPolicies) {
  // The authors' check (shares [0.2, 0, 0.8], 100 users × 100 pairs), with the M-step replaced by the true
  // policies: EM over the shares must find them, and every user's type.
  Bandit b = makeBandit({0.2, 0.0, 0.8}, 100, 100, 5);
  LatentPosterior p = dirichletInit(3, names(100), 1.0, 0);
  torch::Tensor ll = banditLoglik(b, 3);
  for (int iteration = 0; iteration < 20; ++iteration)
    p = eStep(p, ll);
  std::vector<double> shares(3, 0.0);
  for (int64_t t : b.typeOf)
    shares[static_cast<size_t>(t)] += 0.01;
  for (int64_t k = 0; k < 3; ++k)
    EXPECT_NEAR(p.eta[k].item<double>(), shares[static_cast<size_t>(k)], 0.01) << k;
  torch::Tensor hard = p.hardTypes();
  TypeRecovery r = typeRecovery(std::vector<int64_t>(hard.data_ptr<int64_t>(), hard.data_ptr<int64_t>() + 100), b.typeOf);
  EXPECT_GE(r.accuracy, 0.99);
  EXPECT_GT(p.eta[1].item<double>(), 0.0); // the empty type keeps its floor: log η stays finite
}

TEST(EStep, FloorKeepsEveryTypeAliveAndOneTypeIsPlainDpo) {
  // A hard start with an empty type: η_1 would be 0 and log η_1 = −∞.
  LatentPosterior hard = clustersInit(3, names(4), {"a", "a", "c", "c"});
  EXPECT_GT(hard.eta[2].item<double>(), 0.0);
  EXPECT_NEAR(hard.eta[2].item<double>(), kEtaFloor, 1e-9);
  EXPECT_NEAR(hard.eta.sum().item<double>(), 1.0, 1e-15);
  LatentPosterior next = eStep(hard, torch::zeros({3, 4}, torch::kFloat64));
  EXPECT_TRUE(torch::isfinite(next.gamma).all().item<bool>());
  // K = 1: every weight is exactly 1, whatever the log-likelihoods (EM-DPO is DPO).
  LatentPosterior one = dirichletInit(1, names(3), 1.0, 7);
  LatentPosterior after = eStep(one, torch::tensor({-3.0, -50.0, -0.1}, torch::kFloat64).view({1, 3}));
  EXPECT_TRUE(torch::equal(after.gamma, torch::ones({1, 3}, torch::kFloat64)));
  EXPECT_TRUE(torch::equal(after.eta, torch::ones({1}, torch::kFloat64)));
}

TEST(EStep, ErrorsNameTheAnnotatorAndTheShape) {
  LatentPosterior p = dirichletInit(2, names(2), 1.0, 0);
  torch::Tensor ll = torch::zeros({2, 2}, torch::kFloat64);
  ll[1][1] = -std::numeric_limits<double>::infinity();
  try {
    eStep(p, ll);
    FAIL();
  } catch (const Error &e) {
    EXPECT_NE(std::string(e.what()).find("type 1's log-likelihood of annotator 'u1'"), std::string::npos) << e.what();
  }
  EXPECT_THROW(eStep(p, torch::zeros({3, 2}, torch::kFloat64)), Error);
  EXPECT_THROW(dirichletInit(5, names(3), 1.0, 0), Error); // more types than annotators
  EXPECT_THROW(clustersInit(2, names(3), {"a", "b", "c"}), Error);
  EXPECT_THROW(p.column("nobody"), Error);
}

TEST(Posterior, FileRoundTripIsExact) {
  LatentPosterior p = eStep(dirichletInit(3, names(5), 0.7, 3), torch::randn({3, 5}, torch::kFloat64));
  const std::string path = align::rt::testing::scratchDir("latent", "posterior") + "/gamma.json";
  writePosterior(path, p);
  LatentPosterior back = readPosterior(path);
  EXPECT_EQ(back.annotators, p.annotators);
  EXPECT_TRUE(torch::equal(back.gamma, p.gamma));
  EXPECT_TRUE(torch::equal(back.eta, p.eta));
}

TEST(TypeInit, DirichletIsSeededAndHasTheRightMean) {
  LatentPosterior a = dirichletInit(4, names(2000), 1.0, 9), b = dirichletInit(4, names(2000), 1.0, 9);
  EXPECT_TRUE(torch::equal(a.gamma, b.gamma));
  EXPECT_FALSE(torch::equal(a.gamma, dirichletInit(4, names(2000), 1.0, 10).gamma));
  EXPECT_TRUE(torch::allclose(a.gamma.sum(0), torch::ones({2000}, torch::kFloat64)));
  // Dirichlet(α·1): mean 1/K, variance (1/K)(1 − 1/K)/(Kα + 1).
  for (double alpha : {0.3, 1.0, 20.0}) {
    LatentPosterior d = dirichletInit(4, names(4000), alpha, 1);
    EXPECT_NEAR(d.gamma.mean().item<double>(), 0.25, 1e-12);
    const double variance = 0.25 * 0.75 / (4 * alpha + 1);
    EXPECT_NEAR(d.gamma[0].var().item<double>(), variance, 0.1 * variance) << alpha;
  }
}

TEST(TypeInit, AgreementSeparatesAnnotatorsWhoVoteAlike) {
  // Three groups on the bandit: group members agree on the comparisons they share, and the groups disagree.
  Bandit b = makeBandit({0.3, 0.3, 0.4}, 30, 40, 2);
  std::vector<AnnotatorVote> votes;
  const char *arms[] = {"arm A", "arm B", "arm C"};
  for (size_t h = 0; h < b.won.size(); ++h)
    for (auto [w, l] : b.won[h])
      votes.push_back(voteFor(static_cast<int64_t>(h), "Pick one:", arms[w], arms[l]));
  LatentPosterior p = agreementInit(3, names(30), votes, 4);
  torch::Tensor hard = p.hardTypes();
  std::vector<int64_t> predicted(hard.data_ptr<int64_t>(), hard.data_ptr<int64_t>() + 30);
  EXPECT_EQ(typeRecovery(predicted, b.typeOf).accuracy, 1.0);
  // Same seed, same start.
  EXPECT_TRUE(torch::equal(agreementInit(3, names(30), votes, 4).gamma, p.gamma));
  // A vote's key does not depend on which response won.
  AnnotatorVote x = voteFor(0, "p", "a", "b"), y = voteFor(1, "p", "b", "a");
  EXPECT_EQ(x.comparison, y.comparison);
  EXPECT_EQ(x.sign, -y.sign);
}

TEST(TypeInit, KMeansFindsSeparatedBlobs) {
  torch::Tensor centres = torch::tensor({0.0, 0.0, 10.0, 0.0, 0.0, 10.0}, torch::kFloat64).view({3, 2});
  torch::Tensor truth = torch::arange(60, torch::kInt64) % 3;
  torch::manual_seed(0);
  torch::Tensor points = centres.index({truth}) + 0.5 * torch::randn({60, 2}, torch::kFloat64);
  torch::Tensor found = kMeans(points, 3, 1);
  EXPECT_EQ(adjustedRandIndex(std::vector<int64_t>(found.data_ptr<int64_t>(), found.data_ptr<int64_t>() + 60),
                              std::vector<int64_t>(truth.data_ptr<int64_t>(), truth.data_ptr<int64_t>() + 60)),
            1.0);
}

TEST(TypeRecovery, MatchedAccuracyAndAdjustedRandIndex) {
  // Labels are arbitrary: a permutation is a perfect recovery.
  TypeRecovery perfect = typeRecovery({2, 2, 0, 0, 1}, {0, 0, 1, 1, 2});
  EXPECT_EQ(perfect.accuracy, 1.0);
  EXPECT_EQ(perfect.ari, 1.0);
  EXPECT_EQ(perfect.matchOf, (std::vector<int64_t>{1, 2, 0}));
  // Known values (sklearn.metrics.adjusted_rand_score's documented examples).
  EXPECT_NEAR(adjustedRandIndex({0, 0, 1, 1}, {0, 0, 1, 2}), 0.5714285714285715, 1e-15);
  EXPECT_NEAR(adjustedRandIndex({0, 0, 1, 2}, {0, 0, 1, 1}), 0.5714285714285715, 1e-15);
  EXPECT_NEAR(adjustedRandIndex({0, 0, 0, 0}, {0, 1, 2, 3}), 0.0, 1e-15);
  EXPECT_NEAR(adjustedRandIndex({0, 0, 1, 1}, {0, 1, 0, 1}), -0.5, 1e-15);
  // Two predicted types for three true ones: the best matching covers the two largest overlaps.
  TypeRecovery partial = typeRecovery({0, 0, 0, 1, 1, 1}, {0, 0, 1, 2, 2, 2});
  EXPECT_NEAR(partial.accuracy, 5.0 / 6.0, 1e-15);
  EXPECT_THROW(typeRecovery({0, 1}, {0}), Error);
}
