//===- TrainerImpl.h - What a generated trainer's Trainer holds -*- C++ -*-===//
//
// The state behind align::rt::Trainer: the command line's options, the recipe's --set overrides, the
// declarations seen so far (tokenizers, model specs, loaded data), the results of the stages already run,
// and the eval metrics to compute for every stage at the end (eval.json). Its methods are defined by concept:
// declarations and settings in Trainer.cpp, a stage in StageSetup.cpp, the eval block in Evaluation.cpp.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "align/rt/Trainer.h"
#include "data/PreparedData.h"
#include "data/RatingTargets.h"
#include "model/UserModel.h"
#include "data/Examples.h"
#include "tokenizer/Tokenizer.h"
#include "model/Llama.h"
#include "objectives/ObjectiveTerms.h"
#include "train/Metrics.h"
#include "train/StageRunner.h"
#include "core/EmRun.h"
#include "core/RsfRun.h"
#include "dist/World.h"

#include <nlohmann/json.hpp>

#include <torch/torch.h>

#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

namespace align::rt {

struct TrainerOptions {
  std::string outDir;
  std::string dataRoot = ".";
  std::string device = "cpu";
  int threads = 0;
  int64_t steps = 0;
  int64_t evalLimit = 0; ///< --eval-limit: > 0 keeps the first N rows of every split evaluated
  bool resume = false;
  std::map<std::string, std::string> sets; ///< --set KEY=VALUE
};

struct Trainer::Impl {
  TrainerOptions options;
  const RecipeInfo *recipe = nullptr;
  torch::Device device = torch::kCPU;
  std::unique_ptr<MetricsLog> metrics;
  /// The processes of a torchrun launch (one process: a World of size 1). Rank 0 writes options.outDir; the
  /// others' outDir is their scratch directory (dist/RankOutput.h).
  std::shared_ptr<dist::World> world = dist::World::single();

  std::map<std::string, std::unique_ptr<Tokenizer>> tokenizers;
  std::map<std::string, std::string> tokenizerFiles; ///< tokenizer name → its tokenizer.json (none for bytes)
  std::map<std::string, ModelSpec> models;
  struct DataEntry {
    DataSpec spec;
    std::unique_ptr<data::LoadedSource> loaded; ///< read on first use
  };
  std::map<std::string, DataEntry> data;
  struct StageRecord {
    StageSpec spec;
    std::string checkpointDir;
    std::map<std::string, std::map<std::string, double>> evaluation; ///< the stage's own held-out sets
    std::set<std::string> trainedUsers; ///< the users of its training rows: other users are "unseen"
  };
  std::vector<StageRecord> stages;
  /// Each regression stage's map from ratings to targets (data/RatingTargets.h), for its held-out evaluation.
  std::map<std::string, RatingTargets> ratingTargetsOf;
  std::vector<EvalSpec> evals;
  std::set<std::string> settingsRead;

