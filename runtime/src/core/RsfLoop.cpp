//===- RsfLoop.cpp - The runtime calls of an emitted RSF loop -------------===//
//
// DPA's preference-conditioned rejection-sampling fine-tuning (docs/methods.md §4.3). The trainer's C++ holds
// the loop (the compiler emits it from `loop rsf`); iteration t makes π_t from π_{t−1}, π_0 the stage's start:
//   rsfBegin     check the loop against its declarations, read the prompts; on --resume, reload the progress
//   rsfGenerate  the iteration's prompts (all, or `prompts_per_iteration` of them, seeded), an angle for each
//                (uniform over the range, or one of the grid's), `samples` answers of π_{t−1} conditioned on it
//   rsfScore     the scorer's objectives r(x, y) of every answer
//   rsfSelect    y* = argmax vᵀ r per prompt (ties: the lowest sample index)
//   rsfFineTune  SFT of π_{t−1} on (system(v) + x, y*) with the stage's objective and schedule → π_t in
//                OUT/checkpoints/STAGE/iter_t (with direction.json beside the weights)
//   rsfEnd       the stage's result is π_T; the per-iteration metrics go into eval.json[STAGE].rsf
// The progress is OUT/state/STAGE/rsf.json and the iteration's samples OUT/state/STAGE/samples_<t>.jsonl,
// written after each call, so --resume continues in the phase a killed run was in.
//
//===----------------------------------------------------------------------===//

#include "core/TrainerImpl.h"

#include "core/Contract.h"
#include "data/Direction.h"
#include "model/Checkpoint.h"
#include "model/RewardModel.h"
#include "support/AtomicWrite.h"
#include "support/Files.h"
#include "support/SplitMix64.h"

#include <algorithm>
#include <cstdio>
#include <fstream>

