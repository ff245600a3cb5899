//===- RejectionSampling.cpp - Samples under directions, scored, the best kept ---===//

#include "train/RejectionSampling.h"

#include "dist/Shares.h"

#include "data/Direction.h"

#include <algorithm>

namespace align::rt {

std::vector<DirectedSample> sampleUnderDirections(CausalLM &policy, const Tokenizer &tokenizer,
                                                  const DirectionSpec &direction,
                                                  const std::vector<DirectedPrompt> &prompts, int64_t samples,
                                                  const SamplingOptions &options, const data::TokenizeOptions &tokenize,
                                                  int64_t rowsPerBlock, const dist::World *world) {
  if (samples < 1 || rowsPerBlock < 1)
    throw Error("sampling under directions needs samples >= 1 and a block of at least one row");
  data::TokenizeOptions promptOnly = tokenize;
  promptOnly.addEos = false;
  std::vector<std::vector<int64_t>> promptIds;
  for (const DirectedPrompt &p : prompts) {
    const std::string system = renderDirection(direction, directionVector(p.angleDeg));
    promptIds.push_back(data::tokenizePromptResponse(tokenizer, conditionedPrompt(system, p.prompt), "", promptOnly).ids);
  }
  policy->eval();
  const int64_t padId = data::padIdOf(tokenizer);
  std::vector<DirectedSample> out;
  out.reserve(prompts.size() * static_cast<size_t>(samples));
  for (size_t p = 0; p < prompts.size(); ++p)
    for (int64_t s = 0; s < samples; ++s) {
      DirectedSample sample;
      sample.prompt = static_cast<int64_t>(p);
      sample.sample = s;
      out.push_back(std::move(sample));
    }
  const auto [first, last] = dist::shareOfBatches(out.size(), static_cast<size_t>(rowsPerBlock), world);
  std::vector<std::vector<int64_t>> answered; // this rank's share of the rows
  for (size_t from = first; from < last; from += static_cast<size_t>(rowsPerBlock)) {
    const size_t block = from / static_cast<size_t>(rowsPerBlock);
    const size_t to = std::min(last, from + static_cast<size_t>(rowsPerBlock));
    std::vector<std::vector<int64_t>> rows;
    for (size_t r = from; r < to; ++r)
      rows.push_back(promptIds[static_cast<size_t>(out[r].prompt)]);
    SamplingOptions mine = options;
    mine.seed = options.seed + block;
    std::vector<std::vector<int64_t>> answers = generateBatch(policy, rows, mine, padId);
    for (std::vector<int64_t> &ids : answers) {
      if (options.eosId && !ids.empty() && ids.back() == *options.eosId)
        ids.pop_back();
      answered.push_back(std::move(ids));
    }
  }
  answered = dist::allGatherRows(answered, world); // every rank's share, in row order
  for (size_t r = 0; r < out.size(); ++r) {
    out[r].ids = std::move(answered.at(r));
    out[r].text = tokenizer.decode(out[r].ids, /*skipSpecial=*/true);
  }
  return out;
}

void scoreSamples(RewardModel &reward, const Tokenizer &tokenizer, const std::vector<DirectedPrompt> &prompts,
                  std::vector<DirectedSample> &samples, const std::vector<int64_t> &outputs,
                  const data::TokenizeOptions &tokenize, int64_t batch, const dist::World *world) {
  if (batch < 1)
    throw Error("scoring samples needs a batch of at least one");
  for (int64_t o : outputs)
    if (o < 0 || o >= reward->outputs)
      throw Error("scoring samples: output " + std::to_string(o) + " of a reward head with " +
                  std::to_string(reward->outputs) + " outputs");
  torch::NoGradGuard noGrad;
  reward->eval();
  torch::Device device = reward->score->weight.device();
  const int64_t padId = data::padIdOf(tokenizer);
  const auto [first, last] = dist::shareOfBatches(samples.size(), static_cast<size_t>(batch), world);
  for (size_t from = first; from < last; from += static_cast<size_t>(batch)) {
    const size_t to = std::min(last, from + static_cast<size_t>(batch));
    std::vector<data::TokenizedText> rows;
    for (size_t r = from; r < to; ++r)
      rows.push_back(data::tokenizePromptResponse(tokenizer, prompts.at(static_cast<size_t>(samples[r].prompt)).prompt,
                                                  samples[r].text, tokenize));
    data::TokenBatch tokens = data::collate(rows, padId);
    torch::Tensor values =
        reward->forward(tokens.ids.to(device), tokens.attention.to(device)).to(torch::kCPU, torch::kFloat64);
    auto v = values.accessor<double, 2>();
    for (size_t r = from; r < to; ++r) {
      samples[r].rewards.clear();
      for (int64_t o : outputs)
        samples[r].rewards.push_back(v[static_cast<int64_t>(r - from)][o]);
    }
  }
  if (world && world->distributed()) { // every rank's values, in sample order (each has outputs.size())
    std::vector<double> local;
    for (size_t r = first; r < last; ++r)
      local.insert(local.end(), samples[r].rewards.begin(), samples[r].rewards.end());
    const std::vector<double> all = world->allGather(local);
    for (size_t r = 0; r < samples.size(); ++r)
      samples[r].rewards.assign(all.begin() + static_cast<int64_t>(r * outputs.size()),
                                all.begin() + static_cast<int64_t>((r + 1) * outputs.size()));
  }
}

double scalarized(const DirectedSample &sample, double angleDeg) {
  const std::vector<double> v = directionVector(angleDeg);
  if (sample.rewards.size() != v.size())
    throw Error("a sample scored on " + std::to_string(sample.rewards.size()) + " objectives under a direction over " +
                std::to_string(v.size()));
  double value = 0;
  for (size_t k = 0; k < v.size(); ++k)
    value += v[k] * sample.rewards[k];
  return value;
}

std::vector<size_t> selectBest(const std::vector<DirectedSample> &samples, const std::vector<DirectedPrompt> &prompts) {
  std::vector<size_t> best(prompts.size(), samples.size());
  std::vector<double> bestValue(prompts.size(), 0);
  for (size_t i = 0; i < samples.size(); ++i) {
    const size_t p = static_cast<size_t>(samples[i].prompt);
    if (p >= prompts.size())
      throw Error("a sample of prompt " + std::to_string(p) + " among " + std::to_string(prompts.size()) + " prompts");
    const double value = scalarized(samples[i], prompts[p].angleDeg);
    // Strictly larger only, with lower sample indices seen first: a tie keeps the lowest index.
    const bool better = best[p] == samples.size() || value > bestValue[p] ||
                        (value == bestValue[p] && samples[i].sample < samples[best[p]].sample);
    if (better)
      best[p] = i, bestValue[p] = value;
  }
  for (size_t p = 0; p < best.size(); ++p)
    if (best[p] == samples.size())
      throw Error("prompt " + std::to_string(p) + " has no samples to select from");
  return best;
}

std::vector<int64_t> objectiveOutputs(const DirectionSpec &direction, const std::vector<std::string> &rewardObjectives) {
  std::vector<int64_t> outputs;
  for (const std::string &name : direction.objectives) {
    auto it = std::find(rewardObjectives.begin(), rewardObjectives.end(), name);
    if (it == rewardObjectives.end())
      throw Error("direction '" + direction.name + "' is over '" + name + "', which its reward does not produce");
    outputs.push_back(static_cast<int64_t>(it - rewardObjectives.begin()));
  }
  return outputs;
}

} // namespace align::rt
