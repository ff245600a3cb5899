//===- EmLoop.cpp - The runtime calls of an emitted EM loop ---------------===//
//
// EM-DPO (docs/methods.md §3). The trainer's C++ holds the loop (the compiler emits it from `loop em`); each
// call here is one step of it:
//   emBegin     prepare the stage once (rows, annotators, folds, the reference's log-probs), start γ
//               (latent/TypeInit.h) or reload it on --resume
//   emMaximize  the M-step of type k: the DPO loss weighted by γ[k, annotator] (× the data's weight column),
//               normalised as the objective's weight_norm says, from the stage's start (`restart`) or from
//               type k's last policy; cross_fit trains on the rows outside the iteration's scoring fold
//   emExpect    the E-step: every annotator's log-likelihood under each type's policy over all of its rows
//               (cross_fit: the scoring fold's), pairwise or Plackett–Luce, then γ and η (latent/Posterior.h)
//   emEnd       η, η per iteration and type recovery into eval.json
// Type k's policy is OUT/checkpoints/STAGE.typeK. Progress goes to OUT/state/STAGE/em.json after every call,
// so --resume continues in the M-step or iteration a killed run was in, with the same γ and η.
//
//===----------------------------------------------------------------------===//

#include "core/TrainerImpl.h"

#include "core/Contract.h"
#include "data/JsonRows.h"
#include "latent/TypeInit.h"
#include "latent/TypeRecovery.h"
#include "model/Checkpoint.h"
#include "model/Lora.h"
#include "objectives/Losses.h"
#include "report/BarChart.h"
#include "support/AtomicWrite.h"
#include "support/Files.h"
#include "train/TrainState.h"
#include "support/NumberList.h"
#include "support/SplitMix64.h"
#include "train/TrainingStep.h"

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <map>
#include <numeric>

