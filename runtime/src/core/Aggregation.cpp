//===- Aggregation.cpp - The runtime calls of an emitted aggregate ---------===//
//
// MMRA (docs/methods.md §3.5–3.6) and the fixed mixtures. The trainer's C++ makes two calls per aggregate:
//   regretTable  each type policy π_j (and the baseline stage's policy) answers the first `samples` distinct
//                prompts, one sampled answer each (batched, KV cache); every type's policy π_i and the EM
//                stage's reference score every answer. With L[i][j] = mean_x [log π_i(y_j|x) − log π_ref(y_j|x)]
//                the authors' regret is R[i][j] = L[i][i] − L[i][j]; `regret: kl` uses β·KL(π_j ‖ π_i) on the
//                same answers (aggregate/MinMaxRegret.h)
//   mixture      optimistic Hedge on the game (c_k-weighted rows, the dummy row) for minmax_regret, uniform
//                or the recipe's weights otherwise; mixture.json beside the policies, eval.json[NAME], and a
//                chart of each type's regret under every policy and the mixture (OUT/NAME_regret.svg)
// Models are loaded one at a time, so memory holds one policy besides the reference.
//
//===----------------------------------------------------------------------===//

#include "core/TrainerImpl.h"

#include "aggregate/MinMaxRegret.h"
#include "aggregate/MixtureFile.h"
#include "aggregate/PolicySamples.h"
#include "data/Collate.h"
#include "model/Checkpoint.h"
#include "report/BarChart.h"
#include "support/AtomicWrite.h"
#include "support/Files.h"

#include <algorithm>
#include <cstdio>
#include <numeric>
#include <set>

