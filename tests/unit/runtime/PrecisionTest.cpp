//===- PrecisionTest.cpp - What `precision` means, and bf16 training against float32 ===//
//
// train/Precision.h decides `auto` per device and applies bf16 as autocast over float32 master weights.
// bf16 cannot equal float32, so it is held to bf16 tolerances: a forward's log-probs within a few hundredths
// of a nat, a DPO stage that starts at exactly ln 2 (policy = reference, both scored in bf16) and whose
// three-step update points where float32's does.
//
//===----------------------------------------------------------------------===//

#include "TestModels.h"
#include "TestStages.h"
#include "align/rt/Error.h"
#include "support/Files.h"
#include "train/Metrics.h"
#include "train/Precision.h"
#include "train/StageRunner.h"

#include <ATen/autocast_mode.h>
#include <gtest/gtest.h>

#include <cmath>

using namespace align::rt;
using namespace align::rt::testing;

TEST(Precision, AutoFollowsTheDevice) {
  EXPECT_FALSE(choosePrecision(Precision::fp32, torch::Device(torch::kCUDA)).bf16);
  EXPECT_TRUE(choosePrecision(Precision::bf16, torch::Device(torch::kCPU)).bf16);
  EXPECT_TRUE(choosePrecision(Precision::automatic, torch::Device(torch::kCUDA)).bf16);
  PrecisionChoice cpu = choosePrecision(Precision::automatic, torch::Device(torch::kCPU));
  EXPECT_EQ(cpu.bf16, cpuHasNativeBf16());
  EXPECT_NE(cpu.reason.find("auto"), std::string::npos) << cpu.reason;
  EXPECT_THROW(choosePrecision(Precision::fp16, torch::Device(torch::kCPU)), Error);
}

TEST(Precision, ScopesNestAndRestore) {
  const torch::Device cpu(torch::kCPU);
  ASSERT_FALSE(at::autocast::is_autocast_enabled(at::kCPU));
  {
    PrecisionScope outer(Precision::bf16, cpu);
    EXPECT_TRUE(at::autocast::is_autocast_enabled(at::kCPU));
    { PrecisionScope inner(Precision::bf16, cpu); }
    EXPECT_TRUE(at::autocast::is_autocast_enabled(at::kCPU)) << "the inner scope switched the outer one off";
    { PrecisionScope plain(Precision::fp32, cpu); }
    EXPECT_TRUE(at::autocast::is_autocast_enabled(at::kCPU));
  }
  EXPECT_FALSE(at::autocast::is_autocast_enabled(at::kCPU));
}

TEST(Precision, Bf16LogprobsAreCloseToFloat32) {
  CausalLM model = randomModel(tinyConfig(), 9);
  torch::NoGradGuard noGrad;
  torch::manual_seed(2);
  torch::Tensor ids = torch::randint(0, 97, {3, 20}, torch::kInt64);
  torch::Tensor exact = tokenLogprobs(model, ids), bf16;
  {
    PrecisionScope scope(Precision::bf16, torch::Device(torch::kCPU));
    bf16 = tokenLogprobs(model, ids).to(torch::kFloat32);
  }
  const double typical = exact.abs().mean().item<double>();
  EXPECT_LT((bf16 - exact).abs().mean().item<double>(), 0.02 * typical);
  EXPECT_GT((bf16 - exact).abs().max().item<double>(), 0.0) << "bf16 was not applied";
}

namespace {

std::vector<torch::Tensor> snapshot(CausalLM &model) {
  std::vector<torch::Tensor> out;
  for (const auto &p : model->parameters())
    out.push_back(p.detach().clone());
  return out;
}

} // namespace

TEST(Precision, Bf16DpoStartsAtLn2AndUpdatesLikeFloat32) {
  Fixture f;
  std::vector<torch::Tensor> updates;
  for (Precision precision : {Precision::fp32, Precision::bf16}) {
    StageInputs in = f.dpoStage("bf16");
    in.schedule.precision = precision;
    in.schedule.steps = 3;
    std::vector<torch::Tensor> before = snapshot(in.policy);
    RunOptions options;
    options.outDir = joinPath(::testing::TempDir(), std::string("align-precision-") + spelling(precision));
    removeTree(options.outDir);
    MetricsLog metrics(options.outDir);
    runStage(in, options, metrics);
    const auto first = metrics.records().front();
    EXPECT_NEAR(first.values.at("loss"), std::log(2.0), 1e-6) << spelling(precision);
    std::vector<torch::Tensor> after = snapshot(in.policy), delta;
    for (size_t i = 0; i < after.size(); ++i)
      delta.push_back((after[i] - before[i]).flatten());
    updates.push_back(torch::cat(delta));
  }
  const double moved = updates[0].norm().item<double>();
  ASSERT_GT(moved, 0.0);
  EXPECT_LT((updates[1] - updates[0]).norm().item<double>(), 0.25 * moved);
}
