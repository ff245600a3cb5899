//===- PackedDecodingTest.cpp - Decoding without the padding equals decoding with it ===//
//
// CausalLMImpl::hidden with a row layout runs every projection on the real tokens only, attends per row, and
// decodes the prefix a group of rows shares once (model/PackedLayout.h). At the real positions it must give the
// padded pass's hidden states, and the same gradients for every parameter and for P-RLHF's soft tokens, to
// float32 rounding (1e-5).
//
//===----------------------------------------------------------------------===//

#include "TestModels.h"
#include "align/rt/Error.h"
#include "model/Llama.h"
#include "model/RewardModel.h"

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

void expectClose(const torch::Tensor &a, const torch::Tensor &b, const std::string &what, double tolerance = 1e-5) {
  const double scale = std::max(1.0, b.abs().max().item<double>());
  EXPECT_LE((a - b).abs().max().item<double>(), tolerance * scale) << what;
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

namespace {

/// Rows whose groups begin alike: group g's rows share their first prefixes[g] ids, then differ.
torch::Tensor groupedIds(const std::vector<int64_t> &lengths, const std::vector<int64_t> &groups,
                         const std::vector<int64_t> &prefixes, int64_t length, int64_t vocab) {
  torch::Tensor ids = paddedIds(lengths, length, vocab);
  for (size_t g = 0, first = 0; g < groups.size(); first += static_cast<size_t>(groups[g]), ++g)
    for (int64_t k = 1; k < groups[g]; ++k) {
      const int64_t row = static_cast<int64_t>(first) + k;
      ids[row].slice(0, 0, prefixes[g]).copy_(ids[static_cast<int64_t>(first)].slice(0, 0, prefixes[g]));
      ids[row][prefixes[g]] = (ids[static_cast<int64_t>(first)][prefixes[g]].item<int64_t>() % (vocab - 1)) + 1;
    }
  return ids;
}

std::vector<std::vector<int64_t>> rowsOf(const torch::Tensor &ids, const std::vector<int64_t> &lengths) {
  std::vector<std::vector<int64_t>> rows;
  for (size_t r = 0; r < lengths.size(); ++r) {
    torch::Tensor row = ids[static_cast<int64_t>(r)].slice(0, 0, lengths[r]).contiguous();
    rows.emplace_back(row.data_ptr<int64_t>(), row.data_ptr<int64_t>() + lengths[r]);
  }
  return rows;
}

RowLayout sharedLayout(const torch::Tensor &ids, const std::vector<int64_t> &lengths, const std::vector<int64_t> &groups) {
  const std::vector<std::vector<int64_t>> rows = rowsOf(ids, lengths);
  std::vector<const std::vector<int64_t> *> sequences;
  for (const auto &row : rows)
    sequences.push_back(&row);
  RowLayout layout(torch::tensor(lengths, torch::kInt64));
  layout.groupSizes = groups;
  layout.sharedPrefixes = commonPrefixes(sequences, groups);
  return layout;
}

} // namespace

TEST(SharedPrefix, CommonPrefixesPerGroup) {
  const std::vector<int64_t> a = {1, 5, 6, 7}, b = {1, 5, 6, 9, 9}, c = {1, 5, 2}, d = {4}, e = {1, 5, 6};
  EXPECT_EQ(commonPrefixes({&a, &b, &c, &d}, {3, 1}), (std::vector<int64_t>{2, 0}));
  EXPECT_EQ(commonPrefixes({&a, &b}, {2}), (std::vector<int64_t>{3}));
  EXPECT_EQ(commonPrefixes({&a, &e}, {2}), (std::vector<int64_t>{3})) << "one sequence may be the other's prefix";
  EXPECT_THROW(commonPrefixes({&a}, {2}), Error);
}

TEST(SharedPrefix, LayoutDecodesThePrefixOnceAndMasksTheOtherRow) {
  // One group of two rows of 4 and 3 tokens sharing 2: attention row = p0 p1 a2 a3 b2.
  RowLayout layout(torch::tensor({4, 3}, torch::kInt64));
  layout.groupSizes = {2};
  layout.sharedPrefixes = {2};
  EXPECT_EQ(layout.sharedTokens(), 2);
  PackedTokens p = packTokens(layout, 4);
  EXPECT_TRUE(torch::equal(p.index, torch::tensor({0, 1, 2, 3, 6}, torch::kInt64)));
  EXPECT_TRUE(torch::equal(p.positions, torch::tensor({0, 1, 2, 3, 2}, torch::kInt64)));
  EXPECT_EQ(p.attentionRows, 1);
  EXPECT_EQ(p.attentionLength, 5);
  EXPECT_TRUE(torch::equal(p.outputIndex, torch::tensor({0, 1, 2, 3, 4, 5, 6}, torch::kInt64)));
  EXPECT_TRUE(torch::equal(p.outputSource, torch::tensor({0, 1, 2, 3, 0, 1, 4}, torch::kInt64)));
  torch::Tensor expected = torch::tensor({1, 0, 0, 0, 0, //
                                          1, 1, 0, 0, 0, //
                                          1, 1, 1, 0, 0, //
                                          1, 1, 1, 1, 0, //
                                          1, 1, 0, 0, 1}, torch::kBool).view({1, 1, 5, 5});
  EXPECT_TRUE(torch::equal(p.mask, expected)) << p.mask;
  // Soft tokens after BOS lengthen every row and every prefix that covers BOS.
  RowLayout shifted = layout.shifted(3);
  EXPECT_EQ(shifted.sharedPrefixes, (std::vector<int64_t>{5}));
  EXPECT_TRUE(torch::equal(shifted.lengths, torch::tensor({7, 6}, torch::kInt64)));
  layout.sharedPrefixes = {5};
  EXPECT_THROW(packTokens(layout, 4), Error) << "a prefix longer than a row";
}

TEST(SharedPrefix, EqualsThePaddedPassInValuesAndGradients) {
  torch::manual_seed(7);
  // A pair, a ranking of three (one response is the prefix itself), a single row.
  const std::vector<int64_t> lengths = {14, 9, 11, 6, 13, 8}, groups = {2, 3, 1}, prefixes = {5, 6, 0};
  const int64_t length = 14;
  torch::Tensor ids = groupedIds(lengths, groups, prefixes, length, 97), mask = realMask(lengths, length);
  RowLayout layout = sharedLayout(ids, lengths, groups);
  EXPECT_EQ(layout.sharedPrefixes, (std::vector<int64_t>{5, 6, 0}));
  EXPECT_EQ(layout.sharedTokens(), 5 + 2 * 6);

  // In float32 the two passes add in different orders (the attention rows differ), which the 10× weights turn
  // into gradients of ~1e4 with rounding differences of ~1.3e-5 of that; in float64 (RMSNorm still rounds
  // through float32, as Hugging Face's does) they agree to ~1e-7.
  for (torch::ScalarType dtype : {torch::kFloat32, torch::kFloat64}) {
    const double tolerance = dtype == torch::kFloat64 ? 1e-6 : 1e-5;
    CausalLM padded = randomModel(tinyConfig(/*kvHeads=*/2), 8), shared = randomModel(tinyConfig(2), 8);
    padded->to(dtype);
    shared->to(dtype);
    torch::Tensor probe = torch::randn({6, length, padded->config.hiddenSize}, dtype);
    torch::Tensor a = padded->hidden(ids);
    torch::Tensor b = shared->hidden(ids, {}, layout);
    ASSERT_EQ(a.sizes(), b.sizes());
    expectClose(b.masked_select(mask.unsqueeze(-1)), a.masked_select(mask.unsqueeze(-1)), "hidden states", tolerance);
    EXPECT_EQ(b.masked_select(mask.logical_not().unsqueeze(-1)).abs().max().item<double>(), 0.0) << "padding is zero";
    if (dtype == torch::kFloat32)
      continue;
    probeLoss(a, mask, probe).backward();
    probeLoss(b, mask, probe).backward();
    auto ga = gradientsOf(padded), gb = gradientsOf(shared);
    for (auto &[name, grad] : ga)
      expectClose(gb[name], grad, "gradient of " + name, tolerance);
  }
}

TEST(SharedPrefix, UserTokensOfAGroupGetTheSameGradient) {
  torch::manual_seed(9);
  const std::vector<int64_t> lengths = {10, 7, 9, 9}, groups = {2, 2}, prefixes = {4, 3};
  const int64_t length = 10;
  torch::Tensor ids = groupedIds(lengths, groups, prefixes, length, 97), mask = realMask(lengths, length);
  CausalLM model = randomModel(tinyConfig(4), 10);
  const int64_t hidden = model->config.hiddenSize;
  torch::Tensor probe = torch::randn({4, length, hidden});
  torch::Tensor table = torch::randn({2, 2, hidden});
  torch::Tensor users = torch::tensor({0, 0, 1, 1}, torch::kInt64); // a group is one example: one user
  torch::Tensor tableA = table.clone().requires_grad_(true), tableB = table.clone().requires_grad_(true);
  torch::Tensor a = model->hidden(ids, tableA.index_select(0, users));
  torch::Tensor b = model->hidden(ids, tableB.index_select(0, users), sharedLayout(ids, lengths, groups));
  expectClose(b.masked_select(mask.unsqueeze(-1)), a.masked_select(mask.unsqueeze(-1)), "hidden states");
  probeLoss(a, mask, probe).backward();
  probeLoss(b, mask, probe).backward();
  expectClose(tableB.grad(), tableA.grad(), "user-table gradient");
}

TEST(SharedPrefix, RewardModelScoresAsUnshared) {
  torch::manual_seed(11);
  const std::vector<int64_t> lengths = {12, 8, 10, 12}, groups = {2, 2}, prefixes = {6, 7};
  const int64_t length = 12;
  torch::Tensor ids = groupedIds(lengths, groups, prefixes, length, 97), mask = realMask(lengths, length);
  RewardModel rm(tinyConfig(2), /*outputs=*/2, Pooling::last);
  torch::Tensor a = rm->rewardsOf(rm->hidden(ids), mask);
  torch::Tensor b = rm->rewardsOf(rm->hidden(ids, {}, sharedLayout(ids, lengths, groups)), mask);
  expectClose(b, a, "rewards");
}
