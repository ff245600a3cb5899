//===- LossesTest.cpp - Objectives against closed forms and finite differences ===//
//
// Every objective in objectives/Losses.h on hand-computed numbers (DPO at zero margin is log 2, cDPO adds
// exactly ε·βh, IPO's length normalisation, DSP's pair counting), its gradient against central finite
// differences in float64, and the masking rules (padded tokens, responses and ratings may hold NaN/−inf
// without reaching a value or a gradient). The `LossesPeer` test at the bottom computes the losses and
// gradients that tests/reference/test_losses_trl_peer.py compares with TRL 1.16 on the same inputs.
//
//===----------------------------------------------------------------------===//

#include "objectives/Losses.h"

#include "align/rt/Error.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <limits>

using namespace align::rt;
using Json = nlohmann::json;

namespace {

const double kLog2 = std::log(2.0);
const double kNaN = std::numeric_limits<double>::quiet_NaN();
const double kInf = std::numeric_limits<double>::infinity();

torch::Tensor f64(std::vector<double> values) { return torch::tensor(values, torch::kFloat64); }
torch::Tensor f64(std::vector<double> values, std::vector<int64_t> shape) {
  return torch::tensor(values, torch::kFloat64).reshape(shape);
}
torch::Tensor flags(std::vector<int64_t> values) { return torch::tensor(values, torch::kInt64).to(torch::kBool); }
double value(const torch::Tensor &t) { return t.item<double>(); }
double softplus(double x) { return std::log1p(std::exp(x)); }

/// Every element of `inputs` (float64) is nudged by ±step, one at a time; the central difference of
/// `loss` must equal autograd's gradient to `tolerance`·max(1, |gradient|).
void expectGradientMatchesFiniteDifferences(const std::function<torch::Tensor(const std::vector<torch::Tensor> &)> &loss,
                                            std::vector<torch::Tensor> inputs, double step = 1e-6,
                                            double tolerance = 1e-6) {
  for (auto &input : inputs)
    input = input.detach().clone().set_requires_grad(true);
  torch::Tensor value = loss(inputs);
  ASSERT_EQ(value.dim(), 0) << "the loss must be a scalar";
  std::vector<torch::Tensor> analytic = torch::autograd::grad({value}, inputs, {}, false, false, true);
  torch::NoGradGuard noGrad;
  for (size_t i = 0; i < inputs.size(); ++i) {
    ASSERT_TRUE(analytic[i].defined()) << "input " << i << " is not connected to the loss";
    torch::Tensor flat = inputs[i].view(-1);
    for (int64_t k = 0; k < flat.numel(); ++k) {
      double original = flat[k].item<double>();
      flat[k] = original + step;
      double up = loss(inputs).item<double>();
      flat[k] = original - step;
      double down = loss(inputs).item<double>();
      flat[k] = original;
      double numeric = (up - down) / (2 * step);
      double exact = analytic[i].view(-1)[k].item<double>();
      EXPECT_NEAR(exact, numeric, tolerance * std::max(1.0, std::abs(exact))) << "input " << i << ", element " << k;
    }
  }
}

/// Random preference log-probs in float64, margins spread over both signs.
PreferenceLogprobs randomPreference(int64_t batch, uint64_t seed) {
  torch::manual_seed(seed);
  auto options = torch::TensorOptions().dtype(torch::kFloat64);
  return {-20 * torch::rand({batch}, options), -20 * torch::rand({batch}, options),
          -20 * torch::rand({batch}, options), -20 * torch::rand({batch}, options)};
}

PreferenceLogprobs fromPolicy(const std::vector<torch::Tensor> &in, const PreferenceLogprobs &reference) {
  return {in[0], in[1], reference.referenceChosen, reference.referenceRejected};
}

} // namespace

//===----------------------------------------------------------------------===//
// Sequence log-probs
//===----------------------------------------------------------------------===//

TEST(SequenceLogprobs, SumsAndMeansOverMaskedTokensOnly) {
  torch::Tensor logps = f64({-1, -2, -4, -0.5, -8, -16}, {2, 3});
  torch::Tensor mask = torch::tensor({1, 1, 0, 0, 1, 0}, torch::kInt64).reshape({2, 3});
  EXPECT_TRUE(torch::equal(sequenceLogprobs(logps, mask), f64({-3, -8})));
  EXPECT_TRUE(torch::equal(meanTokenLogprobs(logps, mask), f64({-1.5, -8})));
  EXPECT_TRUE(torch::equal(tokenCounts(mask, logps), f64({2, 1})));
  // bool and float masks select the same tokens.
  EXPECT_TRUE(torch::equal(sequenceLogprobs(logps, mask.to(torch::kBool)), f64({-3, -8})));
  EXPECT_TRUE(torch::equal(sequenceLogprobs(logps, mask.to(torch::kFloat32)), f64({-3, -8})));
}

TEST(SequenceLogprobs, PaddingHoldingNanOrInfinityReachesNeitherValueNorGradient) {
  torch::Tensor logps = f64({-1, kNaN, -kInf, -2, -3, kInf}, {2, 3}).set_requires_grad(true);
  torch::Tensor mask = flags({1, 0, 0, 1, 1, 0}).reshape({2, 3});
  torch::Tensor sums = sequenceLogprobs(logps, mask);
  EXPECT_TRUE(torch::equal(sums.detach(), f64({-1, -5})));
  sums.sum().backward();
  EXPECT_TRUE(torch::equal(logps.grad(), mask.to(torch::kFloat64)));
}

