//===- PreparedData.h - Examples tokenized for one stage's objective -*- C++ -*-===//
//
// The data layer gives examples as text (data/Examples.h). A stage tokenizes each once, keeping only the
// sequences its terms read — prompt + response i, for the responses that take part in a preference pair, the
// nll target or the imitation set — so a micro-batch is one concatenated forward over exactly those sequences
// (chosen and rejected together: the pair-concatenation schedule). Pairs are every (better, worse) pair of
// responses with different scores; a pairwise row is one pair, and ties (WebGPT has some) form none.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "data/Collate.h"
#include "data/Examples.h"
#include "tokenizer/Tokenizer.h"

#include <torch/torch.h>

#include <string>
#include <utility>
#include <vector>

namespace align::rt {

struct PreparedExample {
  std::vector<data::TokenizedText> sequences; ///< [BOS] prompt response [EOS], truncated
  std::vector<double> scores;                 ///< per sequence, when the source has scores
  std::vector<double> ratings;                ///< rated data: one per objective, NaN where missing
  std::vector<std::pair<int, int>> pairs;     ///< (better, worse) sequence indices
  std::vector<int> nll;                       ///< sequences the nll term reads
  std::vector<int> imitation;                 ///< sequences whose normalised score exceeds the threshold
  std::vector<double> referenceLogps;         ///< per sequence, once the reference has been precomputed
  double weight = 1.0;
  std::string user, group, domain;
  std::string annotator, trueType; ///< EM-DPO: who voted, and (evaluation only) their true type
  std::string versus; ///< domain_pairs: the domain of the rejected response (eval's cross-domain split)
  /// The user model's id of `user` (P-RLHF): 1..N for users seen in training, 0 for the generic user — which
  /// is also what a generic duplicate of a user's row carries.
  int64_t userId = 0;
  int64_t index = 0; ///< position in the stage's training set
};

/// What a stage's terms read (derived from the terms by the runner).
struct PrepareOptions {
  data::TokenizeOptions tokenize;
  bool pairs = false;        ///< a pairwise term (the registry's Pairwise trait)
  bool nll = false;
  bool nllEveryText = false; ///< nll on every response (scored data), not just the best one
  bool imitation = false;
  double imitationThreshold = 0.85;
  bool everySequence = false; ///< rank_loss, regression: all responses
};

/// Tokenized examples; an example from which the terms read nothing (a tie-only pair, say) is left out and
/// counted in `*unused`.
std::vector<PreparedExample> prepareExamples(const std::vector<data::Example> &examples, const Tokenizer &tokenizer,
                                             const PrepareOptions &options, int64_t *unused);

/// One micro-batch as tensors: the sequences of `batch`, example after example, right-padded.
struct MicroBatch {
  data::TokenBatch tokens;
  torch::Tensor responseTargets; ///< [N, T-1] bool: target t+1 is a response token
  torch::Tensor allTargets;      ///< [N, T-1] bool: target t+1 is not padding
  int64_t tokenCount = 0;        ///< non-pad tokens, for throughput
};
MicroBatch collateSequences(const std::vector<const PreparedExample *> &batch, int64_t padId);

} // namespace align::rt
