//===- PolicySamples.cpp - Answers of policies to prompts, scored by other models ---===//

#include "aggregate/PolicySamples.h"

#include "dist/Shares.h"

#include "align/rt/Error.h"

#include <algorithm>

namespace align::rt {

TokenRows sampleAnswers(CausalLM &policy, const TokenRows &prompts, const SamplingOptions &options, int64_t padId,
                        int64_t batch, const dist::World *world) {
  if (batch < 1)
    throw Error("sampling needs a batch of at least one prompt");
  policy->eval();
  const auto [first, last] = dist::shareOfBatches(prompts.size(), static_cast<size_t>(batch), world);
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
  return dist::allGatherRows(answers, world); // every rank's share, in prompt order
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
  const auto [first, last] = dist::shareOfBatches(prompts.size(), static_cast<size_t>(batch), world);
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