namespace align::rt {

namespace {

std::string typeStage(const std::string &stage, int64_t type) { return stage + ".type" + std::to_string(type); }

std::vector<double> valuesOf(const torch::Tensor &t) {
  torch::Tensor c = t.to(torch::kFloat64).contiguous();
  return std::vector<double>(c.data_ptr<double>(), c.data_ptr<double>() + c.numel());
}

/// em.json: the progress and the posterior, exact (doubles round-trip through nlohmann's shortest form).
void writeProgress(const EmRun &run) {
  nlohmann::json j;
  j["iteration"] = run.iteration;
  j["maximized"] = std::vector<int64_t>(run.maximized.begin(), run.maximized.end());
  j["running"] = run.running;
  j["eta_by_iteration"] = run.etaByIteration;
  makeDirectories(run.stateDir);
  writeFileAtomically(joinPath(run.stateDir, "em.json"), j.dump() + "\n");
  writePosterior(joinPath(run.stateDir, "posterior.json"), run.posterior);
}

bool readProgress(EmRun &run) {
  const std::string path = joinPath(run.stateDir, "em.json");
  if (!pathExists(path))
    return false;
  std::ifstream in(path);
  try {
    nlohmann::json j;
    in >> j;
    run.iteration = j.at("iteration").get<int64_t>();
    auto done = j.at("maximized").get<std::vector<int64_t>>();
    run.maximized = std::set<int64_t>(done.begin(), done.end());
    run.running = j.at("running").get<int64_t>();
    run.etaByIteration = j.at("eta_by_iteration").get<std::vector<std::vector<double>>>();
  } catch (const nlohmann::json::exception &e) {
    throw Error(path + ": not an EM progress file: " + e.what());
  }
  LatentPosterior saved = readPosterior(joinPath(run.stateDir, "posterior.json"));
  if (saved.annotators != run.posterior.annotators || saved.types() != run.posterior.types())
    throw Error(path + ": the saved posterior is over other annotators or another number of types than stage '" +
                run.spec.name + "' has now; start a new --out, or run without --resume");
  run.posterior = std::move(saved);
  return true;
}

/// A sequence's prompt (or response) tokens as text: what makes two annotators' comparisons the same one.
std::string tokenKey(const data::TokenizedText &t, bool prompt) {
  std::string out;
  const size_t from = prompt ? 0 : static_cast<size_t>(t.promptLength);
  const size_t to = prompt ? static_cast<size_t>(t.promptLength) : t.ids.size();
  for (size_t i = from; i < to; ++i)
    out += std::to_string(t.ids[i]) + ",";
  return out;
}

/// Each annotator's rows dealt round-robin into `folds` folds after a seeded shuffle, so every annotator with
/// at least `folds` rows has some in each.
std::vector<int> crossFitFolds(const std::vector<int64_t> &column, int64_t annotators, int64_t folds, uint64_t seed) {
  std::vector<std::vector<size_t>> rowsOf(static_cast<size_t>(annotators));
  for (size_t i = 0; i < column.size(); ++i)
    rowsOf[static_cast<size_t>(column[i])].push_back(i);
  std::vector<int> fold(column.size(), 0);
  SplitMix64 rng(seed ^ 0x656d666f6c6473ull); // "emfolds": a stream apart from the batch order's
  for (auto &rows : rowsOf) {
    for (size_t i = rows.size(); i > 1; --i)
      std::swap(rows[i - 1], rows[rng.below(i)]);
    for (size_t i = 0; i < rows.size(); ++i)
      fold[rows[i]] = static_cast<int>(i % static_cast<size_t>(folds));
  }
  return fold;
}

/// `init: clusters(column)`: each annotator's value of `column`, read from the training data's file (every
/// row, whatever the splits), so a label is the annotator's wherever their rows are. An annotator without the
/// column, or with two values, is an error naming FILE:LINE.
std::vector<std::string> clusterLabels(Trainer::Impl &impl, const StageSpec &spec, const std::string &column,
                                       const std::vector<std::string> &annotators) {
  const DataSpec &data = impl.data.at(spec.train.data).spec;
  auto named = [&](const char *field) {
    auto it = data.columns.find(field);
    return it == data.columns.end() ? std::string(field) : it->second;
  };
  const std::string annotatorColumn = named("annotator"), userColumn = named("user");
  std::map<std::string, std::pair<std::string, std::string>> labelOf; // annotator → (label, where)
  for (const data::Row &row : data::readJsonRows(impl.resolvePath(data.path))) {
    const std::string where = row.file + ":" + std::to_string(row.line);
    std::string who;
    for (const std::string &key : {annotatorColumn, userColumn})
      if (row.value.contains(key) && row.value[key].is_string()) {
        who = row.value[key].get<std::string>();
        break;
      }
    if (who.empty())
      continue;
    if (!row.value.contains(column))
      throw Error(where + ": field '" + column + "' is missing; `init: clusters(column: \"" + column +
                  "\")` reads every annotator's starting type from it");
    const nlohmann::json &value = row.value[column];
    const std::string label = value.is_string() ? value.get<std::string>() : value.dump();
    auto [it, fresh] = labelOf.emplace(who, std::make_pair(label, where));
    if (!fresh && it->second.first != label)
      throw Error(where + ": field '" + column + "': annotator '" + who + "' is '" + label + "' here but '" +
                  it->second.first + "' at " + it->second.second + "; a cluster start needs one value per annotator");
  }
  std::vector<std::string> labels;
  for (const std::string &who : annotators) {
    auto it = labelOf.find(who);
    if (it == labelOf.end())
      throw Error(spec.location + ": stage '" + spec.name + "': annotator '" + who + "' has no value of column '" +
                  column + "' for `init: clusters`");
    labels.push_back(it->second.first);
  }
  return labels;
}

} // namespace

EmRun &Trainer::Impl::emRun(const std::string &stage) {
  auto it = emRuns.find(stage);
  if (it == emRuns.end())
    throw Error("stage '" + stage + "': an EM call before emBegin");
  return *it->second;
}

int64_t Trainer::emBegin(const StageSpec &spec, const LatentSpec &latent) {
  impl_->loadAllData();
  Impl &impl = *impl_;
  if (spec.objective.size() != 1 || spec.objective[0].kind != LossKind::em_dpo)
    throw Error(spec.location + ": stage '" + spec.name + "': `loop em` trains exactly one em_dpo objective");
  if (latent.types < 1 || latent.iterations < 1 || latent.folds < 2)
    throw Error(spec.location + ": stage '" + spec.name + "': loop em needs types >= 1, iterations >= 1, folds >= 2");
  if (latent.restart && spec.initFrom.empty())
    throw Error(spec.location + ": stage '" + spec.name + "': `restart: true` restarts from `init from`, and the stage has none");
  const TermSpec &term = spec.objective[0];
  checkTerm(term, spec.location + ": stage '" + spec.name + "'");
  auto run = std::make_unique<EmRun>();
  run->spec = spec;
  run->latent = latent;
  run->beta = term.as<EmDpoParams>().beta;
  run->typeLora = spec.lora;
  if (latent.policies == TypePolicies::full && spec.lora.enabled)
    throw Error(spec.location + ": stage '" + spec.name +
                "': `policies: full` trains full copies of the weights, but the policy carries a LoRA adapter");
  run->typeLora.enabled = latent.policies == TypePolicies::lora;
  run->stateDir = joinPath(joinPath(impl.options.outDir, "state"), spec.name);

  std::set<std::string> trainedUsers;
  run->base = impl.prepareStage(spec, trainedUsers);
  if (!run->base.reference)
    throw Error(spec.location + ": stage '" + spec.name + "': em_dpo needs a frozen reference");
  // The M-step's objective: DPO, each pair weighted by γ (set per type) and normalised as the term says.
  TermSpec mStep(DpoParams{run->beta, 0.0}, term.weight, true, term.weightNorm);
  run->base.terms = expandTerm(mStep);

  // Annotators: the `annotator` column, else `user` (Sema allows either).
  std::map<std::string, int64_t> columnOf;
  for (const PreparedExample &e : run->base.train) {
    const std::string &who = e.annotator.empty() ? e.user : e.annotator;
    if (who.empty())
      throw Error(spec.location + ": stage '" + spec.name + "': a training row of " + spec.train.data + "." +
                  spec.train.split + " has no annotator; EM needs one on every row");
    columnOf.emplace(who, 0);
  }
  std::vector<std::string> annotators;
  for (auto &[who, index] : columnOf)
    index = static_cast<int64_t>(annotators.size()), annotators.push_back(who);
  for (const PreparedExample &e : run->base.train) {
    run->column.push_back(columnOf.at(e.annotator.empty() ? e.user : e.annotator));
    run->dataWeights.push_back(term.exampleWeights ? e.weight : 1.0);
  }
  run->fold = crossFitFolds(run->column, static_cast<int64_t>(annotators.size()), latent.folds, spec.schedule.seed);

  switch (latent.init) {
  case LatentInit::dirichlet:
    run->posterior = dirichletInit(latent.types, annotators, latent.alpha, latent.seed);
    break;
  case LatentInit::agreement: {
    std::vector<AnnotatorVote> votes;
    for (size_t i = 0; i < run->base.train.size(); ++i) {
      const PreparedExample &e = run->base.train[i];
      for (auto [better, worse] : e.pairs)
        votes.push_back(voteFor(run->column[i], tokenKey(e.sequences[0], true),
                                tokenKey(e.sequences[static_cast<size_t>(better)], false),
                                tokenKey(e.sequences[static_cast<size_t>(worse)], false)));
    }
    run->posterior = agreementInit(latent.types, annotators, votes, latent.seed);
    break;
  }
  case LatentInit::clusters:
    run->posterior = clustersInit(latent.types, annotators, clusterLabels(impl, spec, latent.column, annotators));
    break;
  }

  // With `policies: lora` each type's policy is its own adapter on the shared start: every M-step attaches
  // fresh adapters to the model it starts from (emMaximize), so any the base carries are dropped here.
  run->base.lora = nullptr;
  // Every M-step starts from one fixed model; a preset without `init from` has no checkpoint, so write it.
  if (run->base.startCheckpoint.empty()) {
    run->base.startCheckpoint = absolutePath(joinPath(run->stateDir, "start"));
    saveCausalLM(run->base.policy, run->base.startCheckpoint);
  }

  // The frozen reference scores every row once; every M-step and E-step reads these.
  precomputeReference(run->base, run->base.train, impl.device, nullptr, impl.world.get());
  run->base.schedule.reference = ReferenceStrategy::precompute;
  // Each M-step loads its own start and each E-step one type's policy at a time, so memory holds one policy
  // (and the reference) whatever K is: the prepared copy is not kept.
  run->base.policy = CausalLM{nullptr};

  const bool resumed = impl.options.resume && readProgress(*run);
  std::fprintf(stderr, "[%s] EM over %lld latent types: %zu annotators, %zu rows%s; %s\n", spec.name.c_str(),
               static_cast<long long>(latent.types), annotators.size(), run->base.train.size(),
               latent.eStep == EStepKind::cross_fit ? (", cross-fit over " + std::to_string(latent.folds) + " folds").c_str()
                                                    : "",
               resumed ? ("resuming at iteration " + std::to_string(run->iteration)).c_str()
                       : ("η starts at " + numberList(valuesOf(run->posterior.eta), "%.4f")).c_str());
  if (!resumed)
    writeProgress(*run);
  const int64_t first = run->iteration;
  impl.emRuns[spec.name] = std::move(run);
  return first;
}

void Trainer::emMaximize(const std::string &stage, int64_t iteration, int64_t type) {
  Impl &impl = *impl_;
  EmRun &run = impl.emRun(stage);
  if (iteration != run.iteration || type < 0 || type >= run.latent.types)
    throw Error("stage '" + stage + "': M-step (" + std::to_string(iteration) + ", " + std::to_string(type) +
                ") out of order; EM is in iteration " + std::to_string(run.iteration));
  const std::string name = typeStage(stage, type);
  const std::string checkpoint = joinPath(joinPath(impl.options.outDir, "checkpoints"), name);
  if (run.maximized.count(type))
    return; // finished before a resume: its checkpoint is type k's policy

  StageInputs inputs = run.base; // rows copied: each M-step gives them its own weights
  inputs.name = name;
  const int scoring = static_cast<int>(iteration % run.latent.folds);
  std::vector<PreparedExample> rows;
  for (size_t i = 0; i < inputs.train.size(); ++i) {
    if (run.latent.eStep == EStepKind::cross_fit && run.fold[i] == scoring)
      continue; // scored by this iteration's E-step, so not trained on
    PreparedExample e = std::move(inputs.train[i]);
    e.weight = run.posterior.gamma[type][run.column[i]].item<double>() * run.dataWeights[i];
    e.index = static_cast<int64_t>(rows.size());
    rows.push_back(std::move(e));
  }
  inputs.train = std::move(rows);
  inputs.evalSets.clear(); // the E-step measures the types; held-out sets are the eval block's
  const bool warm = !run.latent.restart && iteration > 0;
  const std::string start = warm ? checkpoint : inputs.startCheckpoint;
  inputs.policy = loadCausalLM(start);
  inputs.startCheckpoint = absolutePath(start);
  if (run.typeLora.enabled) // type k's adapters, seeded apart from the other types'; saved beside its merged policy
    inputs.lora = attachLora(inputs.policy, run.typeLora, run.spec.schedule.seed + 7919 * static_cast<uint64_t>(type + 1));
  inputs.fingerprint = run.base.fingerprint +
                       (run.typeLora.enabled ? " em_lora_r=" + std::to_string(run.typeLora.rank) : " em_full") +
                       " em_type=" + std::to_string(type) +
                       " em_iteration=" + std::to_string(iteration);

  RunOptions options = impl.runOptions();
  // Only the M-step a killed run was in continues from its state; any other state is an earlier iteration's.
  options.resume = impl.options.resume && run.running == type;
  if (!options.resume)
    removeTrainState(joinPath(joinPath(impl.options.outDir, "state"), name));
  run.running = type;
  writeProgress(run);
  std::fprintf(stderr, "[%s] EM iteration %lld, M-step of type %lld: %zu rows, mean γ %.4f%s\n", stage.c_str(),
               static_cast<long long>(iteration), static_cast<long long>(type), inputs.train.size(),
               run.posterior.gamma[type].mean().item<double>(), warm ? ", warm start" : "");
  align::rt::runStage(inputs, options, *impl.metrics);
  run.maximized.insert(type);
  run.running = -1;
  writeProgress(run);
}

void Trainer::emExpect(const std::string &stage, int64_t iteration) {
  Impl &impl = *impl_;
  EmRun &run = impl.emRun(stage);
  if (iteration != run.iteration || static_cast<int64_t>(run.maximized.size()) != run.latent.types)
    throw Error("stage '" + stage + "': the E-step of iteration " + std::to_string(iteration) +
                " before every type's M-step");
  const int scoring = static_cast<int>(iteration % run.latent.folds);
  std::vector<size_t> scored;
  for (size_t i = 0; i < run.base.train.size(); ++i)
    if (run.latent.eStep == EStepKind::full || run.fold[i] == scoring)
      scored.push_back(i);
  const int64_t annotators = static_cast<int64_t>(run.posterior.annotators.size());
  torch::Tensor loglik = torch::zeros({run.latent.types, annotators}, torch::kFloat64);
  auto ll = loglik.accessor<double, 2>();
  for (int64_t k = 0; k < run.latent.types; ++k) {
    // Type k's policy scores the rows: its log-probs in the `referenceLogps` slot of a scorer's copy.
    StageInputs scorer;
    scorer.schedule = run.base.schedule;
    scorer.padId = run.base.padId;
    scorer.reference =
        loadCausalLM(joinPath(joinPath(impl.options.outDir, "checkpoints"), typeStage(stage, k)));
    scorer.reference->to(impl.device);
    scorer.reference->eval();
    std::vector<PreparedExample> rows;
    for (size_t i : scored)
      rows.push_back(run.base.train[i]);
    precomputeReference(scorer, rows, impl.device, nullptr, impl.world.get()); // the E-step, sharded over ranks
    for (size_t r = 0; r < rows.size(); ++r) {
      const PreparedExample &mine = rows[r], &base = run.base.train[scored[r]];
      const size_t n = mine.sequences.size();
      // The type's implicit reward of each response: β·(log π_k − log π_ref).
      std::vector<double> reward(n);
      for (size_t s = 0; s < n; ++s)
        reward[s] = run.beta * (mine.referenceLogps[s] - base.referenceLogps[s]);
      double value = 0;
      if (run.latent.likelihood == RankingLikelihood::plackett_luce && !base.scores.empty()) {
        std::vector<size_t> order(n);
        std::iota(order.begin(), order.end(), 0);
        std::stable_sort(order.begin(), order.end(),
                         [&](size_t a, size_t b) { return base.scores[a] > base.scores[b]; });
        std::vector<double> ranked;
        for (size_t s : order)
          ranked.push_back(reward[s]);
        value = plackettLuceLogLikelihood(torch::tensor(ranked, torch::kFloat64).unsqueeze(0),
                                          torch::ones({1, static_cast<int64_t>(n)}, torch::kBool))
                    .item<double>();
      } else {
        for (auto [better, worse] : base.pairs)
          value += -bradleyTerryLoss(torch::tensor({reward[static_cast<size_t>(better)]}, torch::kFloat64),
                                     torch::tensor({reward[static_cast<size_t>(worse)]}, torch::kFloat64))
                        .item<double>();
      }
      ll[k][run.column[scored[r]]] += value;
    }
  }
  run.posterior = eStep(run.posterior, loglik);
  const std::vector<double> eta = valuesOf(run.posterior.eta);
  run.etaByIteration.push_back(eta);
  MetricRecord record{stage, "em", iteration + 1, {}};
  for (size_t k = 0; k < eta.size(); ++k)
    record.values["eta_" + std::to_string(k)] = eta[k];
  record.values["loglik"] = loglik.mul(run.posterior.gamma).sum().item<double>();
  impl.metrics->record(record);
  std::fprintf(stderr, "[%s] EM iteration %lld, E-step on %zu rows: η = %s\n", stage.c_str(),
               static_cast<long long>(iteration), scored.size(), numberList(eta, "%.4f").c_str());
  run.iteration = iteration + 1;
  run.maximized.clear();
  writeProgress(run);
}

void Trainer::emEnd(const std::string &stage) {
  Impl &impl = *impl_;
  EmRun &run = impl.emRun(stage);
  nlohmann::json &out = impl.extraEval[stage];
  out["eta"] = valuesOf(run.posterior.eta);
  out["eta_by_iteration"] = run.etaByIteration;
  std::vector<std::string> policies;
  for (int64_t k = 0; k < run.latent.types; ++k)
    policies.push_back(joinPath(joinPath(impl.options.outDir, "checkpoints"), typeStage(stage, k)));
  out["policies"] = policies;
  // The picture: η of each type after every iteration (OUT/STAGE_eta.svg).
  std::vector<std::string> iterations;
  BarSeries shares(static_cast<size_t>(run.latent.types));
  for (size_t i = 0; i < run.etaByIteration.size(); ++i) {
    iterations.push_back("iteration " + std::to_string(i + 1));
    for (size_t k = 0; k < shares.size(); ++k) {
      shares[k].first = "type " + std::to_string(k);
      shares[k].second.push_back(run.etaByIteration[i][k]);
    }
  }
  writeBarChart(joinPath(impl.options.outDir, stage + "_eta.svg"), "η per EM iteration (" + stage + ")", "η",
                iterations, shares);
  Trainer::Impl::TypePolicies &record = impl.typePolicies[stage];
  record = {run.spec, run.beta, policies, {}, valuesOf(run.posterior.eta)};
  torch::Tensor hardTypes = run.posterior.hardTypes();
  for (size_t h = 0; h < run.posterior.annotators.size(); ++h)
    record.typeOf[run.posterior.annotators[h]] = hardTypes[static_cast<int64_t>(h)].item<int64_t>();
  // Type recovery, where the data names each annotator's true type (one per annotator: the first row's).
  std::map<int64_t, std::string> truthOf;
  for (size_t i = 0; i < run.base.train.size(); ++i)
    if (!run.base.train[i].trueType.empty())
      truthOf.emplace(run.column[i], run.base.train[i].trueType);
  if (!truthOf.empty()) {
    std::map<std::string, int64_t> label;
    for (const auto &[column, name] : truthOf)
      label.emplace(name, 0);
    int64_t next = 0;
    for (auto &[name, index] : label)
      index = next++;
    torch::Tensor hard = run.posterior.hardTypes();
    std::vector<int64_t> predicted, truth;
    for (const auto &[column, name] : truthOf)
      predicted.push_back(hard[column].item<int64_t>()), truth.push_back(label.at(name));
    TypeRecovery recovery = typeRecovery(predicted, truth);
    out["type_recovery"] = {{"accuracy", recovery.accuracy}, {"ari", recovery.ari}, {"annotators", truth.size()}};
    std::fprintf(stderr, "[%s] type recovery over %zu annotators: accuracy %.3f, ARI %.3f\n", stage.c_str(),
                 truth.size(), recovery.accuracy, recovery.ari);
  }
  impl.emRuns.erase(stage);
}

} // namespace align::rt
