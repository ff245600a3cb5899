//===- PolicySamples.cpp - Answers of policies to prompts, scored by other models ---===//

#include "aggregate/PolicySamples.h"

#include "align/rt/Error.h"

#include <algorithm>

namespace align::rt {

namespace {

/// The rows [first, last) of this rank's contiguous share of the batches of `count` rows (all of them on
/// one process): every batch is the one a single process forms.
std::pair<size_t, size_t> shareOfBatches(size_t count, int64_t batch, const dist::World *world) {
  if (!world || !world->distributed())
    return {0, count};
  const size_t batches = (count + static_cast<size_t>(batch) - 1) / static_cast<size_t>(batch);
  const auto [first, last] = dist::sliceOf(static_cast<int64_t>(batches), world->rank(), world->size());
  return {std::min(count, static_cast<size_t>(first) * static_cast<size_t>(batch)),
          std::min(count, static_cast<size_t>(last) * static_cast<size_t>(batch))};
}

} // namespace

TokenRows sampleAnswers(CausalLM &policy, const TokenRows &prompts, const SamplingOptions &options, int64_t padId,
                        int64_t batch, const dist::World *world) {
  if (batch < 1)
    throw Error("sampling needs a batch of at least one prompt");
  policy->eval();
  const auto [first, last] = shareOfBatches(prompts.size(), batch, world);
  TokenRows answers;
  answers.reserve(prompts.size());
  for (size_t from = first; from < last; from += static_cast<size_t>(batch)) {
    TokenRows block(prompts.begin() + static_cast<std::ptrdiff_t>(from),
                    prompts.begin() + static_cast<std::ptrdiff_t>(std::min(last, from + batch)));
    SamplingOptions mine = options;
    mine.seed = options.seed + from / static_cast<size_t>(batch);
    for (auto &answer : generateBatch(policy, block, mine, padId))
      answers.push_back(std::move(answer));
  }
  if (!world || !world->distributed())
    return answers;
  std::vector<double> local; // each answer's length, then its tokens; the ranks' shares come back in order
  for (const auto &answer : answers) {
    local.push_back(static_cast<double>(answer.size()));
    local.insert(local.end(), answer.begin(), answer.end());
  }
  const std::vector<double> all = world->allGather(local);
  TokenRows every;
  for (size_t at = 0; every.size() < prompts.size();) {
    const auto n = static_cast<int64_t>(all.at(at++));
    every.emplace_back(all.begin() + static_cast<std::ptrdiff_t>(at), all.begin() + static_cast<std::ptrdiff_t>(at) + n);
    at += static_cast<size_t>(n);
  }
  return every;
}

std::vector<double> answerLogprobs(CausalLM &model, const TokenRows &prompts, const TokenRows &answers, int64_t padId,
                                   int64_t batch, const dist::World *world) {
  if (prompts.size() != answers.size())
    throw Error("scoring answers: " + std::to_string(prompts.size()) + " prompts but " +
                std::to_string(answers.size()) + " answers");
  if (batch < 1)
    throw Error("scoring answers needs a batch of at least one pair");
  torch::NoGradGuard noGrad;
  model->eval();
  torch::Device device = model->headWeight().device();
  std::vector<double> out(prompts.size(), 0.0);
  const auto [first, last] = shareOfBatches(prompts.size(), batch, world);
  for (size_t from = first; from < last; from += static_cast<size_t>(batch)) {
    const size_t to = std::min(last, from + static_cast<size_t>(batch));
    int64_t width = 0;
    for (size_t r = from; r < to; ++r) {
      if (prompts[r].empty())
        throw Error("scoring answers: prompt " + std::to_string(r) + " has no tokens");
      width = std::max<int64_t>(width, static_cast<int64_t>(prompts[r].size() + answers[r].size()));
    }
    if (width > model->config.maxPositionEmbeddings)
      throw Error("scoring answers: a prompt and answer of " + std::to_string(width) + " tokens exceed the model's " +
                  std::to_string(model->config.maxPositionEmbeddings) + " positions");
    const int64_t rows = static_cast<int64_t>(to - from);
    torch::Tensor ids = torch::full({rows, width}, padId, torch::kInt64);
    torch::Tensor mask = torch::zeros({rows, width - 1}, torch::kFloat32); // over targets ids[:, 1:]
    for (size_t r = from; r < to; ++r) {
      std::vector<int64_t> sequence = prompts[r];
      sequence.insert(sequence.end(), answers[r].begin(), answers[r].end());
      const int64_t row = static_cast<int64_t>(r - from), n = static_cast<int64_t>(sequence.size());
      ids[row].slice(0, 0, n) = torch::tensor(sequence, torch::kInt64);
      // The answer's tokens are targets prompt.size() .. n-1, i.e. positions prompt.size()-1 .. n-2 of ids[:, 1:].
      mask[row].slice(0, static_cast<int64_t>(prompts[r].size()) - 1, n - 1) = 1;
    }
    if (width < 2)
      continue; // every answer empty: all zero
    torch::Tensor logps = tokenLogprobs(model, ids.to(device)).to(torch::kCPU, torch::kFloat64);
    torch::Tensor sums = (logps * mask.to(torch::kFloat64)).sum(1);
    for (int64_t row = 0; row < rows; ++row)
      out[from + static_cast<size_t>(row)] = sums[row].item<double>();
  }
  if (world && world->distributed())
    return world->allGather(std::vector<double>(out.begin() + static_cast<std::ptrdiff_t>(first),
                                                out.begin() + static_cast<std::ptrdiff_t>(last)));
  return out;
}

} // namespace align::rt
