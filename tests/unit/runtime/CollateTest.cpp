//===- CollateTest.cpp - Truncation, padding, masks and batch order -------===//
//
// On the byte tokenizer (ids = bytes, BOS 256, EOS 257, PAD 258) every expected id list can be written by
// hand: TRL's truncation (prompt first, to maxPromptLength, from the chosen end; then the response's end),
// the shared prompt cut of a pair, padding and the response/target masks, and the batch order's coverage,
// determinism and length bucketing.
//
//===----------------------------------------------------------------------===//

#include "data/Collate.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <set>

using namespace align::rt;
using namespace align::rt::data;
using Ids = std::vector<int64_t>;

namespace {

constexpr int64_t BOS = 256, EOS = 257, PAD = 258;

const Tokenizer &bytes() {
  static std::unique_ptr<Tokenizer> tokenizer = makeByteTokenizer();
  return *tokenizer;
}

Ids ascii(const std::string &text) { return Ids(text.begin(), text.end()); }

Ids concat(std::initializer_list<Ids> parts) {
  Ids out;
  for (const Ids &p : parts)
    out.insert(out.end(), p.begin(), p.end());
  return out;
}

/// The byte tokenizer without special tokens, as some HF tokenizers are (no BOS, no PAD).
class PlainBytes : public Tokenizer {
public:
  std::vector<int64_t> encode(const std::string &text, bool) const override { return ascii(text); }
  std::string decode(const std::vector<int64_t> &ids, bool) const override { return std::string(ids.begin(), ids.end()); }
  int64_t vocabSize() const override { return 256; }
  std::optional<int64_t> bosId() const override { return std::nullopt; }
  std::optional<int64_t> eosId() const override { return std::nullopt; }
  std::optional<int64_t> padId() const override { return std::nullopt; }
  std::optional<int64_t> tokenId(const std::string &) const override { return std::nullopt; }
};

TokenizeOptions limits(int64_t maxLength, int64_t maxPromptLength, bool truncateLeft = true) {
  TokenizeOptions o;
  o.maxLength = maxLength;
  o.maxPromptLength = maxPromptLength;
  o.truncateLeft = truncateLeft;
  return o;
}

} // namespace

TEST(Tokenize, BosPromptResponseEos) {
  TokenizedText t = tokenizePromptResponse(bytes(), "Q:", "ok", limits(64, 32));
  EXPECT_EQ(t.ids, concat({{BOS}, ascii("Q:"), ascii("ok"), {EOS}}));
  EXPECT_EQ(t.promptLength, 3);
  EXPECT_FALSE(t.truncated);
  TokenizeOptions none = limits(64, 32);
  none.addBos = false;
  none.addEos = false;
  TokenizedText bare = tokenizePromptResponse(bytes(), "Q:", "ok", none);
  EXPECT_EQ(bare.ids, ascii("Q:ok"));
  EXPECT_EQ(bare.promptLength, 2);
  // A tokenizer without BOS/EOS gets none, whatever the options say.
  EXPECT_EQ(tokenizePromptResponse(PlainBytes(), "Q:", "ok", limits(64, 32)).ids, ascii("Q:ok"));
}

TEST(Tokenize, PromptKeepsItsEndWhenTruncatingLeft) {
  // 1 + 10 + 3 + 1 = 15 > 8: the prompt goes to 4 tokens (BOS + its last 3), then 4 + 4 = 8 fits.
  TokenizedText t = tokenizePromptResponse(bytes(), "abcdefghij", "XYZ", limits(8, 4));
  EXPECT_EQ(t.ids, concat({{BOS}, ascii("hij"), ascii("XYZ"), {EOS}}));
  EXPECT_EQ(t.promptLength, 4);
  EXPECT_TRUE(t.truncated);
}

TEST(Tokenize, PromptKeepsItsStartWhenTruncatingRight) {
  TokenizedText t = tokenizePromptResponse(bytes(), "abcdefghij", "XYZ", limits(8, 4, /*truncateLeft=*/false));
  EXPECT_EQ(t.ids, concat({{BOS}, ascii("abc"), ascii("XYZ"), {EOS}}));
  EXPECT_EQ(t.promptLength, 4);
}