TEST(SequenceLogprobs, EmptyRowMeansZeroAndHalfPrecisionSumsInFloat32) {
  torch::Tensor logps = f64({-1, -1, -7, -7}, {2, 2});
  torch::Tensor mask = flags({1, 1, 0, 0}).reshape({2, 2});
  EXPECT_TRUE(torch::equal(meanTokenLogprobs(logps, mask), f64({-1, 0})));
  // 600 tokens of −0.01 in bfloat16 would sum to well off −6 (bf16 has 8 bits of mantissa).
  torch::Tensor many = torch::full({1, 600}, -0.01, torch::kBFloat16);
  torch::Tensor sum = sequenceLogprobs(many, torch::ones({1, 600}, torch::kBool));
  EXPECT_EQ(sum.scalar_type(), torch::kFloat32);
  EXPECT_NEAR(value(sum[0]), 600 * value(many[0][0].to(torch::kFloat64)), 1e-4);
}

//===----------------------------------------------------------------------===//
// DPO, IPO, hinge, SimPO
//===----------------------------------------------------------------------===//

TEST(DpoLoss, ZeroMarginIsLog2ForEveryBetaAndSmoothing) {
  PreferenceLogprobs logps{f64({-3, -10}), f64({-5, -2}), f64({-4, -11}), f64({-6, -3})}; // h = 0 in both rows
  for (double beta : {0.01, 0.1, 0.5, 5.0})
    for (double smoothing : {0.0, 0.1, 0.3}) {
      PreferenceLoss loss = dpoLoss(logps, beta, smoothing);
      EXPECT_NEAR(value(loss.perExample[0]), kLog2, 1e-15);
      EXPECT_NEAR(value(loss.perExample[1]), kLog2, 1e-15);
    }
}

TEST(DpoLoss, HandComputedValueRewardsAndAccuracy) {
  // h = (−1 − −2) − (−3 − −2) = 2, β = 0.5: ℓ = −log σ(1) = softplus(−1).
  PreferenceLogprobs logps{f64({-1}), f64({-3}), f64({-2}), f64({-2})};
  PreferenceLoss loss = dpoLoss(logps, 0.5);
  EXPECT_NEAR(value(loss.mean()), softplus(-1), 1e-15);
  EXPECT_DOUBLE_EQ(value(loss.chosenRewards[0]), 0.5);
  EXPECT_DOUBLE_EQ(value(loss.rejectedRewards[0]), -0.5);
  EXPECT_DOUBLE_EQ(value(loss.rewardAccuracy()), 1.0);
  EXPECT_FALSE(loss.chosenRewards.requires_grad());
}

TEST(DpoLoss, LabelSmoothingAddsExactlyEpsilonTimesBetaMargin) {
  // −(1−ε) log σ(z) − ε log σ(−z) = softplus(−z) + ε·z, since softplus(z) = softplus(−z) + z.
  PreferenceLogprobs logps = randomPreference(16, 1);
  double beta = 0.3, smoothing = 0.15;
  torch::Tensor plain = dpoLoss(logps, beta).perExample;
  torch::Tensor smoothed = dpoLoss(logps, beta, smoothing).perExample;
  torch::Tensor z =
      beta * ((logps.policyChosen - logps.referenceChosen) - (logps.policyRejected - logps.referenceRejected));
  EXPECT_TRUE(torch::allclose(smoothed, plain + smoothing * z, 1e-13, 1e-13));
}

TEST(DpoLoss, StableAtHugeMargins) {
  PreferenceLogprobs logps{f64({0, -5000}), f64({-5000, 0}), f64({0, 0}), f64({0, 0})};
  torch::Tensor loss = dpoLoss(logps, 0.5, 0.1).perExample;
  EXPECT_TRUE(torch::isfinite(loss).all().item<bool>());
  EXPECT_NEAR(value(loss[0]), 0.1 * 2500, 1e-9); // softplus(−2500) + 0.1·2500
  EXPECT_NEAR(value(loss[1]), 2500 - 0.1 * 2500, 1e-9);
}

TEST(DpoLoss, GradientMatchesClosedFormAndFiniteDifferences) {
  // At zero margin ∂ℓ/∂log π_w = −β·σ(0) = −β/2 and ∂ℓ/∂log π_l = +β/2.
  torch::Tensor chosen = f64({-2}).set_requires_grad(true), rejected = f64({-2}).set_requires_grad(true);
  dpoLoss({chosen, rejected, f64({-2}), f64({-2})}, 0.4).mean().backward();
  EXPECT_NEAR(value(chosen.grad()[0]), -0.2, 1e-15);
  EXPECT_NEAR(value(rejected.grad()[0]), 0.2, 1e-15);

  PreferenceLogprobs reference = randomPreference(6, 2);
  for (double smoothing : {0.0, 0.2})
    expectGradientMatchesFiniteDifferences(
        [&](const std::vector<torch::Tensor> &in) { return dpoLoss(fromPolicy(in, reference), 0.25, smoothing).mean(); },
        {reference.policyChosen, reference.policyRejected});
}

