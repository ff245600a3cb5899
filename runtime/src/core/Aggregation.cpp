//===- Aggregation.cpp - The runtime calls of an emitted aggregate ---------===//
//
// MMRA (docs/methods.md §3.5–3.6) and the fixed mixtures. The trainer's C++ makes two calls per aggregate:
//   regretTable  each type policy π_j (and the baseline stage's policy) answers the prompts and every type
//                scores the answers (RegretEstimate.cpp): R[i][j], type i's regret when π_j answers
//   mixture      optimistic Hedge on the game (c_k-weighted rows, the dummy row) for minmax_regret, uniform
//                or the recipe's weights otherwise; mixture.json beside the policies, eval.json[NAME], and a
//                chart of each type's regret under every policy and the mixture (OUT/NAME_regret.svg)
//
//===----------------------------------------------------------------------===//

#include "core/TrainerImpl.h"

#include "aggregate/MinMaxRegret.h"
#include "aggregate/MixtureFile.h"
#include "report/BarChart.h"
#include "support/AtomicWrite.h"
#include "support/Files.h"
#include "support/NumberList.h"

#include <algorithm>
#include <cstdio>

namespace align::rt {

namespace {

const Trainer::Impl::TypePolicies &typePoliciesOf(Trainer::Impl &impl, const AggregateSpec &spec) {
  auto it = impl.typePolicies.find(spec.policies);
  if (it == impl.typePolicies.end())
    throw Error(spec.location + ": aggregate '" + spec.name + "': stage '" + spec.policies +
                "' has not finished a `loop em`, so it has no type policies to mix");
  return it->second;
}

} // namespace

RegretTable Trainer::regretTable(const AggregateSpec &spec) {
  Impl &impl = *impl_;
  const Impl::TypePolicies &types = typePoliciesOf(impl, spec);
  if (spec.kind != AggregateKind::minmax_regret)
    return {};
  const size_t k = types.checkpoints.size();
  // The baseline: one more answering policy, a stage with a single plain policy.
  std::vector<std::string> others, otherNames;
  if (!spec.baseline.empty()) {
    const Impl::StageRecord *record = impl.stageRecord(spec.baseline);
    if (!record)
      throw Error(spec.location + ": aggregate '" + spec.name + "': baseline '" + spec.baseline +
                  "' is not a stage that has run (an EM stage has several policies, not one)");
    if (record->spec.rewardModel || record->spec.users.enabled)
      throw Error(spec.location + ": aggregate '" + spec.name + "': baseline '" + spec.baseline +
                  "' must train a plain policy (not a reward model or a user model)");
    others.push_back(record->checkpointDir);
    otherNames.push_back("baseline " + spec.baseline);
  }
  Impl::RegretRequest request;
  request.prompts = spec.prompts;
  request.samples = spec.samples;
  request.answers = spec.answers;
  request.maxNewTokens = spec.maxNewTokens;
  request.estimator = spec.regret;
  request.where = spec.location + ": aggregate '" + spec.name + "'";
  Impl::RegretEstimate estimate = impl.estimateRegrets(types, others, otherNames, request);

  // The answers, for a reader: OUT/checkpoints/NAME/answers.jsonl.
  const std::string dir = joinPath(joinPath(impl.options.outDir, "checkpoints"), spec.name);
  makeDirectories(dir);
  writeFileAtomically(joinPath(dir, "answers.jsonl"), estimate.answersJsonl);
  impl.regretDetails[spec.name] = estimate.details;
  std::fprintf(stderr, "[%s] regret of %zu type policies%s on %lld prompts × %lld answers (%s estimator)\n",
               spec.name.c_str(), k, spec.baseline.empty() ? "" : (" and baseline " + spec.baseline).c_str(),
               static_cast<long long>(estimate.details["prompts"].get<int64_t>()),
               static_cast<long long>(spec.answers), spelling(spec.regret));
  RegretTable table;
  table.matrix = estimate.matrix;
  if (!estimate.others.empty())
    table.baseline = estimate.others[0];
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
                 numberList(weights).c_str(), numberList(byType).c_str(), details["worst_regret"].get<double>(),
                 regret.baseline.empty()
                     ? ""
                     : (", baseline " + spec.baseline + " " + numberList(regret.baseline)).c_str());
  } else {
    std::fprintf(stderr, "[%s] mixture %s\n", spec.name.c_str(), numberList(weights).c_str());
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