TEST(Tokenize, ResponseEndIsCutAfterThePrompt) {
  // Prompt cut to BOS + "ij" (3), then the response (10 + EOS) to the 5 tokens left: EOS goes first.
  TokenizedText t = tokenizePromptResponse(bytes(), "abcdefghij", "0123456789", limits(8, 3));
  EXPECT_EQ(t.ids, concat({{BOS}, ascii("ij"), ascii("01234")}));
  EXPECT_EQ(t.promptLength, 3);
  EXPECT_TRUE(t.truncated);
  // A short prompt is left alone; only the response is cut.
  TokenizedText shortPrompt = tokenizePromptResponse(bytes(), "ab", "0123456789", limits(8, 4));
  EXPECT_EQ(shortPrompt.ids, concat({{BOS}, ascii("ab"), ascii("01234")}));
  // A text that fits is never cut, even with a prompt longer than maxPromptLength.
  TokenizedText fits = tokenizePromptResponse(bytes(), "abcdefghij", "X", limits(13, 2));
  EXPECT_EQ(fits.ids, concat({{BOS}, ascii("abcdefghij"), ascii("X"), {EOS}}));
  EXPECT_FALSE(fits.truncated);
}

TEST(Tokenize, PairSharesOnePromptCut) {
  // The chosen response alone would fit with the whole prompt (1 + 6 + 1 + 1 = 9 ≤ 10); the rejected one
  // does not, so the prompt is cut for both.
  auto pair = tokenizePromptResponses(bytes(), "abcdef", {"X", "0123456"}, limits(10, 3));
  ASSERT_EQ(pair.size(), 2u);
  EXPECT_EQ(pair[0].ids, concat({{BOS}, ascii("ef"), ascii("X"), {EOS}}));
  EXPECT_EQ(pair[1].ids, concat({{BOS}, ascii("ef"), ascii("0123456")})); // 3 + 7: EOS cut
  EXPECT_EQ(pair[0].promptLength, pair[1].promptLength);
  EXPECT_TRUE(pair[0].truncated);
}

TEST(Collate, PadsAndMasks) {
  std::vector<TokenizedText> rows(3);
  rows[0].ids = {BOS, 'a', 'b', 'c', EOS};
  rows[0].promptLength = 3;
  rows[1].ids = {BOS, 'z', EOS};
  rows[1].promptLength = 1;
  rows[2].ids = {'s', 'f', 't'};
  rows[2].promptLength = 0; // an sft text: every token but the first is a target
  TokenBatch batch = collate(rows, PAD, /*padToMultipleOf=*/4);
  ASSERT_EQ(batch.ids.sizes(), (std::vector<int64_t>{3, 8}));
  EXPECT_TRUE(torch::equal(batch.ids[1], torch::tensor({BOS, int64_t('z'), EOS, PAD, PAD, PAD, PAD, PAD})));
  EXPECT_TRUE(torch::equal(batch.lengths, torch::tensor({5, 3, 3}, torch::kInt64)));
  EXPECT_TRUE(torch::equal(batch.attention[0], torch::tensor({1, 1, 1, 1, 1, 0, 0, 0}).to(torch::kBool)));
  EXPECT_TRUE(torch::equal(batch.responseMask[0], torch::tensor({0, 0, 0, 1, 1, 0, 0, 0}).to(torch::kBool)));
  EXPECT_TRUE(torch::equal(batch.responseMask[1], torch::tensor({0, 1, 1, 0, 0, 0, 0, 0}).to(torch::kBool)));
  EXPECT_TRUE(torch::equal(batch.responseMask[2], torch::tensor({0, 1, 1, 0, 0, 0, 0, 0}).to(torch::kBool)));
  EXPECT_EQ(batch.ids.dtype(), torch::kInt64);
  EXPECT_EQ(batch.attention.dtype(), torch::kBool);
  // Without a multiple: the longest row; a tokenizer without a pad id pads with 0.
  EXPECT_EQ(collate(rows, padIdOf(PlainBytes())).ids.size(1), 5);
  EXPECT_EQ(collate(rows, padIdOf(PlainBytes())).ids[1][4].item<int64_t>(), 0);
  EXPECT_EQ(padIdOf(bytes()), PAD);
}