namespace align::rt {

namespace {

using StageRecord = Trainer::Impl::StageRecord;

std::string iterationDir(const RsfRun &run, int64_t iteration) {
  return joinPath(run.checkpointDir, "iter_" + std::to_string(iteration));
}

/// π_{t−1}: the stage's start for t = 1, else the previous iteration's policy.
std::string policyBefore(const RsfRun &run, int64_t iteration) {
  return iteration <= 1 ? run.startCheckpoint : iterationDir(run, iteration - 1);
}

std::string samplesPath(const RsfRun &run, int64_t iteration) {
  return joinPath(run.stateDir, "samples_" + std::to_string(iteration) + ".jsonl");
}

void writeProgress(const RsfRun &run) {
  nlohmann::json j;
  j["iteration"] = run.iteration;
  j["phase"] = run.phase;
  j["by_iteration"] = run.byIteration;
  makeDirectories(run.stateDir);
  writeFileAtomically(joinPath(run.stateDir, "rsf.json"), j.dump() + "\n");
}

bool readProgress(RsfRun &run) {
  const std::string path = joinPath(run.stateDir, "rsf.json");
  if (!pathExists(path))
    return false;
  std::ifstream in(path);
  nlohmann::json j = nlohmann::json::parse(in, nullptr, /*allow_exceptions=*/false);
  try {
    if (j.is_discarded())
      throw Error(path + ": not JSON");
    run.iteration = j.at("iteration").get<int64_t>();
    run.phase = j.at("phase").get<std::string>();
    run.byIteration = j.at("by_iteration");
  } catch (const nlohmann::json::exception &e) {
    throw Error(path + ": not an RSF progress file: " + e.what());
  }
  if (run.phase != "start" && run.phase != "generated" && run.phase != "scored" && run.phase != "training")
    throw Error(path + ": unknown phase '" + run.phase + "'");
  return true;
}

/// The iteration's samples, one JSON line each: what was generated (and, once scored, the rewards).
void writeSamples(const RsfRun &run, int64_t iteration) {
  std::string text;
  for (const DirectedSample &s : run.samples) {
    const size_t p = static_cast<size_t>(s.prompt);
    nlohmann::json j = {{"prompt_index", run.promptRows[p]}, {"prompt", run.directed[p].prompt},
                        {"angle_deg", run.directed[p].angleDeg}, {"sample", s.sample},
                        {"ids", s.ids}, {"text", s.text}};
    if (!s.rewards.empty())
      j["rewards"] = s.rewards;
    // A sampled text need not be UTF-8 (a byte tokenizer's): JSON gets U+FFFD, and a resume decodes the ids.
    text += j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
  }
  writeFileAtomically(samplesPath(run, iteration), text);
}

void readSamples(RsfRun &run, int64_t iteration, const Tokenizer &tokenizer) {
  const std::string path = samplesPath(run, iteration);
  std::ifstream in(path);
  if (!in)
    throw Error(path + ": the samples of RSF iteration " + std::to_string(iteration) + " are missing; start a new --out");
  run.samples.clear();
  run.directed.clear();
  run.promptRows.clear();
  std::string line;
  int64_t number = 0;
  while (std::getline(in, line)) {
    ++number;
    nlohmann::json j = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
    try {
      if (j.is_discarded())
        throw Error("not JSON");
      const int64_t row = j.at("prompt_index").get<int64_t>();
      if (run.promptRows.empty() || run.promptRows.back() != row) {
        run.promptRows.push_back(row);
        run.directed.push_back({j.at("prompt").get<std::string>(), j.at("angle_deg").get<double>()});
      }
      DirectedSample s;
      s.prompt = static_cast<int64_t>(run.directed.size()) - 1;
      s.sample = j.at("sample").get<int64_t>();
      s.ids = j.at("ids").get<std::vector<int64_t>>();
      s.text = tokenizer.decode(s.ids, /*skipSpecial=*/true);
      if (j.contains("rewards"))
        s.rewards = j.at("rewards").get<std::vector<double>>();
      run.samples.push_back(std::move(s));
    } catch (const std::exception &e) {
      throw Error(path + ":" + std::to_string(number) + ": " + e.what());
    }
  }
}

double mean(const std::vector<double> &values) {
  double sum = 0;
  for (double v : values)
    sum += v;
  return values.empty() ? 0.0 : sum / static_cast<double>(values.size());
}

} // namespace

RsfRun &Trainer::Impl::rsfRun(const std::string &stage) {
  auto it = rsfRuns.find(stage);
  if (it == rsfRuns.end())
    throw Error("stage '" + stage + "': an RSF call before rsfBegin");
  return *it->second;
}

void Trainer::direction(const std::string &name, const DirectionSpec &spec) {
  if (spec.objectives.size() != 2)
    throw Error("direction '" + name + "' spans " + std::to_string(spec.objectives.size()) +
                " objectives; the runtime renders directions over exactly two");
  if (!(spec.angleLow > -90 && spec.angleLow <= spec.angleHigh && spec.angleHigh < 90))
    throw Error("direction '" + name + "': the angle range must lie in (-90deg, 90deg), low before high");
  if (spec.scale < 1 || spec.grid < 1)
    throw Error("direction '" + name + "': scale and grid must be at least 1");
  objectiveOutputs(spec, spec.rewardObjectives); // every objective is one the reward produces
  renderDirection(spec, directionVector(spec.angleLow)); // the template's placeholders, checked before step 0
  impl_->directions[name] = spec;
  impl_->directions[name].name = name;
}

int64_t Trainer::rsfBegin(const StageSpec &spec, const RsfSpec &rsf) {
  impl_->loadAllData();
  Impl &impl = *impl_;
  const std::string where = spec.location + ": stage '" + spec.name + "': loop rsf";
  if (spec.rewardModel || spec.objective.size() != 1 || spec.objective[0].kind != LossKind::nll)
    throw Error(where + " fine-tunes a policy on the kept samples with exactly one nll() objective");
  if (rsf.iterations < 1 || rsf.samples < 1 || rsf.maxNewTokens < 1 || rsf.promptsPerIteration < 0 ||
      !(rsf.temperature > 0) || !(rsf.topP > 0 && rsf.topP <= 1))
    throw Error(where + " needs iterations, samples and max_new_tokens >= 1, temperature > 0 and top_p in (0, 1]");
  auto direction = impl.directions.find(rsf.directions);
  if (direction == impl.directions.end())
    throw Error(where + ": direction '" + rsf.directions + "' is not declared");
  const StageRecord *scorer = impl.stageRecord(rsf.scorer);
  if (!scorer)
    throw Error(where + ": the scorer, stage '" + rsf.scorer + "', has not run");
  if (!scorer->spec.rewardModel)
    throw Error(where + ": the scorer, stage '" + rsf.scorer + "', trains a policy, not a regression reward");
  if (spec.initFrom.empty() && impl.models.at(spec.model).checkpoint.empty())
    throw Error(where + " samples from the stage's start; give it `init from` a trained stage");
  checkTerm(spec.objective[0], where);

  auto run = std::make_unique<RsfRun>();
  run->spec = spec;
  run->rsf = rsf;
  run->direction = direction->second;
  run->scorerCheckpoint = scorer->checkpointDir;
  run->scorerOutputs = objectiveOutputs(run->direction, run->direction.rewardObjectives);
  if (static_cast<int64_t>(run->direction.rewardObjectives.size()) != scorer->spec.rewardOutputs)
    throw Error(where + ": the scorer has " + std::to_string(scorer->spec.rewardOutputs) + " outputs, but direction '" +
                rsf.directions + "' reads a reward with " + std::to_string(run->direction.rewardObjectives.size()));
  run->prompts = impl.split(rsf.prompts.data, rsf.prompts.split);
  if (run->prompts.empty())
    throw Error(where + ": " + rsf.prompts.data + "." + rsf.prompts.split + " has no prompts");
  const DataSpec &promptData = impl.data.at(rsf.prompts.data).spec;
  run->promptTemplate = promptData.templateText.value_or("");
  if (const StageRecord *from = spec.initFrom.empty() ? nullptr : impl.stageRecord(spec.initFrom))
    run->startCheckpoint = absolutePath(from->checkpointDir);
  else if (!spec.initFrom.empty())
    throw Error(where + ": stage '" + spec.initFrom + "' has not run");
  else
    run->startCheckpoint = absolutePath(impl.resolvePath(impl.models.at(spec.model).checkpoint));
  run->stateDir = joinPath(joinPath(impl.options.outDir, "state"), spec.name);
  run->checkpointDir = joinPath(joinPath(impl.options.outDir, "checkpoints"), spec.name);

  const bool resumed = impl.options.resume && readProgress(*run);
  std::fprintf(stderr, "[%s] RSF: %lld iterations, %s prompts of %s.%s, %lld samples each, scored by stage '%s'; %s\n",
               spec.name.c_str(), static_cast<long long>(rsf.iterations),
               rsf.promptsPerIteration > 0 ? std::to_string(rsf.promptsPerIteration).c_str()
                                           : std::to_string(run->prompts.size()).c_str(),
               rsf.prompts.data.c_str(), rsf.prompts.split.c_str(), static_cast<long long>(rsf.samples),
               rsf.scorer.c_str(),
               resumed ? ("resuming at iteration " + std::to_string(run->iteration) + " (" + run->phase + ")").c_str()
                       : "starting from the stage's start");
  if (!resumed)
    writeProgress(*run);
  const int64_t first = run->iteration;
  impl.rsfRuns[spec.name] = std::move(run);
  return first;
}

void Trainer::rsfGenerate(const std::string &stage, int64_t iteration) {
  Impl &impl = *impl_;
  RsfRun &run = impl.rsfRun(stage);
  if (iteration != run.iteration)
    throw Error("stage '" + stage + "': RSF generation for iteration " + std::to_string(iteration) +
                " out of order; RSF is in iteration " + std::to_string(run.iteration));
  if (run.phase != "start") { // generated before a resume: the same samples
    readSamples(run, iteration, impl.tokenizerOf(run.spec.model));
    return;
  }
  // The iteration's prompts and their directions, from a stream of their own per iteration.
  SplitMix64 rng(run.spec.schedule.seed ^ (0x7273660000000000ull + static_cast<uint64_t>(iteration)));
  std::vector<int64_t> rows(run.prompts.size());
  for (size_t i = 0; i < rows.size(); ++i)
    rows[i] = static_cast<int64_t>(i);
  if (run.rsf.promptsPerIteration > 0 && run.rsf.promptsPerIteration < static_cast<int64_t>(rows.size())) {
    for (size_t i = rows.size(); i > 1; --i)
      std::swap(rows[i - 1], rows[rng.below(i)]);
    rows.resize(static_cast<size_t>(run.rsf.promptsPerIteration));
    std::sort(rows.begin(), rows.end());
  }
  const DirectionSpec &d = run.direction;
  const std::vector<double> grid = gridAngles(d.angleLow, d.angleHigh, d.grid);
  run.directed.clear();
  run.promptRows = rows;
  for (int64_t row : rows) {
    const double angle = d.sample == DirectionSampling::grid
                             ? grid[rng.below(grid.size())]
                             : d.angleLow + (d.angleHigh - d.angleLow) * rng.uniform();
    run.directed.push_back({run.prompts[static_cast<size_t>(row)].prompt, angle});
  }
  Tokenizer &tokenizer = impl.tokenizerOf(run.spec.model);
  CausalLM policy = loadCausalLM(policyBefore(run, iteration));
  policy->to(impl.device);
  SamplingOptions sampling;
  sampling.maxNewTokens = run.rsf.maxNewTokens;
  sampling.temperature = run.rsf.temperature;
  sampling.topP = run.rsf.topP;
  sampling.seed = run.spec.schedule.seed * 1000003ull + static_cast<uint64_t>(iteration) * 7919ull;
  sampling.eosId = tokenizer.eosId();
  std::fprintf(stderr, "[%s] RSF iteration %lld: %lld samples for each of %zu prompts\n", stage.c_str(),
               static_cast<long long>(iteration), static_cast<long long>(run.rsf.samples), run.directed.size());
  run.samples = sampleUnderDirections(policy, tokenizer, d, run.directed, run.rsf.samples, sampling,
                                      tokenizeOptions(run.spec.schedule), kSampleRowsPerBlock,
                                      impl.world.get());
  writeSamples(run, iteration);
  run.phase = "generated";
  writeProgress(run);
}

void Trainer::rsfScore(const std::string &stage, int64_t iteration) {
  Impl &impl = *impl_;
  RsfRun &run = impl.rsfRun(stage);
  if (iteration != run.iteration || run.phase == "start")
    throw Error("stage '" + stage + "': RSF scoring of iteration " + std::to_string(iteration) + " before its samples");
  if (run.phase != "generated")
    return; // scored before a resume: the samples file holds the rewards
  const StageRecord *scorer = impl.stageRecord(run.rsf.scorer);
  RewardModel reward = loadRewardModel(run.scorerCheckpoint);
  reward->to(impl.device);
  Tokenizer &tokenizer = impl.tokenizerOf(scorer->spec.model);
  scoreSamples(reward, tokenizer, run.directed, run.samples, run.scorerOutputs, tokenizeOptions(scorer->spec.schedule),
               std::max<int64_t>(1, scorer->spec.schedule.batch), impl.world.get());
  writeSamples(run, iteration);
  run.phase = "scored";
  writeProgress(run);
}

void Trainer::rsfSelect(const std::string &stage, int64_t iteration) {
  Impl &impl = *impl_;
  RsfRun &run = impl.rsfRun(stage);
  if (iteration != run.iteration || (run.phase != "scored" && run.phase != "training"))
    throw Error("stage '" + stage + "': RSF selection in iteration " + std::to_string(iteration) + " before scoring");
  run.kept = selectBest(run.samples, run.directed);
}

void Trainer::rsfFineTune(const std::string &stage, int64_t iteration) {
  Impl &impl = *impl_;
  RsfRun &run = impl.rsfRun(stage);
  if (iteration != run.iteration || run.kept.size() != run.directed.size() || run.directed.empty())
    throw Error("stage '" + stage + "': RSF fine-tune of iteration " + std::to_string(iteration) + " before selection");
  // The iteration's numbers: vᵀ r of the kept answers against all, and their lengths.
  std::vector<double> keptValue, allValue, keptLength, allLength;
  for (const DirectedSample &s : run.samples) {
    allValue.push_back(scalarized(s, run.directed[static_cast<size_t>(s.prompt)].angleDeg));
    allLength.push_back(static_cast<double>(s.ids.size()));
  }
  std::vector<data::Example> rows;
  for (size_t p = 0; p < run.kept.size(); ++p) {
    const DirectedSample &s = run.samples[run.kept[p]];
    keptValue.push_back(scalarized(s, run.directed[p].angleDeg));
    keptLength.push_back(static_cast<double>(s.ids.size()));
    data::Example row = run.prompts[static_cast<size_t>(run.promptRows[p])];
    row.prompt = conditionedPrompt(renderDirection(run.direction, directionVector(run.directed[p].angleDeg)),
                                   run.directed[p].prompt);
    row.responses = {s.text};
    rows.push_back(std::move(row));
  }
  nlohmann::json numbers = {{"iteration", iteration},        {"kept_reward", mean(keptValue)},
                            {"all_reward", mean(allValue)},  {"kept_length", mean(keptLength)},
                            {"all_length", mean(allLength)}, {"prompts", run.kept.size()}};
  std::fprintf(stderr, "[%s] RSF iteration %lld: mean vᵀr %.4f kept vs %.4f all; kept length %.1f tokens (all %.1f)\n",
               stage.c_str(), static_cast<long long>(iteration), mean(keptValue), mean(allValue), mean(keptLength),
               mean(allLength));

  // SFT of π_{t−1} on the kept answers, with the stage's objective and schedule.
  StageInputs inputs;
  inputs.name = stage + "/iter_" + std::to_string(iteration);
  inputs.terms = stageTerms(run.spec);
  static_cast<ScheduleSpec &>(inputs.schedule) = run.spec.schedule;
  Tokenizer &tokenizer = impl.tokenizerOf(run.spec.model);
  inputs.padId = data::padIdOf(tokenizer);
  inputs.train = prepareExamples(rows, tokenizer, prepareOptions(inputs.terms, run.spec.schedule, DataKind::sft), nullptr);
  const std::string start = policyBefore(run, iteration);
  inputs.policy = loadCausalLM(start);
  inputs.startCheckpoint = absolutePath(start);
  if (auto file = impl.tokenizerFiles.find(impl.models.at(run.spec.model).tokenizer); file != impl.tokenizerFiles.end())
    inputs.tokenizerFile = file->second;
  if (run.spec.lora.enabled)
    inputs.lora = attachLora(inputs.policy, run.spec.lora, run.spec.schedule.seed + static_cast<uint64_t>(iteration));
  inputs.fingerprint = "stage=" + inputs.name + " rows=" + std::to_string(inputs.train.size()) +
                       " lr=" + std::to_string(run.spec.schedule.lr) + " batch=" + std::to_string(run.spec.schedule.batch) +
                       " seed=" + std::to_string(run.spec.schedule.seed);
  RunOptions options = impl.runOptions();
  options.resume = impl.options.resume && run.phase == "training";
  run.phase = "training";
  writeProgress(run);
  StageResult result = align::rt::runStage(inputs, options, *impl.metrics);
  writeDirectionFile(result.checkpointDir, {run.direction, run.promptTemplate});

  MetricRecord record{stage, "rsf", iteration, {}};
  for (const char *key : {"kept_reward", "all_reward", "kept_length", "all_length"})
    record.values[key] = numbers[key].get<double>();
  impl.metrics->record(record);
  run.byIteration.push_back(numbers);
  run.iteration = iteration + 1;
  run.phase = "start";
  run.samples.clear();
  run.kept.clear();
  writeProgress(run);
}

void Trainer::rsfEnd(const std::string &stage) {
  Impl &impl = *impl_;
  RsfRun &run = impl.rsfRun(stage);
  if (run.iteration != run.rsf.iterations + 1)
    throw Error("stage '" + stage + "': the RSF loop ended in iteration " + std::to_string(run.iteration) + " of " +
                std::to_string(run.rsf.iterations));
  nlohmann::json &out = impl.extraEval[stage];
  out["rsf"] = run.byIteration;
  std::vector<std::string> policies = {run.startCheckpoint};
  for (int64_t t = 1; t <= run.rsf.iterations; ++t)
    policies.push_back(iterationDir(run, t));
  out["policies"] = policies;

  Trainer::Impl::StageRecord record;
  record.spec = run.spec;
  record.checkpointDir = policies.back();
  impl.stages.push_back(record);
  Trainer::Impl::RsfPolicies &kept = impl.rsfPolicies[stage];
  kept.direction = run.direction;
  kept.scorer = run.rsf.scorer;
  kept.scorerOutputs = run.scorerOutputs;
  kept.policies = policies;
  std::fprintf(stderr, "[%s] RSF done: %lld iterations; the stage's policy is %s\n", stage.c_str(),
               static_cast<long long>(run.rsf.iterations), policies.back().c_str());
  impl.rsfRuns.erase(stage);
}

} // namespace align::rt