TEST(DpoLoss, ReferenceIsAConstant) {
  torch::Tensor referenceChosen = f64({-1}).set_requires_grad(true);
  torch::Tensor policyChosen = f64({-2}).set_requires_grad(true);
  dpoLoss({policyChosen, f64({-3}), referenceChosen, f64({-3})}, 0.1).mean().backward();
  EXPECT_TRUE(policyChosen.grad().defined());
  EXPECT_FALSE(referenceChosen.grad().defined());
}

TEST(IpoLoss, PaperFormAndTrlLengthNormalisation) {
  // h = 2, β = 0.5: (2 − 1)² = 1.
  PreferenceLogprobs logps{f64({-1}), f64({-3}), f64({-2}), f64({-2})};
  EXPECT_NEAR(value(ipoLoss(logps, 0.5).mean()), 1.0, 1e-15);
  // Log-ratios +1 over 4 tokens and −1 over 2: h̄ = 0.25 + 0.5 = 0.75; β = 0.25: (0.75 − 2)² = 1.5625.
  torch::Tensor chosenTokens = torch::tensor({4}), rejectedTokens = torch::tensor({2});
  PreferenceLoss normalised = ipoLoss(logps, 0.25, chosenTokens, rejectedTokens);
  EXPECT_NEAR(value(normalised.mean()), 1.5625, 1e-15);
  // Rewards are logged unnormalised, as TRL logs them.
  EXPECT_DOUBLE_EQ(value(normalised.chosenRewards[0]), 0.25);
  // A zero count is clamped to one (TRL: `.clamp(min=1.0)`), not a division by zero.
  EXPECT_NEAR(value(ipoLoss(logps, 0.5, torch::tensor({0}), torch::tensor({1})).mean()), 1.0, 1e-15);
}

TEST(IpoLoss, GradientMatchesFiniteDifferences) {
  PreferenceLogprobs reference = randomPreference(5, 3);
  torch::Tensor chosenTokens = torch::tensor({3, 1, 7, 12, 2}), rejectedTokens = torch::tensor({5, 2, 1, 9, 4});
  expectGradientMatchesFiniteDifferences(
      [&](const std::vector<torch::Tensor> &in) {
        return ipoLoss(fromPolicy(in, reference), 0.1, chosenTokens, rejectedTokens).mean();
      },
      {reference.policyChosen, reference.policyRejected});
}

TEST(HingeLoss, ValuesOnBothSidesOfTheKinkAndGradient) {
  // β = 0.5 and h = 2, 1, −2: max(0, 1 − βh) = 0, 0.5, 2.
  PreferenceLogprobs logps{f64({0, 0, 0}), f64({-2, -1, 2}), f64({0, 0, 0}), f64({0, 0, 0})};
  EXPECT_TRUE(torch::allclose(hingeLoss(logps, 0.5).perExample, f64({0, 0.5, 2}), 0, 1e-15));
  // Away from the kink (βh ≠ 1), the gradient is −β·[βh < 1] on the chosen side.
  PreferenceLogprobs reference{f64({0, 0}), f64({-4, -1}), f64({0, 0}), f64({0, 0})};
  expectGradientMatchesFiniteDifferences(
      [&](const std::vector<torch::Tensor> &in) { return hingeLoss(fromPolicy(in, reference), 0.5).mean(); },
      {reference.policyChosen, reference.policyRejected});
}

TEST(SimpoLoss, HandComputedValueAndGammaConvention) {
  // Δ = −1 − −2 = 1, β = 2, γ = 0.5: −log σ(2·1 − 0.5) = softplus(−1.5).
  PreferenceLoss loss = simpoLoss(f64({-1}), f64({-2}), 2.0, 0.5);
  EXPECT_NEAR(value(loss.mean()), softplus(-1.5), 1e-15);
  EXPECT_DOUBLE_EQ(value(loss.chosenRewards[0]), -2.0); // β·avg log π
  // γ is in reward units: β·Δ = γ is the zero point, whatever β is.
  EXPECT_NEAR(value(simpoLoss(f64({-1}), f64({-2}), 2.0, 2.0).mean()), kLog2, 1e-15);
  EXPECT_NEAR(value(simpoLoss(f64({-1}), f64({-2}), 0.5, 0.5).mean()), kLog2, 1e-15);
  // Label smoothing adds ε·(βΔ − γ), as for DPO.
  EXPECT_NEAR(value(simpoLoss(f64({-1}), f64({-2}), 2.0, 0.5, 0.1).mean()), softplus(-1.5) + 0.1 * 1.5, 1e-15);
}

TEST(SimpoLoss, GradientThroughTokenMeansMatchesFiniteDifferences) {
  torch::manual_seed(4);
  torch::Tensor chosen = -3 * torch::rand({3, 5}, torch::kFloat64), rejected = -3 * torch::rand({3, 5}, torch::kFloat64);
  torch::Tensor chosenMask = flags({1, 1, 1, 0, 0, 1, 0, 0, 0, 0, 1, 1, 1, 1, 1}).reshape({3, 5});
  torch::Tensor rejectedMask = flags({1, 1, 0, 0, 0, 1, 1, 1, 1, 0, 1, 0, 0, 0, 0}).reshape({3, 5});
  expectGradientMatchesFiniteDifferences(
      [&](const std::vector<torch::Tensor> &in) {
        return simpoLoss(meanTokenLogprobs(in[0], chosenMask), meanTokenLogprobs(in[1], rejectedMask), 2.5, 0.3, 0.05)
            .mean();
      },
      {chosen, rejected});
}