  /// The value given with --set for `key`, if any (and remembers that the recipe reads the key).
  const std::string *override(const std::string &key);
  const data::LoadedSource &loadData(const std::string &name);
  /// Reads every declared data source (once): called before the first stage, so a malformed row of a source a
  /// late stage reads stops the run before step 0 rather than after the early stages trained.
  void loadAllData();
  bool allDataLoaded = false;
  const std::vector<data::Example> &split(const std::string &data, const std::string &split);
  /// The first --eval-limit rows of a held-out split (all of them without the option).
  std::vector<data::Example> limitedForEval(const std::vector<data::Example> &rows) const;
  Tokenizer &tokenizerOf(const std::string &model);
  const StageRecord *stageRecord(const std::string &name) const;
  std::string resolvePath(const std::string &path) const;
  /// A frozen reference: an earlier stage's final model, or a model declaration (preset or checkpoint).
  CausalLM referenceModel(const std::string &name, const std::string &location);
  /// Everything a stage needs before its loop runs (StageSetup.cpp); `trainedUsers` gets its rows' users.
  StageInputs prepareStage(const StageSpec &spec, std::set<std::string> &trainedUsers);
  RunOptions runOptions() const;
  void runStage(const StageSpec &spec);
  /// EM over latent types (EmLoop.cpp): one run per stage with `loop em`, between emBegin and emEnd.
  std::map<std::string, std::unique_ptr<EmRun>> emRuns;
  EmRun &emRun(const std::string &stage);
  /// The type policies of each finished EM stage (emEnd): what an aggregate mixes.
  struct TypePolicies {
    StageSpec spec;
    double beta = 0.1;
    std::vector<std::string> checkpoints; ///< OUT/checkpoints/STAGE.typeK
    std::map<std::string, int64_t> typeOf; ///< each training annotator's most probable type (argmax γ)
    std::vector<double> eta;              ///< the last η
  };
  std::map<std::string, TypePolicies> typePolicies;
  /// Direction preferences (DPA), by name; RSF loops (RsfLoop.cpp), one per stage between rsfBegin and rsfEnd.
  std::map<std::string, DirectionSpec> directions;
  std::map<std::string, std::unique_ptr<RsfRun>> rsfRuns;
  RsfRun &rsfRun(const std::string &stage);
  /// The policies of each finished RSF stage (π_0 = its start, then iter_1..T): what `pareto` evaluates.
  struct RsfPolicies {
    DirectionSpec direction;
    std::string scorer;                 ///< the stage whose reward scores the answers
    std::vector<int64_t> scorerOutputs; ///< its head's output of each objective of the direction
    std::vector<std::string> policies;  ///< π_0 .. π_T
  };
  std::map<std::string, RsfPolicies> rsfPolicies;
  /// `pareto` and `generated_length by direction` of an RSF stage (DirectionEvaluation.cpp): pareto's results go
  /// to extraEval and OUT/pareto/, generated length by angle into `table`. Other stages are skipped.
  void evaluateDirections(const StageRecord &stage, const EvalSpec &eval,
                          std::map<std::string, double> &table);
  /// What an aggregate's regret estimate measured beyond its RegretTable (Aggregation.cpp), for mixture.json.
  std::map<std::string, nlohmann::json> regretDetails;
  /// MMRA's regret estimate (RegretEstimate.cpp): each type policy of `types` and each of `others` (checkpoint
  /// directories of single policies) answers the prompts; every type and the reference score every answer.
  struct RegretRequest {
    DataRef prompts;
    int64_t samples = 128, answers = 1, maxNewTokens = 100;
    RegretEstimator estimator = RegretEstimator::implicit;
    std::string where; ///< "LOCATION: aggregate 'fair'", for messages
  };
  struct RegretEstimate {
    std::vector<std::vector<double>> matrix;  ///< [K][K] R[i][j], type i's regret when type j's policy answers
    std::vector<std::vector<double>> others;  ///< [others][K] type i's regret when that policy answers
    nlohmann::json details;                   ///< prompts, log-ratios, mean log-probs, estimator, β
    std::string answersJsonl;                 ///< every sampled answer, one JSON line each
  };
  RegretEstimate estimateRegrets(const TypePolicies &types, const std::vector<std::string> &others,
                                 const std::vector<std::string> &otherNames, const RegretRequest &request);
  /// Results that are not metric tables (EM's η per iteration, type recovery): merged into eval.json.
  nlohmann::json extraEval = nlohmann::json::object();
  /// Computes every registered eval metric for every stage: stage → key → value (or group → value).
  using Evaluation = std::map<std::string, std::map<std::string, std::map<std::string, double>>>;
  Evaluation evaluateAll();
  /// The pair metrics of the EM stages (TypeEvaluation.cpp): each annotator's votes judged by their type's
  /// policy, overall, by type, by group or by user.
  void evaluateTypeStages(Evaluation &out);
};

/// A model as declared (its preset, randomly initialised) or loaded from `checkpointPath` when that is set.
CausalLM buildModel(const ModelSpec &spec, const Tokenizer &tokenizer, const std::string &checkpointPath);
/// The schedule's truncation settings as the tokenizer takes them.
data::TokenizeOptions tokenizeOptions(const ScheduleSpec &schedule);
/// What a stage's terms read of each example (pairs, nll targets, imitation sets, every sequence).
PrepareOptions prepareOptions(const std::vector<ObjectiveTerm> &terms, const ScheduleSpec &schedule, DataKind kind);
/// The runtime's terms of a stage's objective (two for each user-mixing term), range-checked.
std::vector<ObjectiveTerm> stageTerms(const StageSpec &spec);
/// Rows whose user has textual information read it before the prompt (after BOS and the soft tokens):
/// P-RLHF's explicit user information (docs/methods.md §1).
std::vector<data::Example> withUserText(std::vector<data::Example> rows);
/// Gives each example its user's id; returns how many rows belong to users the model does not know.
int64_t assignUserIds(std::vector<PreparedExample> &examples, const UserModel &users);

} // namespace align::rt
