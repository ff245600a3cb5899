//===- Collate.h - Token ids, truncation, padding and loss masks -*- C++ -*-===//
//
// From rendered text to the tensors a training step reads, with TRL's conventions:
//  * ids = [BOS] + enc(prompt) + enc(response) + [EOS]; BOS/EOS only where the tokenizer has them and the
//    option asks for them (a chat template that already spells them turns them off).
//  * Too long for maxLength: first the prompt is cut to maxPromptLength tokens (BOS counts as a prompt
//    token and stays first; the prompt's start is dropped when truncateLeft, its end otherwise), then the
//    response's end is cut to fit, EOS included, as TRL's DPOTrainer did. The prompt and each response are
//    encoded separately, so the boundary is exact, which is how TRL masks the prompt.
//  * The loss is on the response tokens only: responseMask marks them in ids, targetMask in the shifted
//    log-prob layout log p(ids[t] | ids[<t]), t = 1..T-1.
// The batch order of an epoch is a pure function of (seed, epoch), using Splits.h's SplitMix64.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "tokenizer/Tokenizer.h"

#include <torch/torch.h>

#include <cstdint>
#include <string>
#include <vector>

namespace align::rt::data {

struct TokenizeOptions {
  int64_t maxLength = 512;
  int64_t maxPromptLength = 256;
  bool truncateLeft = true; ///< which end of the PROMPT is cut: true keeps its end (the latest turns)
  bool addBos = true;
  bool addEos = true;
};

struct TokenizedText {
  std::vector<int64_t> ids;
  int64_t promptLength = 0; ///< tokens of ids belonging to the prompt, incl. BOS
  bool truncated = false;
};

TokenizedText tokenizePromptResponse(const Tokenizer &tokenizer, const std::string &prompt, const std::string &response,
                                     const TokenizeOptions &options);

/// Several responses to one prompt (a preference pair, a ranking): the prompt is cut the same way for all
/// of them, decided by the longest response as TRL does, so that every response is scored after the same
/// context; each response's end is then cut to fit on its own.
std::vector<TokenizedText> tokenizePromptResponses(const Tokenizer &tokenizer, const std::string &prompt,
                                                   const std::vector<std::string> &responses,
                                                   const TokenizeOptions &options);

struct TokenBatch {
  torch::Tensor ids;          ///< [B, T] int64, right-padded with the pad id
  torch::Tensor attention;    ///< [B, T] bool
  torch::Tensor responseMask; ///< [B, T] bool: ids[b][t] is a response token (a loss target); never at t = 0
  torch::Tensor lengths;      ///< [B] int64
};

/// The pad id to collate with: the tokenizer's, or 0 when it has none (padding is masked out anyway).
int64_t padIdOf(const Tokenizer &tokenizer);

/// Right-pads `rows` to the longest, rounded up to a multiple of `padToMultipleOf` (≥ 1). No rows is an
/// Error (a batch is never empty).
TokenBatch collate(const std::vector<TokenizedText> &rows, int64_t padId, int64_t padToMultipleOf = 1);

/// responseMask shifted for log-probs computed as log p(ids[t] | ids[<t]) for t = 1..T-1: [B, T-1], i.e.
/// responseMask[:, 1:].
torch::Tensor targetMask(const TokenBatch &batch);
/// The ids those log-probs are of: ids[:, 1:], [B, T-1].
torch::Tensor targetIds(const TokenBatch &batch);

/// The batches of one epoch as lists of example indices, the last partial batch kept. With `shuffle`, the
/// examples are permuted by SplitMix64(seed mixed with epoch). With `lengths` (one per example), length
/// bucketing: the (shuffled) order is cut into windows of 50 batches, each window is sorted by length
/// (longest first, ties in order), cut into batches, and then the order of all batches is shuffled (when
/// `shuffle`), so a batch pads little and the epoch still mixes lengths.
std::vector<std::vector<int64_t>> batchOrder(int64_t n, int64_t batchSize, uint64_t seed, int64_t epoch, bool shuffle,
                                             const std::vector<int64_t> *lengths = nullptr);

} // namespace align::rt::data