//===----------------------------------------------------------------------===//
// P-DPO mixing and EM-DPO weights
//===----------------------------------------------------------------------===//

TEST(MixUserGeneric, MixesMeansOfUserAndGenericRows) {
  torch::Tensor losses = f64({1, 2, 3, 4});
  torch::Tensor isUser = flags({1, 0, 1, 0});
  // 0.25·mean(1, 3) + 0.75·mean(2, 4) = 0.5 + 2.25.
  EXPECT_NEAR(value(mixUserGeneric(losses, isUser, 0.25)), 2.75, 1e-15);
  EXPECT_NEAR(value(mixUserGeneric(losses, isUser, 1.0)), 2.0, 1e-15);
  EXPECT_NEAR(value(mixUserGeneric(losses, isUser, 0.0)), 3.0, 1e-15);
  // Integer user flags (user id ≠ 0 → non-zero) select the same rows.
  EXPECT_NEAR(value(mixUserGeneric(losses, torch::tensor({7, 0, 2, 0}), 0.25)), 2.75, 1e-15);
}

TEST(MixUserGeneric, AbsentKindDropsItsTermWithoutRenormalising) {
  torch::Tensor losses = f64({1, 2, 3});
  EXPECT_NEAR(value(mixUserGeneric(losses, flags({1, 1, 1}), 0.4)), 0.4 * 2, 1e-15);
  EXPECT_NEAR(value(mixUserGeneric(losses, flags({0, 0, 0}), 0.4)), 0.6 * 2, 1e-15);
  // The vanilla-DPO baseline (α = 0) on a batch of user rows only: a zero that still backpropagates.
  torch::Tensor leaf = losses.clone().set_requires_grad(true);
  torch::Tensor zero = mixUserGeneric(leaf, flags({1, 1, 1}), 0.0);
  EXPECT_EQ(value(zero), 0.0);
  zero.backward();
  EXPECT_TRUE(torch::equal(leaf.grad(), torch::zeros({3}, torch::kFloat64)));
}

TEST(MixUserGeneric, GradientMatchesFiniteDifferences) {
  PreferenceLogprobs reference = randomPreference(6, 5);
  torch::Tensor isUser = flags({1, 0, 0, 1, 1, 0});
  expectGradientMatchesFiniteDifferences(
      [&](const std::vector<torch::Tensor> &in) {
        return mixUserGeneric(dpoLoss(fromPolicy(in, reference), 0.5).perExample, isUser, 0.7);
      },
      {reference.policyChosen, reference.policyRejected});
}

TEST(MaskedMean, IgnoresNanInUnselectedRows) {
  torch::Tensor values = f64({2, kNaN, 4}).set_requires_grad(true);
  torch::Tensor mean = maskedMean(values, flags({1, 0, 1}));
  EXPECT_DOUBLE_EQ(value(mean), 3.0);
  mean.backward();
  EXPECT_TRUE(torch::equal(values.grad(), f64({0.5, 0, 0.5})));
}

TEST(WeightedMean, IsMeanOfWeightedLossesNotNormalisedByWeightSum) {
  torch::Tensor losses = f64({1, 2, 3});
  EXPECT_NEAR(value(weightedMean(losses, f64({0.5, 0, 2}))), 6.5 / 3, 1e-15);
  EXPECT_NEAR(value(weightedMean(losses, f64({1, 1, 1}))), 2.0, 1e-15); // γ ≡ 1: plain DPO (K = 1)
  EXPECT_NEAR(value(weightedMean(losses, f64({0.5, 0.5, 0.5}))), 1.0, 1e-15); // Σw-normalised would be 2
  PreferenceLogprobs reference = randomPreference(4, 6);
  torch::Tensor weights = f64({0.9, 0.1, 0.5, 0.0});
  expectGradientMatchesFiniteDifferences(
      [&](const std::vector<torch::Tensor> &in) {
        return weightedMean(dpoLoss(fromPolicy(in, reference), 0.1).perExample, weights);
      },
      {reference.policyChosen, reference.policyRejected});
}

//===----------------------------------------------------------------------===//
// Reward-model losses
//===----------------------------------------------------------------------===//

TEST(BradleyTerryLoss, ClosedFormMarginAndGradient) {
  torch::Tensor loss = bradleyTerryLoss(f64({1, 3, -2}), f64({1, 2, 0}));
  EXPECT_TRUE(torch::allclose(loss, f64({kLog2, softplus(-1), softplus(2)}), 0, 1e-15));
  EXPECT_NEAR(value(bradleyTerryLoss(f64({3}), f64({2}), f64({1}))[0]), kLog2, 1e-15);
  torch::Tensor margin = f64({0.5, 0, 2});
  expectGradientMatchesFiniteDifferences(
      [&](const std::vector<torch::Tensor> &in) { return bradleyTerryLoss(in[0], in[1], margin).mean(); },
      {f64({0.3, -1.2, 2.0}), f64({0.1, 0.4, -3.0})});
}

