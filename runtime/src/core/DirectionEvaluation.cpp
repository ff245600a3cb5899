//===- DirectionEvaluation.cpp - The metrics `by direction` of RSF stages --===//
//
// DPA's evaluation (docs/methods.md §4.4) for a stage with `loop rsf`: over a grid of directions spanning the
// direction's range, each policy answers the first `samples` prompts of the split under each direction (one
// answer each, conditioned as in training), and the RSF scorer rates every answer.
//   pareto                         every policy of the stage: its start (iteration 0) and each iteration's;
//                                  eval.json[STAGE].pareto lists, per iteration and angle, the mean reward of
//                                  each objective, the mean vᵀr and the mean length; the answers go to
//                                  OUT/pareto/STAGE.jsonl (for a judge of the true objectives) and the fronts
//                                  to OUT/STAGE_pareto.svg
//   generated_length by direction  the stage's final policy: mean answer length per angle ("-45deg", ...)
// Other stages have no direction to condition on; these metrics skip them.
//
//===----------------------------------------------------------------------===//

#include "core/TrainerImpl.h"

#include "data/Direction.h"
#include "model/Checkpoint.h"
#include "report/ParetoPlot.h"
#include "support/AtomicWrite.h"
#include "support/Files.h"
#include "train/RejectionSampling.h"

#include <cstdio>

namespace align::rt {

namespace {

std::string angleLabel(double angle) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%gdeg", angle);
  return buffer;
}

/// The first `samples` prompts of the rows, each under every angle of the grid (prompt-major per angle).
std::vector<DirectedPrompt> gridPrompts(const std::vector<data::Example> &rows, int64_t samples,
                                        const std::vector<double> &angles) {
  std::vector<DirectedPrompt> out;
  const size_t n = std::min(rows.size(), static_cast<size_t>(std::max<int64_t>(samples, 0)));
  for (double angle : angles)
    for (size_t i = 0; i < n; ++i)
      out.push_back({rows[i].prompt, angle});
  return out;
}

} // namespace

void Trainer::Impl::evaluateDirections(const StageRecord &stage, const EvalSpec &eval,
                                       std::map<std::string, double> &table) {
  auto found = rsfPolicies.find(stage.spec.name);
  if (found == rsfPolicies.end())
    return;
  const RsfPolicies &rsf = found->second;
  const DirectionSpec &direction = rsf.direction;
  const StageRecord *scorer = stageRecord(rsf.scorer);
  Tokenizer &tokenizer = tokenizerOf(stage.spec.model);
  std::vector<data::Example> rows = limitedForEval(split(eval.on.data, eval.on.split));
  if (rows.empty())
    throw Error(eval.location + ": " + eval.on.data + "." + eval.on.split + " has no prompts");

  const bool pareto = eval.metric == MetricKind::pareto;
  SamplingOptions sampling;
  sampling.eosId = tokenizer.eosId();
  sampling.seed = stage.spec.schedule.seed * 1000003ull + 0x70617265746full;
  int64_t samples = 0, grid = direction.grid;
  if (pareto) {
    const ParetoParams &params = eval.as<ParetoParams>();
    sampling.maxNewTokens = params.max_new_tokens, sampling.temperature = params.temperature;
    samples = params.samples, grid = params.grid;
  } else {
    const GeneratedLengthParams &params = eval.as<GeneratedLengthParams>();
    sampling.maxNewTokens = params.max_new_tokens, sampling.temperature = params.temperature;
    samples = params.samples;
  }
  const std::vector<double> angles = gridAngles(direction.angleLow, direction.angleHigh, grid);
  const std::vector<DirectedPrompt> prompts = gridPrompts(rows, samples, angles);
  const size_t perAngle = prompts.size() / angles.size();
  const std::vector<std::string> policies =
      pareto ? rsf.policies : std::vector<std::string>{rsf.policies.back()};

  RewardModel reward{nullptr};
  if (pareto) {
    reward = loadRewardModel(scorer->checkpointDir);
    reward->to(device);
  }
  nlohmann::json points = nlohmann::json::array();
  std::string answers;
  std::vector<ParetoFront> fronts;
  for (size_t t = 0; t < policies.size(); ++t) {
    const size_t iteration = pareto ? t : rsf.policies.size() - 1;
    CausalLM policy = loadCausalLM(policies[t]);
    policy->to(device);
    std::vector<DirectedSample> answered =
        sampleUnderDirections(policy, tokenizer, direction, prompts, 1, sampling, tokenizeOptions(stage.spec.schedule),
                              kSampleRowsPerBlock, world.get());
    if (pareto)
      scoreSamples(reward, tokenizerOf(scorer->spec.model), prompts, answered, rsf.scorerOutputs,
                   tokenizeOptions(scorer->spec.schedule), std::max<int64_t>(1, scorer->spec.schedule.batch),
                   world.get());
    ParetoFront front{iteration == 0 ? "start (iteration 0)" : "iteration " + std::to_string(iteration), {}};
    for (size_t a = 0; a < angles.size(); ++a) {
      double length = 0, value = 0;
      std::vector<double> objective(direction.objectives.size(), 0.0);
      for (size_t i = a * perAngle; i < (a + 1) * perAngle; ++i) {
        const DirectedSample &s = answered[i];
        length += static_cast<double>(s.ids.size()) / static_cast<double>(perAngle);
        if (!pareto)
          continue;
        value += scalarized(s, angles[a]) / static_cast<double>(perAngle);
        for (size_t k = 0; k < objective.size(); ++k)
          objective[k] += s.rewards[k] / static_cast<double>(perAngle);
        answers += nlohmann::json({{"iteration", iteration}, {"angle_deg", angles[a]}, {"prompt", prompts[i].prompt},
                                   {"text", s.text}, {"rewards", s.rewards}, {"length", s.ids.size()}})
                       .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) +
                   "\n";
      }
      if (!pareto) {
        table[angleLabel(angles[a])] = length;
        continue;
      }
      nlohmann::json point = {{"iteration", iteration}, {"angle_deg", angles[a]}, {"reward", value}, {"length", length}};
      for (size_t k = 0; k < objective.size(); ++k)
        point[direction.objectives[k]] = objective[k];
      points.push_back(point);
      front.points.push_back({objective[1], objective[0]});
    }
    fronts.push_back(std::move(front));
  }
  if (!pareto) {
    std::fprintf(stderr, "[eval] %s, generated length by direction over %zu angles, %zu prompts each\n",
                 stage.spec.name.c_str(), angles.size(), perAngle);
    return;
  }
  extraEval[stage.spec.name]["pareto"] = points;
  const std::string dir = joinPath(options.outDir, "pareto");
  makeDirectories(dir);
  writeFileAtomically(joinPath(dir, stage.spec.name + ".jsonl"), answers);
  writeParetoPlot(joinPath(options.outDir, stage.spec.name + "_pareto.svg"),
                  "Mean rewards over " + std::to_string(angles.size()) + " directions (" + stage.spec.name + ")",
                  direction.objectives[1] + " (reward)", direction.objectives[0] + " (reward)", fronts);
  std::fprintf(stderr, "[eval] %s: pareto over %zu directions × %zu prompts for %zu policies → %s_pareto.svg\n",
               stage.spec.name.c_str(), angles.size(), perAngle, policies.size(), stage.spec.name.c_str());
}

} // namespace align::rt