TEST(Collate, TargetMaskSelectsTheResponseLogprobs) {
  auto rows = tokenizePromptResponses(bytes(), "hi", {"yes", "no"}, limits(32, 16));
  TokenBatch batch = collate(rows, PAD);
  // Hand computation: log p(ids[t] | ids[<t]) sits at column t-1; the response of row 0 is ids[3..6]
  // ("yes" + EOS), of row 1 ids[3..5] ("no" + EOS).
  torch::Tensor want = torch::zeros({2, 6}, torch::kBool);
  for (int64_t t = 3; t <= 6; ++t)
    want[0][t - 1] = true;
  for (int64_t t = 3; t <= 5; ++t)
    want[1][t - 1] = true;
  EXPECT_TRUE(torch::equal(targetMask(batch), want));
  // The targets it selects are the response's ids.
  torch::Tensor picked = targetIds(batch).masked_select(targetMask(batch));
  EXPECT_TRUE(torch::equal(picked, torch::tensor({int64_t('y'), int64_t('e'), int64_t('s'), EOS, int64_t('n'), int64_t('o'), EOS})));
}

TEST(Collate, Errors) {
  EXPECT_THROW(collate({}, PAD), Error);
  EXPECT_THROW(tokenizePromptResponse(bytes(), "a", "b", limits(0, 0)), Error);
  EXPECT_THROW(batchOrder(10, 0, 0, 0, true), Error);
}

TEST(BatchOrder, CoversEveryExampleOnceAndKeepsTheLastPartialBatch) {
  auto batches = batchOrder(23, 5, 7, 0, /*shuffle=*/true);
  ASSERT_EQ(batches.size(), 5u);
  EXPECT_EQ(batches.back().size(), 3u);
  std::multiset<int64_t> seen;
  for (const auto &b : batches)
    seen.insert(b.begin(), b.end());
  EXPECT_EQ(seen.size(), 23u);
  EXPECT_EQ(std::set<int64_t>(seen.begin(), seen.end()).size(), 23u);
  EXPECT_EQ(batches, batchOrder(23, 5, 7, 0, true));
  EXPECT_NE(batches, batchOrder(23, 5, 7, 1, true)); // another epoch
  EXPECT_NE(batches, batchOrder(23, 5, 8, 0, true)); // another seed
  auto inOrder = batchOrder(7, 3, 7, 0, /*shuffle=*/false);
  EXPECT_EQ(inOrder, (std::vector<std::vector<int64_t>>{{0, 1, 2}, {3, 4, 5}, {6}}));
}

TEST(BatchOrder, LengthBucketingSortsWithinWindows) {
  const int64_t n = 1000, batch = 4; // windows of 200 examples
  std::vector<int64_t> lengths(n);
  for (int64_t i = 0; i < n; ++i)
    lengths[i] = (i * 7919) % 613;
  auto batches = batchOrder(n, batch, 3, 2, true, &lengths);
  EXPECT_EQ(batches, batchOrder(n, batch, 3, 2, true, &lengths));
  EXPECT_NE(batches, batchOrder(n, batch, 3, 3, true, &lengths));
  ASSERT_EQ(batches.size(), 250u);
  // Rebuild each window from the shuffled example order and check that every batch is a run of that
  // window sorted by length: within a batch, lengths are non-increasing, and the padding is far smaller
  // than for unbucketed batches of the same epoch.
  auto padding = [&](const std::vector<std::vector<int64_t>> &bs) {
    int64_t total = 0;
    for (const auto &b : bs) {
      int64_t longest = 0;
      for (int64_t i : b)
        longest = std::max(longest, lengths[i]);
      for (int64_t i : b)
        total += longest - lengths[i];
    }
    return total;
  };
  for (const auto &b : batches)
    for (size_t k = 1; k < b.size(); ++k)
      EXPECT_GE(lengths[b[k - 1]], lengths[b[k]]);
  EXPECT_LT(padding(batches) * 10, padding(batchOrder(n, batch, 3, 2, true)));
  // The examples of each window are those of the unbucketed order's window: bucketing reorders only
  // inside windows of 50 batches.
  auto plain = batchOrder(n, batch, 3, 2, true);
  std::set<int64_t> firstWindow;
  for (size_t k = 0; k < 50; ++k)
    firstWindow.insert(plain[k].begin(), plain[k].end());
  size_t inFirstWindow = 0;
  for (const auto &b : batches)
    inFirstWindow += std::all_of(b.begin(), b.end(), [&](int64_t i) { return firstWindow.count(i) > 0; });
  EXPECT_EQ(inFirstWindow, 50u);
  // Not shuffled: the windows' batches stay in order, longest first.
  auto ordered = batchOrder(n, batch, 3, 2, false, &lengths);
  EXPECT_GE(lengths[ordered[0][0]], lengths[ordered[49][0]]);
}