TEST(RankingLoss, ReducesToBradleyTerryOnPairsInEitherOrder) {
  torch::Tensor chosen = f64({0.5, -1, 3, 0}), rejected = f64({1, -2, -1, 0});
  torch::Tensor bt = bradleyTerryLoss(chosen, rejected);
  // DSP pair items: scores normalised to ≈[1, 0], chosen first.
  torch::Tensor dspLabels = f64({0.99999, 0, 0.99999, 0, 1, 0, 1, 0}, {4, 2});
  PooledLoss ranked = rankingLoss(torch::stack({chosen, rejected}, 1), dspLabels);
  EXPECT_NEAR(value(ranked.mean()), value(bt.mean()), 1e-15);
  EXPECT_TRUE(torch::allclose(ranked.perExample(), bt, 0, 1e-15));
  EXPECT_TRUE(torch::equal(ranked.count, f64({2, 2, 2, 2}))); // each unordered pair counted once per order
  // The chosen response second: labels say which is preferred, not the position.
  PooledLoss swapped = rankingLoss(torch::stack({rejected, chosen}, 1), f64({0, 1, 0, 1, 0, 1, 0, 1}, {4, 2}));
  EXPECT_NEAR(value(swapped.mean()), value(bt.mean()), 1e-15);
}

TEST(RankingLoss, ListwiseValueTiesAndBatchPairNormalisation) {
  // Item 0: scores (0, 1, 3), labels (2, 1, 0): pairs (0,1), (0,2), (1,2) with s_better − s_worse = −1, −3, −2.
  // Item 1: a tie between responses 0 and 1; only the pairs with response 2 count.
  torch::Tensor scores = f64({0, 1, 3, 0.5, -0.5, 1}, {2, 3});
  torch::Tensor labels = f64({2, 1, 0, 1, 1, 0}, {2, 3});
  PooledLoss loss = rankingLoss(scores, labels);
  double item0 = 2 * (softplus(1) + softplus(3) + softplus(2));
  double item1 = 2 * (softplus(1 - 0.5) + softplus(1 + 0.5));
  EXPECT_TRUE(torch::equal(loss.count, f64({6, 4})));
  EXPECT_NEAR(value(loss.sum[0]), item0, 1e-14);
  EXPECT_NEAR(value(loss.sum[1]), item1, 1e-14);
  // Normalised by all ordered pairs of the batch (DSP), not a mean of per-item means.
  EXPECT_NEAR(value(loss.mean()), (item0 + item1) / 10, 1e-15);
  EXPECT_GT(std::abs(value(loss.perExample().mean()) - value(loss.mean())), 1e-3);
}

TEST(RankingLoss, PaddedResponsesAreIgnoredEvenWhenTheirScoresAreNan) {
  torch::Tensor scores = f64({2, 0.5, kNaN, 7, -1, kInf}, {2, 3}).set_requires_grad(true);
  torch::Tensor labels = f64({1, 0, -1, 0, 1, -1}, {2, 3});
  PooledLoss loss = rankingLoss(scores, labels);
  torch::Tensor bt = bradleyTerryLoss(f64({2, -1}), f64({0.5, 7}));
  EXPECT_NEAR(value(loss.mean()), value(bt.mean()), 1e-15);
  loss.mean().backward();
  EXPECT_TRUE(torch::isfinite(scores.grad()).all().item<bool>());
  EXPECT_EQ(value(scores.grad()[0][2]), 0.0);
  EXPECT_EQ(value(scores.grad()[1][2]), 0.0);
  // Nothing to rank (all ties or padding): a zero that still backpropagates, as DSP returns the zero sum.
  torch::Tensor tied = f64({1, 2}, {1, 2}).set_requires_grad(true);
  torch::Tensor zero = rankingLoss(tied, f64({0.5, 0.5}, {1, 2})).mean();
  EXPECT_EQ(value(zero), 0.0);
  zero.backward();
  EXPECT_TRUE(torch::equal(tied.grad(), torch::zeros({1, 2}, torch::kFloat64)));
}

TEST(RankingLoss, GradientMatchesFiniteDifferences) {
  torch::Tensor labels = f64({1.0, 0.0, 0.5, -1, 0.2, 0.2, 0.9, 0.1}, {2, 4});
  expectGradientMatchesFiniteDifferences(
      [&](const std::vector<torch::Tensor> &in) { return rankingLoss(in[0], labels).mean(); },
      {f64({0.3, -0.7, 1.1, 0.0, 2.0, -1.0, 0.4, 0.25}, {2, 4})});
}

TEST(PlackettLuce, HandComputedRankingAndIncompleteRanking) {
  // Ranking 0: three responses best first, rewards (2, 1, 0.5):
  //   log P = [2 − log(e² + e¹ + e^0.5)] + [1 − log(e¹ + e^0.5)] + [0.5 − log e^0.5].
  // Ranking 1: an incomplete ranking of two of the responses (the third entry is padding, NaN).
  torch::Tensor rewards = f64({2, 1, 0.5, -0.3, 0.4, kNaN}, {2, 3});
  torch::Tensor present = flags({1, 1, 1, 1, 1, 0}).view({2, 3});
  torch::Tensor ll = plackettLuceLogLikelihood(rewards, present);
  const double first = (2 - std::log(std::exp(2) + std::exp(1) + std::exp(0.5))) +
                       (1 - std::log(std::exp(1) + std::exp(0.5)));
  EXPECT_NEAR(value(ll[0]), first, 1e-14);
  EXPECT_NEAR(value(ll[1]), -softplus(0.4 - -0.3), 1e-14);
  // Probabilities of all 3! orders of one set sum to one.
  double total = 0;
  std::vector<int64_t> order{0, 1, 2};
  const std::vector<double> r{0.7, -0.2, 1.3};
  do {
    total += std::exp(value(plackettLuceLogLikelihood(f64({r[order[0]], r[order[1]], r[order[2]]}, {1, 3}),
                                                      flags({1, 1, 1}).view({1, 3}))[0]));
  } while (std::next_permutation(order.begin(), order.end()));
  EXPECT_NEAR(total, 1.0, 1e-14);
}

