//===- PackedDecodingTest.cpp - Decoding without the padding equals decoding with it ===//
//
// CausalLMImpl::hidden with `lengths` runs every projection on the real tokens only and attends per row
// (model/Llama.h, PackedTokens). At the real positions it must give the padded pass's hidden states, and the
// same gradients for every parameter and for P-RLHF's soft tokens, to float32 rounding (1e-5).
//
//===----------------------------------------------------------------------===//

#include "TestModels.h"
#include "align/rt/Error.h"
#include "model/Llama.h"

#include <gtest/gtest.h>

using namespace align::rt;
using align::rt::testing::randomModel;
using align::rt::testing::tinyConfig;

namespace {

/// Right-padded ids [rows, length] with `lengths` real tokens; the padding is id 0.
torch::Tensor paddedIds(const std::vector<int64_t> &lengths, int64_t length, int64_t vocab) {
  torch::Tensor ids = torch::randint(1, vocab, {static_cast<int64_t>(lengths.size()), length}, torch::kInt64);
  for (size_t row = 0; row < lengths.size(); ++row)
    ids[static_cast<int64_t>(row)].slice(0, lengths[row]).fill_(0);
  return ids;
}

torch::Tensor realMask(const std::vector<int64_t> &lengths, int64_t length) {
  torch::Tensor positions = torch::arange(length).unsqueeze(0);
  return positions < torch::tensor(lengths, torch::kInt64).unsqueeze(1); // [rows, length]
}

/// Σ over real positions of hidden · probe, so every real state's gradient is the probe's.
torch::Tensor probeLoss(const torch::Tensor &hidden, const torch::Tensor &mask, const torch::Tensor &probe) {
  return (hidden * probe * mask.unsqueeze(-1).to(hidden.dtype())).sum();
}

std::map<std::string, torch::Tensor> gradientsOf(CausalLM &model) {
  std::map<std::string, torch::Tensor> grads;
  for (auto &item : model->named_parameters())
    grads[item.key()] = item.value().grad().defined() ? item.value().grad().clone() : torch::zeros_like(item.value());
  return grads;
}

void expectClose(const torch::Tensor &a, const torch::Tensor &b, const std::string &what) {
  const double scale = std::max(1.0, b.abs().max().item<double>());
  EXPECT_LE((a - b).abs().max().item<double>(), 1e-5 * scale) << what;
}

} // namespace

TEST(PackedDecoding, EqualsThePaddedPassInValuesAndGradients) {
  torch::manual_seed(3);
  const std::vector<int64_t> lengths = {12, 5, 9, 1};
  const int64_t length = 12;
  torch::Tensor ids = paddedIds(lengths, length, 97), mask = realMask(lengths, length);
  torch::Tensor lens = torch::tensor(lengths, torch::kInt64);
  ASSERT_TRUE(worthPacking(lens, length));

  CausalLM padded = randomModel(tinyConfig(/*kvHeads=*/2), 5), packed = randomModel(tinyConfig(2), 5);
  torch::Tensor probe = torch::randn({4, length, padded->config.hiddenSize});
  torch::Tensor a = padded->hidden(ids);
  torch::Tensor b = packed->hidden(ids, {}, lens);
  ASSERT_EQ(a.sizes(), b.sizes());
  expectClose(b.masked_select(mask.unsqueeze(-1)), a.masked_select(mask.unsqueeze(-1)), "hidden states");
  EXPECT_EQ(b.masked_select(mask.logical_not().unsqueeze(-1)).abs().max().item<double>(), 0.0) << "padding is zero";

  probeLoss(a, mask, probe).backward();
  probeLoss(b, mask, probe).backward();
  auto ga = gradientsOf(padded), gb = gradientsOf(packed);
  for (auto &[name, grad] : ga)
    expectClose(gb[name], grad, "gradient of " + name);
}

TEST(PackedDecoding, SoftTokensGetTheSameGradients) {
  torch::manual_seed(4);
  const std::vector<int64_t> lengths = {3, 10, 6};
  const int64_t length = 10;
  torch::Tensor ids = paddedIds(lengths, length, 97), mask = realMask(lengths, length);
  CausalLM model = randomModel(tinyConfig(4), 6);
  torch::Tensor probe = torch::randn({3, length, model->config.hiddenSize});
  torch::Tensor base = torch::randn({3, 2, model->config.hiddenSize});
  torch::Tensor softA = base.clone().requires_grad_(true), softB = base.clone().requires_grad_(true);
  torch::Tensor a = model->hidden(ids, softA);
  torch::Tensor b = model->hidden(ids, softB, torch::tensor(lengths, torch::kInt64));
  expectClose(b.masked_select(mask.unsqueeze(-1)), a.masked_select(mask.unsqueeze(-1)), "hidden states");
  probeLoss(a, mask, probe).backward();
  probeLoss(b, mask, probe).backward();
  expectClose(softB.grad(), softA.grad(), "soft-token gradient");
}

TEST(PackedDecoding, FullRowsAreNotWorthPacking) {
  EXPECT_FALSE(worthPacking(torch::tensor({8, 8, 8}, torch::kInt64), 8));
  EXPECT_FALSE(worthPacking(torch::tensor({8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 7}, torch::kInt64), 8));
  EXPECT_TRUE(worthPacking(torch::tensor({8, 4}, torch::kInt64), 8));
}

TEST(PackedDecoding, LayoutListsRealTokensRowAfterRow) {
  PackedTokens p = packTokens(torch::tensor({2, 0, 3}, torch::kInt64), 4);
  EXPECT_TRUE(torch::equal(p.index, torch::tensor({0, 1, 8, 9, 10}, torch::kInt64)));
  EXPECT_TRUE(torch::equal(p.positions, torch::tensor({0, 1, 0, 1, 2}, torch::kInt64)));
  EXPECT_THROW(packTokens(torch::tensor({5}, torch::kInt64), 4), Error);
}
