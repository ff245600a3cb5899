//===- FusedAdamWTest.cpp - The fused AdamW step equals LibTorch's AdamW ---===//
//
// train/FusedAdamW.h replaces AdamW's per-tensor update by ATen's fused kernel. Same update rule, so the
// parameters after several steps (two groups at different learning rates and weight decays, a parameter
// that misses its gradient on some steps) must equal torch::optim::AdamW's to float32 rounding, and the
// state one saves must continue in the other.
//
//===----------------------------------------------------------------------===//

#include "train/FusedAdamW.h"

#include <gtest/gtest.h>

#include <sstream>

using namespace align::rt;

namespace {

std::vector<torch::Tensor> freshParameters() {
  torch::manual_seed(11);
  return {torch::randn({7, 5}).requires_grad_(), torch::randn({13}).requires_grad_(),
          torch::randn({3, 4, 2}).requires_grad_()};
}

std::vector<torch::optim::OptimizerParamGroup> groupsOf(const std::vector<torch::Tensor> &p) {
  std::vector<torch::optim::OptimizerParamGroup> groups;
  groups.emplace_back(std::vector<torch::Tensor>{p[0], p[1]},
                      std::make_unique<torch::optim::AdamWOptions>(
                          torch::optim::AdamWOptions(1e-2).betas({0.9, 0.95}).eps(1e-8).weight_decay(0.1)));
  groups.emplace_back(std::vector<torch::Tensor>{p[2]},
                      std::make_unique<torch::optim::AdamWOptions>(
                          torch::optim::AdamWOptions(3e-3).betas({0.8, 0.999}).eps(1e-6).weight_decay(0.0)));
  return groups;
}

/// Gradients for step `k`: the same for both optimizers; the second parameter gets none on odd steps.
void setGradients(const std::vector<torch::Tensor> &p, int k) {
  torch::manual_seed(100 + k);
  for (size_t i = 0; i < p.size(); ++i) {
    torch::Tensor g = torch::randn(p[i].sizes());
    p[i].mutable_grad() = (i == 1 && k % 2 == 1) ? torch::Tensor() : g;
  }
}

void expectSame(const std::vector<torch::Tensor> &a, const std::vector<torch::Tensor> &b) {
  for (size_t i = 0; i < a.size(); ++i)
    EXPECT_TRUE(torch::allclose(a[i], b[i], 1e-6, 1e-6)) << "parameter " << i << " differs by "
                                                         << (a[i] - b[i]).abs().max().item<double>();
}

} // namespace

TEST(FusedAdamW, EqualsLibTorchsAdamW) {
  std::vector<torch::Tensor> a = freshParameters(), b = freshParameters();
  torch::optim::AdamW reference(groupsOf(a));
  FusedAdamW fused(groupsOf(b));
  for (int k = 0; k < 6; ++k) {
    setGradients(a, k);
    setGradients(b, k);
    reference.step();
    fused.step();
  }
  expectSame(b, a);
  // The parameter moved (the test is not comparing two untouched tensors).
  EXPECT_FALSE(torch::allclose(a[0], freshParameters()[0]));
}

TEST(FusedAdamW, StateContinuesInAdamW) {
  std::vector<torch::Tensor> a = freshParameters(), b = freshParameters();
  torch::optim::AdamW reference(groupsOf(a));
  FusedAdamW fused(groupsOf(b));
  for (int k = 0; k < 3; ++k) {
    setGradients(a, k);
    setGradients(b, k);
    reference.step();
    fused.step();
  }
  // Save the fused optimizer's state and continue with a plain AdamW loaded from it.
  std::ostringstream bytes;
  {
    torch::serialize::OutputArchive archive;
    fused.save(archive);
    archive.save_to(bytes);
  }
  torch::optim::AdamW resumed(groupsOf(b));
  {
    std::istringstream in(bytes.str());
    torch::serialize::InputArchive archive;
    archive.load_from(in);
    resumed.load(archive);
  }
  for (int k = 3; k < 6; ++k) {
    setGradients(a, k);
    setGradients(b, k);
    reference.step();
    resumed.step();
  }
  expectSame(b, a);
}