TEST(PlackettLuce, TwoResponsesAgreeWithThePairwiseDecompositionAndBradleyTerry) {
  torch::Tensor better = f64({0.5, -1, 3, 0}), worse = f64({1, -2, -1, 0});
  torch::Tensor rewards = torch::stack({better, worse}, 1);
  torch::Tensor present = torch::ones({4, 2}, torch::kBool);
  torch::Tensor bt = -bradleyTerryLoss(better, worse);
  EXPECT_TRUE(torch::allclose(plackettLuceLogLikelihood(rewards, present), bt, 0, 1e-15));
  EXPECT_TRUE(torch::allclose(pairwiseLogLikelihood(rewards, present), bt, 0, 1e-15));
  // Three responses: the decomposition is the three implied pairs; it differs from the exact likelihood.
  torch::Tensor three = f64({2, 1, 0.5}, {1, 3});
  torch::Tensor all = flags({1, 1, 1}).view({1, 3});
  const double pairs = -(softplus(-1) + softplus(-1.5) + softplus(-0.5));
  EXPECT_NEAR(value(pairwiseLogLikelihood(three, all)[0]), pairs, 1e-14);
  EXPECT_GT(std::abs(value(pairwiseLogLikelihood(three, all)[0]) - value(plackettLuceLogLikelihood(three, all)[0])),
            1e-3);
}

TEST(PlackettLuce, AbsentEntriesReachNeitherValueNorGradient) {
  torch::Tensor rewards = f64({1, kNaN, -0.5, kInf, 0.2, 0.1}, {2, 3}).set_requires_grad(true);
  torch::Tensor present = flags({1, 0, 1, 0, 1, 1}).view({2, 3});
  torch::Tensor pl = plackettLuceLogLikelihood(rewards, present).sum();
  torch::Tensor pw = pairwiseLogLikelihood(rewards, present).sum();
  EXPECT_NEAR(value(pl), -softplus(-1.5) - softplus(-0.1), 1e-14);
  EXPECT_NEAR(value(pw), value(pl), 1e-14); // two present entries each: both are Bradley–Terry
  (pl + pw).backward();
  EXPECT_TRUE(torch::isfinite(rewards.grad()).all().item<bool>());
  EXPECT_EQ(value(rewards.grad()[0][1]), 0.0);
  EXPECT_EQ(value(rewards.grad()[1][0]), 0.0);
}

TEST(PlackettLuce, GradientMatchesFiniteDifferences) {
  torch::Tensor present = flags({1, 1, 1, 1, 1, 1, 0, 0}).view({2, 4});
  torch::Tensor rewards = f64({0.3, -0.7, 1.1, 0.0, 2.0, -1.0, 0.4, 0.25}, {2, 4});
  expectGradientMatchesFiniteDifferences(
      [&](const std::vector<torch::Tensor> &in) { return plackettLuceLogLikelihood(in[0], present).sum(); }, {rewards});
  expectGradientMatchesFiniteDifferences(
      [&](const std::vector<torch::Tensor> &in) { return pairwiseLogLikelihood(in[0], present).sum(); }, {rewards});
}

TEST(RegressionLoss, MeanOverPresentEntriesWithNanOrMask) {
  torch::Tensor predictions = f64({1, 2, 3, 4}, {2, 2});
  // Present: (1 − 1.5)², (3 − 2)², (4 − 4)²; the NaN rating is missing.
  PooledLoss loss = regressionLoss(predictions, f64({1.5, kNaN, 2, 4}, {2, 2}));
  EXPECT_NEAR(value(loss.mean()), (0.25 + 1 + 0) / 3, 1e-15);
  EXPECT_TRUE(torch::equal(loss.count, f64({1, 2})));
  // The same rating marked missing by an explicit mask instead (its target value is then ignored).
  PooledLoss masked = regressionLoss(predictions, f64({1.5, 99, 2, 4}, {2, 2}), flags({1, 0, 1, 1}).reshape({2, 2}));
  EXPECT_NEAR(value(masked.mean()), (0.25 + 1 + 0) / 3, 1e-15);
  // Missing entries get exactly zero gradient, not NaN.
  torch::Tensor leaf = predictions.clone().set_requires_grad(true);
  regressionLoss(leaf, f64({1.5, kNaN, 2, 4}, {2, 2})).mean().backward();
  EXPECT_TRUE(torch::allclose(leaf.grad(), f64({2 * -0.5 / 3, 0, 2 * 1.0 / 3, 0}, {2, 2}), 0, 1e-15));
}

TEST(RegressionLoss, GradientMatchesFiniteDifferences) {
  torch::Tensor targets = f64({0.5, kNaN, -1, 2, 3, kNaN}, {2, 3});
  torch::Tensor present = flags({1, 1, 0, 1, 1, 1}).reshape({2, 3});
  expectGradientMatchesFiniteDifferences(
      [&](const std::vector<torch::Tensor> &in) { return regressionLoss(in[0], targets, present).mean(); },
      {f64({0.1, 0.2, 0.3, 0.4, 0.5, 0.6}, {2, 3})});
}

