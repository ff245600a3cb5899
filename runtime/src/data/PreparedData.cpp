//===- PreparedData.cpp - Examples tokenized for one stage's objective ----===//

#include "data/PreparedData.h"

#include <algorithm>
#include <set>

namespace align::rt {

std::vector<PreparedExample> prepareExamples(const std::vector<data::Example> &examples, const Tokenizer &tokenizer,
                                             const PrepareOptions &options, int64_t *unused) {
  std::vector<PreparedExample> prepared;
  prepared.reserve(examples.size());
  int64_t skipped = 0;
  for (const data::Example &example : examples) {
    const int n = static_cast<int>(example.responses.size());
    const bool scored = example.scores.size() == example.responses.size() && !example.scores.empty();
    // Which responses the terms read, as indices into example.responses.
    std::set<int> used;
    std::vector<std::pair<int, int>> pairs;
    if (options.pairs && scored)
      for (int i = 0; i < n; ++i)
        for (int j = 0; j < n; ++j)
          if (example.scores[i] > example.scores[j])
            pairs.emplace_back(i, j);
    for (auto [i, j] : pairs)
      used.insert(i), used.insert(j);
    std::vector<int> nll, imitation;
    if (options.nll && n > 0) {
      if (options.nllEveryText)
        for (int i = 0; i < n; ++i)
          nll.push_back(i);
      else
        nll.push_back(0); // the best response (responses are listed best first)
    }
    if (options.imitation && scored) {
      // DSP's normalisation: score / (max + 1e-5); only responses above the threshold are imitated.
      const double top = *std::max_element(example.scores.begin(), example.scores.end());
      for (int i = 0; i < n; ++i)
        if (example.scores[i] / (top + 1e-5) > options.imitationThreshold)
          imitation.push_back(i);
    }
    used.insert(nll.begin(), nll.end());
    used.insert(imitation.begin(), imitation.end());
    if (options.everySequence)
      for (int i = 0; i < n; ++i)
        used.insert(i);
    if (used.empty()) {
      ++skipped;
      continue;
    }
    // Renumber the used responses 0..k-1 in their original order.
    std::vector<int> position(n, -1);
    PreparedExample out;
    for (int i : used) {
      position[i] = static_cast<int>(out.sequences.size());
      out.sequences.push_back(data::tokenizePromptResponse(tokenizer, example.prompt, example.responses[i], options.tokenize));
      if (scored)
        out.scores.push_back(example.scores[i]);
    }
    for (auto [i, j] : pairs)
      out.pairs.emplace_back(position[i], position[j]);
    for (int i : nll)
      out.nll.push_back(position[i]);
    for (int i : imitation)
      out.imitation.push_back(position[i]);
    out.ratings = example.ratings;
    out.weight = example.weight;
    out.user = example.user;
    out.group = example.group;
    out.domain = example.domain;
    out.annotator = example.annotator;
    out.trueType = example.trueType;
    out.versus = example.versus;
    out.index = static_cast<int64_t>(prepared.size());
    prepared.push_back(std::move(out));
  }
  if (unused)
    *unused = skipped;
  return prepared;
}

MicroBatch collateSequences(const std::vector<const PreparedExample *> &batch, int64_t padId) {
  std::vector<data::TokenizedText> rows;
  for (const PreparedExample *example : batch)
    rows.insert(rows.end(), example->sequences.begin(), example->sequences.end());
  MicroBatch micro;
  micro.tokens = data::collate(rows, padId);
  micro.responseTargets = data::targetMask(micro.tokens);
  using torch::indexing::Slice;
  micro.allTargets = micro.tokens.attention.index({Slice(), Slice(1, torch::indexing::None)}).to(torch::kBool);
  micro.tokenCount = micro.tokens.attention.sum().item<int64_t>();
  return micro;
}

} // namespace align::rt