namespace align::rt {

namespace {

double mean(const std::vector<double> &values) {
  return values.empty() ? 0.0 : std::accumulate(values.begin(), values.end(), 0.0) / static_cast<double>(values.size());
}

std::vector<double> difference(const std::vector<double> &a, const std::vector<double> &b) {
  std::vector<double> out(a.size());
  for (size_t i = 0; i < a.size(); ++i)
    out[i] = a[i] - b[i];
  return out;
}

std::string listOf(const std::vector<double> &values) {
  std::string out = "[";
  for (size_t i = 0; i < values.size(); ++i) {
    char text[32];
    std::snprintf(text, sizeof text, "%s%.4g", i ? ", " : "", values[i]);
    out += text;
  }
  return out + "]";
}

const Trainer::Impl::TypePolicies &typePoliciesOf(Trainer::Impl &impl, const AggregateSpec &spec) {
  auto it = impl.typePolicies.find(spec.policies);
  if (it == impl.typePolicies.end())
    throw Error(spec.location + ": aggregate '" + spec.name + "': stage '" + spec.policies +
                "' has not finished a `loop em`, so it has no type policies to mix");
  return it->second;
}

CausalLM onDevice(CausalLM model, torch::Device device) {
  model->to(device);
  model->eval();
  return model;
}

} // namespace

RegretTable Trainer::regretTable(const AggregateSpec &spec) {
  Impl &impl = *impl_;
  const Impl::TypePolicies &types = typePoliciesOf(impl, spec);
  if (spec.kind != AggregateKind::minmax_regret)
    return {};
  if (spec.samples < 1 || spec.answers < 1 || spec.maxNewTokens < 1)
    throw Error(spec.location + ": aggregate '" + spec.name +
                "' needs samples >= 1, answers >= 1 and max_new_tokens >= 1");
  const StageSpec &stage = types.spec;
  const size_t k = types.checkpoints.size();

  // The prompts: the first `samples` distinct ones of the split, as the stage's tokenizer cuts them.
  Tokenizer &tokenizer = impl.tokenizerOf(stage.model);
  data::TokenizeOptions promptOnly = tokenizeOptions(stage.schedule);
  promptOnly.addEos = false;
  TokenRows prompts;
  std::vector<std::string> promptTexts;
  std::set<std::string> seen;
  for (const data::Example &row : impl.split(spec.prompts.data, spec.prompts.split)) {
    if (static_cast<int64_t>(seen.size()) >= spec.samples)
      break;
    if (!seen.insert(row.prompt).second)
      continue;
    std::vector<int64_t> ids = data::tokenizePromptResponse(tokenizer, row.prompt, "", promptOnly).ids;
    for (int64_t a = 0; a < spec.answers; ++a) { // each answer is one row: the means run over all of them
      prompts.push_back(ids);
      promptTexts.push_back(row.prompt);
    }
  }
  if (prompts.empty())
    throw Error(spec.location + ": aggregate '" + spec.name + "': " + spec.prompts.data + "." + spec.prompts.split +
                " has no prompts");
  const int64_t padId = data::padIdOf(tokenizer);

  // The answering policies: the K types, then the baseline's.
  std::vector<std::string> answering = types.checkpoints;
  if (!spec.baseline.empty()) {
    const Impl::StageRecord *record = impl.stageRecord(spec.baseline);
    if (!record)
      throw Error(spec.location + ": aggregate '" + spec.name + "': baseline '" + spec.baseline +
                  "' is not a stage that has run (an EM stage has several policies, not one)");
    if (record->spec.rewardModel || record->spec.users.enabled)
      throw Error(spec.location + ": aggregate '" + spec.name + "': baseline '" + spec.baseline +
                  "' must train a plain policy (not a reward model or a user model)");
    answering.push_back(record->checkpointDir);
  }
  SamplingOptions sampling;
  sampling.maxNewTokens = spec.maxNewTokens;
  sampling.temperature = 1.0;
  sampling.eosId = tokenizer.eosId();
  std::vector<TokenRows> answers;
  for (size_t j = 0; j < answering.size(); ++j) {
    CausalLM policy = onDevice(loadCausalLM(answering[j]), impl.device);
    sampling.seed = stage.schedule.seed + 1000003ull * (j + 1);
    answers.push_back(sampleAnswers(policy, prompts, sampling, padId));
  }

  // Scores: logp[i][j] = each answer of policy j under model i (the K types, then the reference).
  auto scoreAll = [&](CausalLM model) {
    std::vector<std::vector<double>> row;
    for (const TokenRows &a : answers)
      row.push_back(answerLogprobs(model, prompts, a, padId));
    return row;
  };
  std::vector<std::vector<std::vector<double>>> logp;
  for (size_t i = 0; i < k; ++i)
    logp.push_back(scoreAll(onDevice(loadCausalLM(types.checkpoints[i]), impl.device)));
  const auto reference = scoreAll(onDevice(impl.referenceModel(stage.reference, stage.location), impl.device));
  std::vector<double> baselineSelf; // the baseline's own log-probs of its answers (KL regret)
  if (!spec.baseline.empty() && spec.regret == RegretEstimator::kl) {
    CausalLM baseline = onDevice(loadCausalLM(answering.back()), impl.device);
    baselineSelf = answerLogprobs(baseline, prompts, answers.back(), padId);
  }

  DoubleMatrix logRatios(k, std::vector<double>(answering.size())), logprobs = logRatios;
  for (size_t i = 0; i < k; ++i)
    for (size_t j = 0; j < answering.size(); ++j) {
      logRatios[i][j] = mean(difference(logp[i][j], reference[j]));
      logprobs[i][j] = mean(logp[i][j]);
    }
  DoubleMatrix square(k), squareLogprobs(k);
  for (size_t i = 0; i < k; ++i) {
    square[i].assign(logRatios[i].begin(), logRatios[i].begin() + static_cast<std::ptrdiff_t>(k));
    squareLogprobs[i].assign(logprobs[i].begin(), logprobs[i].begin() + static_cast<std::ptrdiff_t>(k));
  }
  RegretTable table;
  table.matrix = spec.regret == RegretEstimator::kl ? klRegretMatrix(squareLogprobs, types.beta) : regretMatrix(square);
  if (!spec.baseline.empty())
    for (size_t i = 0; i < k; ++i)
      table.baseline.push_back(spec.regret == RegretEstimator::kl ? types.beta * (mean(baselineSelf) - logprobs[i][k])
                                                                  : logRatios[i][i] - logRatios[i][k]);

  // The answers, for a reader: OUT/checkpoints/NAME/answers.jsonl.
  std::string lines;
  for (size_t j = 0; j < answering.size(); ++j)
    for (size_t x = 0; x < prompts.size(); ++x) {
      std::vector<int64_t> shown = answers[j][x];
      if (!shown.empty() && sampling.eosId && shown.back() == *sampling.eosId)
        shown.pop_back();
      nlohmann::json line{{"policy", j < k ? "type" + std::to_string(j) : "baseline " + spec.baseline},
                          {"prompt", promptTexts[x]},
                          {"answer", tokenizer.decode(shown)}};
      lines += line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
    }
  const std::string dir = joinPath(joinPath(impl.options.outDir, "checkpoints"), spec.name);
  makeDirectories(dir);
  writeFileAtomically(joinPath(dir, "answers.jsonl"), lines);

  impl.regretDetails[spec.name] = {{"prompts", seen.size()},
                                   {"answers_per_prompt", spec.answers},
                                   {"log_ratios", logRatios},
                                   {"mean_logprobs", logprobs},
                                   {"regret", spelling(spec.regret)},
                                   {"beta", types.beta}};
  std::fprintf(stderr, "[%s] regret of %zu type policies%s on %zu prompts × %lld answers (%s estimator)\n", spec.name.c_str(), k,
               spec.baseline.empty() ? "" : (" and baseline " + spec.baseline).c_str(), seen.size(),
               static_cast<long long>(spec.answers), spelling(spec.regret));
  return table;
}

void Trainer::mixture(const AggregateSpec &spec, const RegretTable &regret) {
  Impl &impl = *impl_;
  const Impl::TypePolicies &types = typePoliciesOf(impl, spec);
  const size_t k = types.checkpoints.size();
  const std::string where = spec.location + ": aggregate '" + spec.name + "': ";
  nlohmann::json details{{"kind", spelling(spec.kind)}, {"stage", spec.policies}};
  std::vector<double> weights;
  switch (spec.kind) {
  case AggregateKind::minmax_regret: {
    if (regret.matrix.size() != k)
      throw Error(where + "the regret table has " + std::to_string(regret.matrix.size()) + " rows for " +
                  std::to_string(k) + " type policies");
    std::vector<double> c = spec.regretWeights.empty() ? std::vector<double>(k, 1.0) : spec.regretWeights;
    if (c.size() != k)
      throw Error(where + "'regret_weights' has " + std::to_string(c.size()) + " entries, but stage '" +
                  spec.policies + "' trains " + std::to_string(k) + " type policies");
    HedgeSolution solution = optimisticHedge(gameMatrix(regret.matrix, spec.dummy, c), spec.steps,
                                             spec.eta > 0 ? std::optional<double>(spec.eta) : std::nullopt);
    weights = solution.weights;
    details["solver"] = {{"kind", "optimistic_hedge"},
                         {"steps", spec.steps},
                         {"eta", spec.eta > 0 ? spec.eta : hedgeDefaultEta(spec.steps)},
                         {"value", solution.value},
                         {"row_weights", solution.rowWeights}};
    details["dummy"] = spec.dummy;
    details["regret_weights"] = c;
    break;
  }
  case AggregateKind::mean:
    weights.assign(k, 1.0 / static_cast<double>(k));
    break;
  case AggregateKind::weighted: {
    if (spec.weights.size() != k)
      throw Error(where + "'weights' has " + std::to_string(spec.weights.size()) + " entries, but stage '" +
                  spec.policies + "' trains " + std::to_string(k) + " type policies");
    double total = 0;
    for (double w : spec.weights) {
      if (!(w >= 0))
        throw Error(where + "mixture weights must be >= 0");
      total += w;
    }
    if (total <= 0)
      throw Error(where + "mixture weights must not all be zero");
    for (double w : spec.weights)
      weights.push_back(w / total);
    break;
  }
  default:
    throw Error(where + "aggregate '" + spelling(spec.kind) + "' is not executed by the runtime yet");
  }

  if (!regret.matrix.empty()) {
    std::vector<double> byType = mixtureRegrets(regret.matrix, weights);
    details["regret_by_type"] = byType;
    details["worst_regret"] = *std::max_element(byType.begin(), byType.end());
    details["regret_matrix"] = regret.matrix;
    // Each type policy alone: its column of R, and the worst type's regret.
    std::vector<double> policyWorst;
    for (size_t j = 0; j < k; ++j) {
      double worst = regret.matrix[0][j];
      for (size_t i = 0; i < k; ++i)
        worst = std::max(worst, regret.matrix[i][j]);
      policyWorst.push_back(worst);
    }
    details["policy_worst_regret"] = policyWorst;
    if (!regret.baseline.empty())
      details["baseline"] = {{"stage", spec.baseline},
                             {"regret_by_type", regret.baseline},
                             {"worst_regret", *std::max_element(regret.baseline.begin(), regret.baseline.end())}};
    if (auto found = impl.regretDetails.find(spec.name); found != impl.regretDetails.end())
      details.update(found->second);

    // The chart: per type, its regret under each policy, the mixture and the baseline.
    std::vector<std::string> categories;
    for (size_t i = 0; i < k; ++i)
      categories.push_back("type " + std::to_string(i));
    BarSeries series;
    for (size_t j = 0; j < k; ++j) {
      std::vector<double> column;
      for (size_t i = 0; i < k; ++i)
        column.push_back(regret.matrix[i][j]);
      series.push_back({"policy " + std::to_string(j), column});
    }
    series.push_back({"mixture " + spec.name, byType});
    if (!regret.baseline.empty())
      series.push_back({spec.baseline, regret.baseline});
    writeBarChart(joinPath(impl.options.outDir, spec.name + "_regret.svg"),
                  "regret of each type under each policy (" + spec.name + ")", "regret", categories, series);
    std::fprintf(stderr, "[%s] mixture %s: regret by type %s (worst %.4g)%s\n", spec.name.c_str(),
                 listOf(weights).c_str(), listOf(byType).c_str(), details["worst_regret"].get<double>(),
                 regret.baseline.empty()
                     ? ""
                     : (", baseline " + spec.baseline + " " + listOf(regret.baseline)).c_str());
  } else {
    std::fprintf(stderr, "[%s] mixture %s\n", spec.name.c_str(), listOf(weights).c_str());
  }

  const std::string dir = joinPath(joinPath(impl.options.outDir, "checkpoints"), spec.name);
  writeMixture(dir, MixtureFile{types.checkpoints, weights}, details);
  nlohmann::json &out = impl.extraEval[spec.name];
  for (auto &[key, value] : details.items())
    out[key] = value;
  out["weights"] = weights;
  out["mixture"] = dir;
}

} // namespace align::rt