TEST(NllLoss, TokenMeanPooledOverTheBatch) {
  torch::Tensor logps = f64({-1, -2, kNaN, -3, -kInf, -kInf}, {2, 3});
  torch::Tensor mask = flags({1, 1, 0, 1, 0, 0}).reshape({2, 3});
  PooledLoss loss = nllLoss(logps, mask);
  EXPECT_NEAR(value(loss.mean()), (1 + 2 + 3) / 3.0, 1e-15); // not the mean of per-row means (2.25)
  EXPECT_TRUE(torch::equal(loss.perExample(), f64({1.5, 3})));
  expectGradientMatchesFiniteDifferences(
      [&](const std::vector<torch::Tensor> &in) { return nllLoss(in[0], mask).mean(); },
      {f64({-1, -2, -0.5, -3, -0.1, -0.2}, {2, 3})});
}

TEST(ImitationLoss, AveragesPerSequenceNllOverSequencesAboveThreshold) {
  // Per-sequence mean NLL: 1.5, 3, 4, 10. Scores 0.99 and 0.9 pass 0.85; 0 and the padded −1 do not.
  torch::Tensor logps = f64({-1, -2, -3, kNaN, -4, -4, -10, -10}, {4, 2});
  torch::Tensor mask = flags({1, 1, 1, 0, 1, 1, 1, 1}).reshape({4, 2});
  torch::Tensor scores = f64({0.99, 0.0, 0.9, -1});
  EXPECT_NEAR(value(imitationLoss(logps, mask, scores, 0.85)), (1.5 + 4) / 2, 1e-15);
  // Strictly above: a score equal to the threshold does not count.
  EXPECT_NEAR(value(imitationLoss(logps, mask, scores, 0.9)), 1.5, 1e-15);
  torch::Tensor finite = f64({-1, -2, -3, -0.7, -4, -4.5, -10, -10}, {4, 2});
  expectGradientMatchesFiniteDifferences(
      [&](const std::vector<torch::Tensor> &in) { return imitationLoss(in[0], mask, scores, 0.85); }, {finite});
}

TEST(ImitationLoss, NoSequenceAboveThresholdIsAZeroWithAGraph) {
  torch::Tensor logps = f64({-1, -2, -3, -4}, {2, 2}).set_requires_grad(true);
  torch::Tensor zero = imitationLoss(logps, torch::ones({2, 2}, torch::kBool), f64({0.2, -1}), 0.85);
  EXPECT_EQ(value(zero), 0.0);
  ASSERT_TRUE(zero.requires_grad());
  zero.backward();
  EXPECT_TRUE(torch::equal(logps.grad(), torch::zeros({2, 2}, torch::kFloat64)));
}

//===----------------------------------------------------------------------===//
// Rejected inputs
//===----------------------------------------------------------------------===//

