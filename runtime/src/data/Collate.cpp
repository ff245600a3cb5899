//===- Collate.cpp - Token ids, truncation, padding and loss masks --------===//

#include "data/Collate.h"

#include "data/Splits.h"

#include <algorithm>

namespace align::rt::data {

namespace {

void checkOptions(const TokenizeOptions &options) {
  if (options.maxLength < 1)
    throw Error("maxLength must be at least 1, got " + std::to_string(options.maxLength));
  if (options.maxPromptLength < 0)
    throw Error("maxPromptLength must be >= 0, got " + std::to_string(options.maxPromptLength));
}

} // namespace

std::vector<TokenizedText> tokenizePromptResponses(const Tokenizer &tokenizer, const std::string &prompt,
                                                   const std::vector<std::string> &responses,
                                                   const TokenizeOptions &options) {
  checkOptions(options);
  std::optional<int64_t> bos = options.addBos ? tokenizer.bosId() : std::nullopt;
  std::optional<int64_t> eos = options.addEos ? tokenizer.eosId() : std::nullopt;
  const int64_t bosCount = bos ? 1 : 0;

  std::vector<int64_t> promptIds = tokenizer.encode(prompt);
  std::vector<std::vector<int64_t>> responseIds;
  int64_t longest = 0;
  for (const std::string &response : responses) {
    responseIds.push_back(tokenizer.encode(response));
    if (eos)
      responseIds.back().push_back(*eos);
    longest = std::max<int64_t>(longest, static_cast<int64_t>(responseIds.back().size()));
  }

  // The prompt is cut once, for the longest response, so every response sees the same context.
  bool promptCut = false;
  const int64_t promptTotal = bosCount + static_cast<int64_t>(promptIds.size());
  if (promptTotal + longest > options.maxLength && promptTotal > options.maxPromptLength) {
    int64_t keep = std::max<int64_t>(0, options.maxPromptLength - bosCount);
    if (options.truncateLeft)
      promptIds.erase(promptIds.begin(), promptIds.end() - keep);
    else
      promptIds.resize(static_cast<size_t>(keep));
    promptCut = true;
  }
  std::vector<int64_t> head;
  if (bos)
    head.push_back(*bos);
  head.insert(head.end(), promptIds.begin(), promptIds.end());
  const int64_t promptLength = static_cast<int64_t>(head.size());

  std::vector<TokenizedText> out;
  for (std::vector<int64_t> &body : responseIds) {
    TokenizedText t;
    t.ids = head;
    t.promptLength = promptLength;
    t.truncated = promptCut;
    int64_t room = std::max<int64_t>(0, options.maxLength - promptLength);
    if (static_cast<int64_t>(body.size()) > room) { // the response's end goes, EOS first
      body.resize(static_cast<size_t>(room));
      t.truncated = true;
    }
    // A prompt alone longer than maxLength (maxPromptLength ≥ maxLength) is cut to maxLength too.
    if (static_cast<int64_t>(t.ids.size()) > options.maxLength) {
      t.ids.resize(static_cast<size_t>(options.maxLength));
      t.promptLength = options.maxLength;
      t.truncated = true;
    }
    t.ids.insert(t.ids.end(), body.begin(), body.end());
    out.push_back(std::move(t));
  }
  return out;
}

TokenizedText tokenizePromptResponse(const Tokenizer &tokenizer, const std::string &prompt, const std::string &response,
                                     const TokenizeOptions &options) {
  return tokenizePromptResponses(tokenizer, prompt, {response}, options).front();
}

int64_t padIdOf(const Tokenizer &tokenizer) { return tokenizer.padId().value_or(0); }

TokenBatch collate(const std::vector<TokenizedText> &rows, int64_t padId, int64_t padToMultipleOf) {
  if (rows.empty())
    throw Error("collate: a batch needs at least one row");
  if (padToMultipleOf < 1)
    throw Error("collate: padToMultipleOf must be at least 1, got " + std::to_string(padToMultipleOf));
  int64_t longest = 0;
  for (const TokenizedText &row : rows)
    longest = std::max<int64_t>(longest, static_cast<int64_t>(row.ids.size()));
  const int64_t width = std::max<int64_t>(1, (longest + padToMultipleOf - 1) / padToMultipleOf * padToMultipleOf);
  const int64_t count = static_cast<int64_t>(rows.size());

  TokenBatch batch;
  batch.ids = torch::full({count, width}, padId, torch::kInt64);
  batch.attention = torch::zeros({count, width}, torch::kBool);
  batch.responseMask = torch::zeros({count, width}, torch::kBool);
  batch.lengths = torch::empty({count}, torch::kInt64);
  auto ids = batch.ids.accessor<int64_t, 2>();
  auto attention = batch.attention.accessor<bool, 2>();
  auto response = batch.responseMask.accessor<bool, 2>();
  auto lengths = batch.lengths.accessor<int64_t, 1>();
  for (int64_t b = 0; b < count; ++b) {
    const TokenizedText &row = rows[b];
    const int64_t length = static_cast<int64_t>(row.ids.size());
    lengths[b] = length;
    for (int64_t t = 0; t < length; ++t) {
      ids[b][t] = row.ids[t];
      attention[b][t] = true;
      // The first token has no context to be predicted from, so it is never a target.
      response[b][t] = t >= row.promptLength && t >= 1;
    }
  }
  return batch;
}

torch::Tensor targetMask(const TokenBatch &batch) { return batch.responseMask.slice(1, 1); }

torch::Tensor targetIds(const TokenBatch &batch) { return batch.ids.slice(1, 1); }

std::vector<std::vector<int64_t>> batchOrder(int64_t n, int64_t batchSize, uint64_t seed, int64_t epoch, bool shuffle,
                                             const std::vector<int64_t> *lengths) {
  if (batchSize < 1)
    throw Error("batchOrder: batch size must be at least 1, got " + std::to_string(batchSize));
  if (lengths && static_cast<int64_t>(lengths->size()) != n)
    throw Error("batchOrder: " + std::to_string(lengths->size()) + " lengths for " + std::to_string(n) + " examples");
  // One stream per epoch: the epoch is folded into the seed through SplitMix64 itself, so neighbouring
  // (seed, epoch) pairs give unrelated permutations.
  SplitMix64 mixer(seed ^ (0x6A09E667F3BCC909ull * static_cast<uint64_t>(epoch + 1)));
  const uint64_t exampleSeed = mixer.next(), batchSeed = mixer.next();

  std::vector<int64_t> order(static_cast<size_t>(std::max<int64_t>(n, 0)));
  for (size_t i = 0; i < order.size(); ++i)
    order[i] = static_cast<int64_t>(i);
  if (shuffle)
    deterministicShuffle(order, exampleSeed);

  if (lengths) {
    const size_t window = static_cast<size_t>(batchSize) * 50;
    for (size_t start = 0; start < order.size(); start += window) {
      auto end = order.begin() + static_cast<std::ptrdiff_t>(std::min(order.size(), start + window));
      std::stable_sort(order.begin() + static_cast<std::ptrdiff_t>(start), end,
                       [&](int64_t a, int64_t b) { return (*lengths)[a] > (*lengths)[b]; });
    }
  }

  std::vector<std::vector<int64_t>> batches;
  for (size_t start = 0; start < order.size(); start += static_cast<size_t>(batchSize))
    batches.emplace_back(order.begin() + static_cast<std::ptrdiff_t>(start),
                         order.begin() + static_cast<std::ptrdiff_t>(std::min(order.size(), start + batchSize)));
  if (lengths && shuffle)
    deterministicShuffle(batches, batchSeed);
  return batches;
}

} // namespace align::rt::data
