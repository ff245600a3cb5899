//===- RegretEstimate.cpp - Each latent type's regret of a policy, from samples ---===//
//
// MMRA's estimator (docs/methods.md §3.5), shared by an aggregate (Aggregation.cpp) and the `regret` metric
// (Evaluation.cpp). The first `samples` distinct prompts of the data, each `answers` times; every type policy
// π_j of the EM stage and every other policy answers each (temperature 1, batched with the KV cache); every
// type's policy π_i and the EM stage's reference score every answer. With
//   L[i][j] = mean_x [log π_i(y_j|x) − log π_ref(y_j|x)],  LP[i][j] = mean_x log π_i(y_j|x),
// type i's regret of policy j is L[i][i] − L[i][j] (`implicit`, the authors'), or β·(LP_j(y_j) − LP[i][j]) =
// β·KL(π_j ‖ π_i) (`kl`). Models are loaded one at a time.
//
//===----------------------------------------------------------------------===//

#include "core/TrainerImpl.h"

#include "aggregate/MinMaxRegret.h"
#include "aggregate/PolicySamples.h"
#include "data/Collate.h"
#include "model/Checkpoint.h"

#include <numeric>
#include <set>

namespace align::rt {

namespace {

double mean(const std::vector<double> &values) {
  return values.empty() ? 0.0 : std::accumulate(values.begin(), values.end(), 0.0) / static_cast<double>(values.size());
}

CausalLM onDevice(CausalLM model, torch::Device device) {
  model->to(device);
  model->eval();
  return model;
}

} // namespace

Trainer::Impl::RegretEstimate Trainer::Impl::estimateRegrets(const TypePolicies &types,
                                                             const std::vector<std::string> &others,
                                                             const std::vector<std::string> &otherNames,
                                                             const RegretRequest &request) {
  if (request.samples < 1 || request.answers < 1 || request.maxNewTokens < 1)
    throw Error(request.where + " needs samples >= 1, answers >= 1 and max_new_tokens >= 1");
  const StageSpec &stage = types.spec;
  const size_t k = types.checkpoints.size();

  // The prompts: the first `samples` distinct ones of the split, as the stage's tokenizer cuts them.
  Tokenizer &tokenizer = tokenizerOf(stage.model);
  data::TokenizeOptions promptOnly = tokenizeOptions(stage.schedule);
  promptOnly.addEos = false;
  TokenRows prompts;
  std::vector<std::string> promptTexts;
  std::set<std::string> seen;
  for (const data::Example &row : split(request.prompts.data, request.prompts.split)) {
    if (static_cast<int64_t>(seen.size()) >= request.samples)
      break;
    if (!seen.insert(row.prompt).second)
      continue;
    std::vector<int64_t> ids = data::tokenizePromptResponse(tokenizer, row.prompt, "", promptOnly).ids;
    for (int64_t a = 0; a < request.answers; ++a) { // each answer is one row: the means run over all of them
      prompts.push_back(ids);
      promptTexts.push_back(row.prompt);
    }
  }
  if (prompts.empty())
    throw Error(request.where + ": " + request.prompts.data + "." + request.prompts.split + " has no prompts");
  const int64_t padId = data::padIdOf(tokenizer);

  // The answering policies: the K types, then the others.
  std::vector<std::string> answering = types.checkpoints;
  answering.insert(answering.end(), others.begin(), others.end());
  SamplingOptions sampling;
  sampling.maxNewTokens = request.maxNewTokens;
  sampling.temperature = 1.0;
  sampling.eosId = tokenizer.eosId();
  const bool kl = request.estimator == RegretEstimator::kl;
  std::vector<TokenRows> answers;
  std::vector<double> selfLogprob(answering.size(), 0.0); // kl: an other policy's mean log-prob of its own answers
  for (size_t j = 0; j < answering.size(); ++j) {
    CausalLM policy = onDevice(loadCausalLM(answering[j]), device);
    sampling.seed = stage.schedule.seed + 1000003ull * (j + 1);
    answers.push_back(sampleAnswers(policy, prompts, sampling, padId, kAnswerBatch, world.get()));
    if (kl && j >= k) // while it is loaded; the types' own scores come with the scoring below
      selfLogprob[j] = mean(answerLogprobs(policy, prompts, answers.back(), padId, kAnswerBatch, world.get()));
  }

  // Scores: logp[i][j] = each answer of policy j under model i (the K types, then the reference).
  auto scoreAll = [&](CausalLM model) {
    std::vector<std::vector<double>> row;
    for (const TokenRows &a : answers)
      row.push_back(answerLogprobs(model, prompts, a, padId, kAnswerBatch, world.get()));
    return row;
  };
  std::vector<std::vector<std::vector<double>>> logp;
  for (size_t i = 0; i < k; ++i)
    logp.push_back(scoreAll(onDevice(loadCausalLM(types.checkpoints[i]), device)));
  const auto reference = scoreAll(onDevice(referenceModel(stage.reference, stage.location), device));

  DoubleMatrix logRatios(k, std::vector<double>(answering.size())), logprobs = logRatios;
  for (size_t i = 0; i < k; ++i)
    for (size_t j = 0; j < answering.size(); ++j) {
      std::vector<double> ratio(prompts.size());
      for (size_t x = 0; x < prompts.size(); ++x)
        ratio[x] = logp[i][j][x] - reference[j][x];
      logRatios[i][j] = mean(ratio);
      logprobs[i][j] = mean(logp[i][j]);
    }
  DoubleMatrix square(k), squareLogprobs(k);
  for (size_t i = 0; i < k; ++i) {
    square[i].assign(logRatios[i].begin(), logRatios[i].begin() + static_cast<std::ptrdiff_t>(k));
    squareLogprobs[i].assign(logprobs[i].begin(), logprobs[i].begin() + static_cast<std::ptrdiff_t>(k));
  }
  RegretEstimate out;
  out.matrix = kl ? klRegretMatrix(squareLogprobs, types.beta) : regretMatrix(square);
  for (size_t o = 0; o < others.size(); ++o) {
    const size_t j = k + o;
    std::vector<double> regrets;
    for (size_t i = 0; i < k; ++i)
      regrets.push_back(kl ? types.beta * (selfLogprob[j] - logprobs[i][j]) : logRatios[i][i] - logRatios[i][j]);
    out.others.push_back(std::move(regrets));
  }

  for (size_t j = 0; j < answering.size(); ++j)
    for (size_t x = 0; x < prompts.size(); ++x) {
      std::vector<int64_t> shown = answers[j][x];
      if (!shown.empty() && sampling.eosId && shown.back() == *sampling.eosId)
        shown.pop_back();
      nlohmann::json line{{"policy", j < k ? "type" + std::to_string(j) : otherNames.at(j - k)},
                          {"prompt", promptTexts[x]},
                          {"answer", tokenizer.decode(shown)}};
      out.answersJsonl += line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
    }
  out.details = {{"prompts", seen.size()},
                 {"answers_per_prompt", request.answers},
                 {"log_ratios", logRatios},
                 {"mean_logprobs", logprobs},
                 {"regret", spelling(request.estimator)},
                 {"beta", types.beta}};
  return out;
}

} // namespace align::rt