TEST(LossErrors, NameTheFunctionTheArgumentAndTheShapes) {
  auto message = [](const std::function<void()> &call) {
    try {
      call();
    } catch (const Error &e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  PreferenceLogprobs ok{f64({-1, -2}), f64({-1, -2}), f64({-1, -2}), f64({-1, -2})};
  PreferenceLogprobs shortReference = ok;
  shortReference.referenceChosen = f64({-1});
  EXPECT_EQ(message([&] { dpoLoss(shortReference, 0.1); }),
            "dpoLoss: referenceChosen has shape [1] but policyChosen has [2]; they must match");
  EXPECT_EQ(message([&] { dpoLoss(ok, 0.0); }), "dpoLoss: beta must be a positive number, got 0");
  EXPECT_EQ(message([&] { dpoLoss(ok, 0.1, 0.5); }),
            "dpoLoss: labelSmoothing must lie in [0, 0.5), got 0.5");
  EXPECT_EQ(message([&] { ipoLoss(ok, 0.1, torch::tensor({1, 2})); }),
            "ipoLoss: give token counts for both chosenTokens and rejectedTokens, or for neither");
  EXPECT_EQ(message([&] { mixUserGeneric(f64({1, 2}), flags({1, 0}), 1.5); }),
            "mixUserGeneric: alpha must lie in [0, 1], got 1.5");
  EXPECT_EQ(message([&] { sequenceLogprobs(f64({1, 2}), flags({1, 1})); }),
            "sequenceLogprobs: tokenLogps has shape [2], expected 2 dimensions");
  EXPECT_EQ(message([&] { rankingLoss(f64({1, 2}, {1, 2}), f64({1, 0, 1}, {1, 3})); }),
            "rankingLoss: labels has shape [1, 3] but scores has [1, 2]; they must match");
  EXPECT_EQ(message([&] { bradleyTerryLoss(torch::tensor({1, 2}), torch::tensor({0, 1})); }),
            "bradleyTerryLoss: chosenRewards must be floating point, got Long");
  EXPECT_EQ(message([&] { imitationLoss(f64({-1, -2}, {1, 2}), flags({1, 1}).reshape({1, 2}), f64({1, 0}), 0.5); }),
            "imitationLoss: normalizedScores has shape [2] but tokenLogps has [1, 2]; one score per sequence");
  EXPECT_EQ(message([&] { weightedMean(f64({1, 2}), torch::Tensor()); }),
            "weightedMean: weights is missing (an undefined tensor)");
}

//===----------------------------------------------------------------------===//
// The TRL peer: inputs from tests/reference/test_losses_trl_peer.py, our numbers back to it
//===----------------------------------------------------------------------===//

namespace {

torch::Tensor tensorFromJson(const Json &json) {
  if (!json.is_array() || json.empty() || !json[0].is_array())
    return f64(json.get<std::vector<double>>());
  std::vector<double> flat;
  for (const Json &row : json)
    for (const Json &x : row)
      flat.push_back(x.get<double>());
  return f64(flat, {static_cast<int64_t>(json.size()), static_cast<int64_t>(json[0].size())});
}

Json tensorToJson(const torch::Tensor &t) {
  torch::Tensor c = t.detach().to(torch::kFloat64).contiguous();
  if (c.dim() == 0)
    return c.item<double>();
  if (c.dim() == 1)
    return std::vector<double>(c.data_ptr<double>(), c.data_ptr<double>() + c.numel());
  Json rows = Json::array();
  for (int64_t i = 0; i < c.size(0); ++i)
    rows.push_back(tensorToJson(c[i]));
  return rows;
}

} // namespace

/// Reads ALIGN_LOSS_INPUT (token log-probs and masks of chosen/rejected completions, reference sequence
/// log-probs, reward-model scores, and a list of loss configurations) and writes ALIGN_LOSS_OUTPUT: for
/// each configuration the per-example losses, their mean, the logged reward statistics, and the gradient of
/// the mean w.r.t. the policy's token log-probs (or the rewards, for BT). The comparison is in Python.
TEST(LossesPeer, ComputesLossesForTrl) {
  const char *inputPath = std::getenv("ALIGN_LOSS_INPUT");
  const char *outputPath = std::getenv("ALIGN_LOSS_OUTPUT");
  if (!inputPath || !outputPath)
    GTEST_SKIP() << "ALIGN_LOSS_INPUT/ALIGN_LOSS_OUTPUT are not set (tests/reference/test_losses_trl_peer.py sets them)";
  std::ifstream in(inputPath);
  ASSERT_TRUE(in) << inputPath;
  Json input = Json::parse(in);

  torch::Tensor chosenMask = tensorFromJson(input["chosen_mask"]) != 0;
  torch::Tensor rejectedMask = tensorFromJson(input["rejected_mask"]) != 0;
  Json output = Json::object();
  for (const Json &config : input["configs"]) {
    std::string name = config["name"].get<std::string>(), loss = config["loss"].get<std::string>();
    Json result;
    if (loss == "bt") {
      torch::Tensor chosen = tensorFromJson(input["rewards_chosen"]).set_requires_grad(true);
      torch::Tensor rejected = tensorFromJson(input["rewards_rejected"]).set_requires_grad(true);
      torch::Tensor margin = config.value("margin", false) ? tensorFromJson(input["margin"]) : torch::Tensor();
      torch::Tensor perExample = bradleyTerryLoss(chosen, rejected, margin);
      perExample.mean().backward();
      result = {{"per_example", tensorToJson(perExample)}, {"mean", tensorToJson(perExample.mean())},
                {"grad_chosen", tensorToJson(chosen.grad())}, {"grad_rejected", tensorToJson(rejected.grad())}};
      output[name] = result;
      continue;
    }
    torch::Tensor chosenTokens = tensorFromJson(input["policy_chosen_token_logps"]).set_requires_grad(true);
    torch::Tensor rejectedTokens = tensorFromJson(input["policy_rejected_token_logps"]).set_requires_grad(true);
    double beta = config["beta"].get<double>();
    double smoothing = config.value("label_smoothing", 0.0);
    PreferenceLoss computed;
    if (loss == "simpo") {
      computed = simpoLoss(meanTokenLogprobs(chosenTokens, chosenMask), meanTokenLogprobs(rejectedTokens, rejectedMask),
                           beta, config["gamma"].get<double>(), smoothing);
    } else {
      PreferenceLogprobs logps{sequenceLogprobs(chosenTokens, chosenMask),
                               sequenceLogprobs(rejectedTokens, rejectedMask),
                               tensorFromJson(input["reference_chosen_logps"]),
                               tensorFromJson(input["reference_rejected_logps"])};
      if (loss == "dpo")
        computed = dpoLoss(logps, beta, smoothing);
      else if (loss == "ipo")
        computed = ipoLoss(logps, beta, tokenCounts(chosenMask, chosenTokens),
                           tokenCounts(rejectedMask, rejectedTokens));
      else if (loss == "hinge")
        computed = hingeLoss(logps, beta);
      else
        FAIL() << "unknown loss '" << loss << "' in " << inputPath;
    }
    computed.mean().backward();
    result = {{"per_example", tensorToJson(computed.perExample)},
              {"mean", tensorToJson(computed.mean())},
              {"rewards_chosen", tensorToJson(computed.chosenRewards.mean())},
              {"rewards_rejected", tensorToJson(computed.rejectedRewards.mean())},
              {"rewards_accuracy", tensorToJson(computed.rewardAccuracy())},
              {"grad_chosen", tensorToJson(chosenTokens.grad())},
              {"grad_rejected", tensorToJson(rejectedTokens.grad())}};
    output[name] = result;
  }
  std::ofstream out(outputPath);
  ASSERT_TRUE(out) << outputPath;
  out << output.dump(1);
  ASSERT_TRUE(out.good()) << outputPath;
}
