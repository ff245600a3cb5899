//===- Trainer.h - The contract between generated trainers and the runtime -*- C++ -*-===//
//
// What a generated trainer program calls, and all it includes: plain, typed specs filled from the recipe
// (the compiler's schedule decisions included), handed to a Trainer in the recipe's order. No torch header is
// included here, so a trainer compiles in about a second.
//
// Every closed set is an enum and every objective's parameters a struct, expanded from the registry
// (registry/include/align/registry/*.def): a value the runtime does not know cannot be written, and an
// objective the runtime does not execute has a parameter struct that a TermSpec refuses at compile time.
// Values the recipe names are read through Trainer::number & co., so that `--set KEY=VALUE` can replace them.
// Errors are align::rt::Error.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "align/rt/Error.h"

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <type_traits>
#include <variant>
#include <vector>

namespace align::rt {

#define ALIGN_RT_IF_YES(...) __VA_ARGS__
#define ALIGN_RT_IF_NO(...)
#define ALIGN_RT_TYPE_Number double
#define ALIGN_RT_TYPE_Int int64_t
#define ALIGN_RT_TYPE_Bool bool
#define ALIGN_RT_TYPE_Ref std::string
#define ALIGN_RT_BOOL_YES true
#define ALIGN_RT_BOOL_NO false
#define ALIGN_RT_FIELD(type, name, def) ALIGN_RT_TYPE_##type name = def;

//===----------------------------------------------------------------------===//
// Closed sets (registry Enums.def): OptimizerKind, LRScheduleKind, Precision, Activations, Truncation, ReferenceStrategy, ShardStrategy,
// SplitKind, Pooling, By, DataKind, ModelFamily, Preset, UserModelKind, UsersInit, Unseen, OnError,
// WeightNorm, RankingLikelihood, EStepKind, TypePolicies, DirectionSampling, LatentInit, AggregateKind, RegretEstimator.
//===----------------------------------------------------------------------===//

#define ALIGN_ENUM(Type, word, doc) enum class Type {
#define ALIGN_CASE(Type, Member, text, run) Member,
#define ALIGN_ENUM_END(Type) };
#include "align/registry/Enums.def"
#undef ALIGN_ENUM
#undef ALIGN_CASE
#undef ALIGN_ENUM_END

/// The recipe's word for a member ("auto" for Precision::automatic).
#define ALIGN_ENUM(Type, word, doc)                                                                            \
  inline const char *spelling(Type value) {                                                                    \
    switch (value) {
#define ALIGN_CASE(Type, Member, text, run)                                                                    \
  case Type::Member:                                                                                           \
    return text;
#define ALIGN_ENUM_END(Type)                                                                                   \
  }                                                                                                            \
  return "?";                                                                                                  \
  }
#include "align/registry/Enums.def"
#undef ALIGN_ENUM
#undef ALIGN_CASE
#undef ALIGN_ENUM_END

/// The member spelled `text`; false (and `value` untouched) for a word the set lacks.
#define ALIGN_ENUM(Type, word, doc) inline bool parse(const std::string &text, Type &value) {
#define ALIGN_CASE(Type, Member, spelled, run)                                                                 \
  if (text == spelled)                                                                                         \
    return value = Type::Member, true;
#define ALIGN_ENUM_END(Type)                                                                                   \
  return false;                                                                                                \
  }
#include "align/registry/Enums.def"
#undef ALIGN_ENUM
#undef ALIGN_CASE
#undef ALIGN_ENUM_END

//===----------------------------------------------------------------------===//
// Objectives (registry Objectives.def): LossKind, and one parameter struct per objective.
//===----------------------------------------------------------------------===//

#define ALIGN_OBJECTIVE(Id, name, run, target, traits, sources, doc) name,
#define ALIGN_PARAM(...)
#define ALIGN_OBJECTIVE_END(Id)
enum class LossKind {
#include "align/registry/Objectives.def"
};
#undef ALIGN_OBJECTIVE
#undef ALIGN_PARAM
#undef ALIGN_OBJECTIVE_END

#define ALIGN_OBJECTIVE(Id, name, run, target, traits, sources, doc)                                           \
  case LossKind::name:                                                                                         \
    return #name;
#define ALIGN_PARAM(...)
#define ALIGN_OBJECTIVE_END(Id)
/// The recipe's word for an objective.
inline const char *spelling(LossKind value) {
  switch (value) {
#include "align/registry/Objectives.def"
  }
  return "?";
}
#undef ALIGN_OBJECTIVE
#undef ALIGN_PARAM
#undef ALIGN_OBJECTIVE_END

// `struct DpoParams { static constexpr LossKind kind = LossKind::dpo; ...; double beta = 0.1; ... };`. Only
// the parameters the runtime executes are fields; the others it does only at their default.
#define ALIGN_OBJECTIVE(Id, name, run, target, traits, sources, doc)                                           \
  struct Id##Params {                                                                                          \
    static constexpr LossKind kind = LossKind::name;                                                           \
    static constexpr bool executed = ALIGN_RT_BOOL_##run;
#define ALIGN_PARAM(Id, name, type, detail, presence, def, range, run, doc) ALIGN_RT_IF_##run(ALIGN_RT_FIELD(type, name, def))
#define ALIGN_OBJECTIVE_END(Id) };
#include "align/registry/Objectives.def"
#undef ALIGN_OBJECTIVE
#undef ALIGN_OBJECTIVE_END

/// The parameters of an executed objective.
#define ALIGN_OBJECTIVE(Id, name, run, target, traits, sources, doc) ALIGN_RT_IF_##run(, Id##Params)
#define ALIGN_OBJECTIVE_END(Id)
#undef ALIGN_PARAM
#define ALIGN_PARAM(...)
using ObjectiveParams = std::variant<std::monostate
#include "align/registry/Objectives.def"
                                     >;
#undef ALIGN_OBJECTIVE
#undef ALIGN_PARAM
#undef ALIGN_OBJECTIVE_END

/// One term of a stage's objective: its parameters (which say the objective), its coefficient in the sum,
/// whether each example's loss is multiplied by the data's `weight` column, and how a weighted term's
/// Σ w·ℓ over the batch is normalised (by Σ w, or by the number of units).
struct TermSpec {
  LossKind kind = LossKind::nll;
  double weight = 1.0;
  bool exampleWeights = false;
  WeightNorm weightNorm = WeightNorm::sum;
  ObjectiveParams params;

  TermSpec() = default;
  template <class P>
  TermSpec(const P &p, double weight = 1.0, bool exampleWeights = false, WeightNorm weightNorm = WeightNorm::sum)
      : kind(P::kind), weight(weight), exampleWeights(exampleWeights), weightNorm(weightNorm), params(p) {
    static_assert(P::executed, "this objective is not executed by the runtime yet");
  }
  /// The parameters as the struct of `kind` (an Error if they are another objective's).
  template <class P> const P &as() const {
    if (const P *p = std::get_if<P>(&params))
      return *p;
    throw Error(std::string("objective '") + spelling(kind) + "' read with another objective's parameters");
  }
};

//===----------------------------------------------------------------------===//
// Metrics (registry Metrics.def): MetricKind, and one parameter struct per metric.
//===----------------------------------------------------------------------===//

#define ALIGN_METRIC(Id, name, run, by, traits, doc) name,
#define ALIGN_PARAM(...)
#define ALIGN_METRIC_END(Id)
enum class MetricKind {
#include "align/registry/Metrics.def"
};
#undef ALIGN_METRIC
#undef ALIGN_PARAM
#undef ALIGN_METRIC_END

#define ALIGN_METRIC(Id, name, run, by, traits, doc)                                                           \
  case MetricKind::name:                                                                                       \
    return #name;
#define ALIGN_PARAM(...)
#define ALIGN_METRIC_END(Id)
/// The recipe's word for a metric.
inline const char *spelling(MetricKind value) {
  switch (value) {
#include "align/registry/Metrics.def"
  }
  return "?";
}
#undef ALIGN_METRIC
#undef ALIGN_PARAM
#undef ALIGN_METRIC_END

#define ALIGN_METRIC(Id, name, run, by, traits, doc)                                                           \
  struct Id##Params {                                                                                          \
    static constexpr MetricKind kind = MetricKind::name;                                                       \
    static constexpr bool executed = ALIGN_RT_BOOL_##run;
#define ALIGN_PARAM(Id, name, type, detail, presence, def, range, run, doc) ALIGN_RT_IF_##run(ALIGN_RT_FIELD(type, name, def))
#define ALIGN_METRIC_END(Id) };
#include "align/registry/Metrics.def"
#undef ALIGN_METRIC
#undef ALIGN_METRIC_END

#define ALIGN_METRIC(Id, name, run, by, traits, doc) ALIGN_RT_IF_##run(, Id##Params)
#define ALIGN_METRIC_END(Id)
#undef ALIGN_PARAM
#define ALIGN_PARAM(...)
using MetricParams = std::variant<std::monostate
#include "align/registry/Metrics.def"
                                  >;
#undef ALIGN_METRIC
#undef ALIGN_PARAM
#undef ALIGN_METRIC_END

//===----------------------------------------------------------------------===//
// Declarations and stages
//===----------------------------------------------------------------------===//

/// A value the recipe names, with its default as text and the recipe position it comes from.
/// The range a numeric setting must lie in: the schema's, so that `--set` is checked as the recipe value was.
struct SettingRange {
  bool hasMin = false, minOpen = false, hasMax = false, maxOpen = false;
  double min = 0, max = 0;
};

/// What the trainer reads a setting as (Trainer::number, integer, text, flag, choice): every `--set` is checked
/// as such before stage 0, not when its stage reaches it.
enum class SettingKind { text, number, integer, flag, choice };

struct Setting {
  std::string key;                       ///< e.g. "align.schedule.lr", "hh.path"
  std::string value;                     ///< the recipe's value, as text
  std::string location;                  ///< file:line:col in the recipe
  SettingKind kind = SettingKind::text;
  std::string choices{};                 ///< a choice: its closed set's C++ type (registry Enums.def), e.g. "Preset"
  SettingRange range{};                  ///< numbers and integers: what --set must respect (none: any)
};

/// A split of a data declaration: `hh.eval`.
struct DataRef {
  std::string data;
  std::string split = "train";
};

struct ModelSpec {
  ModelFamily family = ModelFamily::llama;
  Preset preset = Preset::tiny; ///< used when `checkpoint` is empty
  std::string checkpoint;       ///< a Hugging Face directory (relative paths: against the data root)
  std::string tokenizer;        ///< the tokenizer declaration's name
  uint64_t seed = 0;
};

struct SplitRule {
  std::string name;
  SplitKind kind = SplitKind::percent;
  double fraction = 0;    ///< percent: 0..1
  std::string by;         ///< percent: a column field kept whole across splits ("", user, annotator, domain, group)
  std::string column;     ///< where
  std::string equalsJson; ///< where: the value as JSON ("false", "3", "\"long\"")
  std::string path;       ///< file
};

struct DataSpec {
  DataKind kind = DataKind::pairwise;
  std::string path; ///< relative to --data-root unless absolute
  /// field → column (prompt, chosen, user, …) for the fields the recipe names; a field it does not name reads
  /// the kind's default column, and a pairwise row without a prompt column has TRL's implicit prompt.
  std::map<std::string, std::string> columns;
  std::vector<std::string> ratings;
  std::string preferred;
  std::vector<std::string> against;
  std::optional<std::string> templateText; ///< escapes \\ \{ \} still written
  OnError onError = OnError::error;
  int64_t limit = -1;
  uint64_t shuffleSeed = 0;
  std::vector<SplitRule> splits;
};

/// A choice alignc's cost model made for a schedule value the recipe left to it (compiler/passes/CostModel.h),
/// printed when the stage starts: the value's `--set` key, what was chosen, and why.
struct PlanDecision {
  std::string setting; ///< e.g. "sft.schedule.precision"
  std::string value;   ///< the recipe's spelling of the choice
  std::string reason;
  int64_t hidden = 0;  ///< the model's hidden size the choice was made for (0: unknown to the compiler)
};

struct ScheduleSpec {
  OptimizerKind optimizer = OptimizerKind::adamw;
  double lr = 1e-5, beta1 = 0.9, beta2 = 0.999, eps = 1e-8, weightDecay = 0, alpha = 0.99, momentum = 0;
  LRScheduleKind lrSchedule = LRScheduleKind::cosine;
  double lrFinal = 0;
  int64_t warmup = 0, batch = 8, microBatch = 0, steps = 0; ///< steps > 0 replaces epochs
  double epochs = 1;
  Precision precision = Precision::automatic;
  int64_t maxLength = 512, maxPromptLength = 0; ///< 0: half of maxLength
  Truncation truncation = Truncation::right;    ///< which end of the prompt is cut
  ReferenceStrategy reference = ReferenceStrategy::none;
  ShardStrategy shard = ShardStrategy::none; ///< optimizer: ZeRO-1 under torchrun (dist/OptimizerShard.h)
  Activations activations = Activations::keep; ///< recompute: layers run again in backward (model/ActivationRecompute.h)
  double clip = 1;
  uint64_t seed = 42;
  bool shuffle = true; ///< reshuffle the training rows every epoch; false: batches in data order
  std::vector<PlanDecision> plan; ///< the cost model's choices for this schedule, with their reasons
  int64_t logEvery = 10, evalEverySteps = 0, checkpointEverySteps = 0;
  double evalEverySeconds = 0, checkpointEverySeconds = 0, timeLimitSeconds = 0;
  // The step's decisions, as the passes record them on its ops (compiler/emit/StageEmission.cpp).
  bool fusedLogprobs = true;  ///< train.sequence_logprobs fused: the LM head in vocabulary chunks
  int64_t logprobChunk = 1024; ///< its chunk
  bool concatPairs = true;    ///< train.forward concat_pairs; false: a pairwise objective's chosen and
                              ///< rejected responses go through two decoder passes
  bool sharedPrefix = true;   ///< train.forward shared_prefix: in a pass over all of an example's sequences,
                              ///< the tokens they begin with (the prompt) are decoded once
};

struct LoraSpec {
  bool enabled = false;
  int64_t rank = 8;
  double alpha = 16, dropout = 0.05;
  std::vector<std::string> targets = {"q_proj", "v_proj"};
};

/// A P-RLHF user model (docs/methods.md §1): T soft tokens inserted after BOS, one set per user. Ids come from
/// the training data's user column in order of first appearance (1..N); id 0 is the generic user, which users
/// not seen in training are routed to.
struct UserModelSpec {
  bool enabled = false;
  std::string name;                          ///< the users declaration
  UserModelKind kind = UserModelKind::individual; ///< individual: e_i = e_0 + o_i (or o_i); cluster: Σ_k softmax(W_i)_k C_k
  int64_t tokens = 1;                        ///< T_u
  bool generic = true;                       ///< individual: add the generic embedding e_0 to each user's offset
  int64_t clusters = 5;                      ///< cluster: K
  UsersInit init = UsersInit::vocab;         ///< vocab: copies of token-embedding rows; uniform: U(-range, range)
  uint64_t initSeed = 123;
  int64_t initCommon = 0;                    ///< vocab: draw only from the first N token ids (0: all)
  double initRange = 0.5;
  double weightLr = 0;                       ///< cluster: W's peak lr on the stage's schedule (0: the stage's)
  double weightStd = 1;                      ///< cluster: W starts N(0, weightStd²) (1: the authors')
  Unseen unseen = Unseen::generic;           ///< error: a user not seen in training is an error
  /// `text: "column"`: the user's textual information, read after the soft tokens as
  /// "User textual information: TEXT\n" before the prompt — not on the generic duplicates. "" for none.
  std::string textColumn;
};

struct StageSpec {
  std::string name;
  std::string initFrom;              ///< an earlier stage whose result the model starts from
  std::string model;                 ///< the model declaration trained
  bool rewardModel = false;          ///< train a reward head on it
  Pooling pooling = Pooling::last;   ///< reward head pooling
  int64_t rewardOutputs = 1;         ///< reward head outputs (regression: one per objective)
  std::vector<std::string> rewardObjectives; ///< a regression head's objectives, in output order
  std::string reference;             ///< frozen reference: a model declaration or an earlier stage; "" none
  DataRef train;                     ///< the training rows
  std::vector<DataRef> alsoOn;       ///< more training rows, concatenated after `train`
  std::vector<TermSpec> objective;
  ScheduleSpec schedule;
  LoraSpec lora;
  UserModelSpec users;               ///< soft-prompt user tokens on the trained policy
  /// Train every row of a user i != 0 a second time as the generic user (id 0): the P-DPO family's
  /// duplication, decided by the compiler (pass duplicate-generic-rows).
  bool genericDuplicates = false;
  std::string location;              ///< file:line:col of the stage, for messages
};

/// `loop em` over a `latent` preference (docs/methods.md §3): the settings the emitted EM loop hands to the
/// runtime. The stage's objective is one `em_dpo` term; the loop itself is the trainer's C++:
///   for (i = t.emBegin(spec, latent); i < latent.iterations; ++i) {
///     for (k = 0; k < latent.types; ++k) t.emMaximize(name, i, k);   // γ[k]-weighted DPO of type k
///     t.emExpect(name, i);                                           // E-step: γ, η
///   }
///   t.emEnd(name);
struct LatentSpec {
  int64_t types = 1;                                          ///< K
  RankingLikelihood likelihood = RankingLikelihood::pairwise; ///< how the E-step scores a ranking
  LatentInit init = LatentInit::dirichlet;                    ///< the first posterior
  double alpha = 1.0;                                         ///< dirichlet(alpha)
  uint64_t seed = 0;                                          ///< dirichlet / agreement seed
  std::string column; ///< clusters: the data column whose value is each annotator's starting type
  int64_t iterations = 5;
  bool restart = true;          ///< each M-step restarts from the stage's initFrom (the authors')
  EStepKind eStep = EStepKind::full;
  int64_t folds = 2;            ///< cross_fit: each annotator's votes dealt into this many folds
  /// lora: each type's policy is its own adapter (the stage's `lora` settings) on the shared start; full: copies
  TypePolicies policies = TypePolicies::lora;
};

/// `preference NAME = direction(...)` (DPA, docs/methods.md §4): a user's preference as a unit vector
/// v = (cos θ, sin θ) over two objectives of a multi-objective regression reward, θ in degrees from the first.
/// `render` is the system prompt's template: `{weight.NAME}` becomes round(scale · v_NAME), written as an
/// integer (a negative one literally, "verbosity*-26").
struct DirectionSpec {
  std::string name;
  std::vector<std::string> objectives; ///< two names the reward produces; the first is θ = 0
  std::vector<std::string> rewardObjectives; ///< every output of the reward's head, in order
  double angleLow = -45, angleHigh = 45;
  DirectionSampling sample = DirectionSampling::uniform;
  int64_t grid = 9;      ///< `sample: grid`: this many evenly spaced angles, ends included
  std::string render;    ///< the template, escapes \\ \{ \} still written
  int64_t scale = 100;
};

/// `loop rsf` (DPA's preference-conditioned rejection-sampling fine-tuning, docs/methods.md §4.3): the
/// settings the emitted RSF loop hands to the runtime. The loop is the trainer's C++; iteration t makes π_t
/// from π_{t−1} (π_0: the stage's start):
///   for (i = t.rsfBegin(spec, rsf); i <= rsf.iterations; ++i) {
///     t.rsfGenerate(name, i);  // a direction per prompt; `samples` responses each, conditioned on system(v)
///     t.rsfScore(name, i);     // the scorer's objective vector r(x, y) of every response
///     t.rsfSelect(name, i);    // y* = argmax_j vᵀ r(x, y_j), ties to the lowest j
///     t.rsfFineTune(name, i);  // SFT on (system(v), x, y*) → OUT/checkpoints/STAGE/iter_i
///   }
///   t.rsfEnd(name);
struct RsfSpec {
  int64_t iterations = 4;
  int64_t samples = 8;             ///< n responses per prompt
  DataRef prompts;
  int64_t promptsPerIteration = 0; ///< 0: every prompt each iteration
  std::string directions;          ///< a DirectionSpec declared with Trainer::direction
  std::string scorer;              ///< the stage that trained the multi-objective regression reward
  double temperature = 0.7, topP = 1.0;
  int64_t maxNewTokens = 256;
};

/// `aggregate NAME = minmax_regret | mean | weighted (...)` (docs/methods.md §3.5–3.6): one policy from the K
/// type policies of a stage with `loop em`, the mixture π_w = Σ_k w_k π_k (each prompt answered by policy k
/// with probability w_k). The emitted trainer calls
///   RegretTable regret = t.regretTable(spec);  // minmax_regret: each policy answers the prompts, every type scores
///   t.mixture(spec, regret);                   // the weights (optimistic Hedge, or fixed) → mixture.json, eval.json
struct AggregateSpec {
  std::string name;
  AggregateKind kind = AggregateKind::minmax_regret;
  std::string policies;  ///< the EM stage
  DataRef prompts;       ///< minmax_regret: where the prompts come from
  int64_t samples = 128; ///< the first `samples` distinct prompts
  int64_t answers = 1;   ///< answers sampled per prompt and policy (the authors': 1)
  int64_t maxNewTokens = 100;
  RegretEstimator regret = RegretEstimator::implicit;
  bool dummy = true;                 ///< a zero row in the game
  std::vector<double> regretWeights; ///< c_k; empty: all 1
  std::vector<double> weights;       ///< weighted: the fixed weights (normalised to sum 1)
  int64_t steps = 100000;            ///< optimistic Hedge's T
  double eta = 0;                    ///< its step size; 0: 5/√T
  std::string baseline;              ///< a stage whose policy's per-type regrets are reported beside the mixture's
  std::string location;
};

/// Regrets estimated on sampled answers: matrix[i][j] is type i's regret when type j's policy answers
/// (K × K, diagonal 0); baseline[i] type i's regret of the baseline stage's policy (empty without one).
/// Empty for `mean` and `weighted`, which estimate nothing.
struct RegretTable {
  std::vector<std::vector<double>> matrix;
  std::vector<double> baseline;
};

/// A metric of an eval block, evaluated on every stage's final model it applies to (a stage's own eval block:
/// only that stage's). eval.json holds it as STAGE → metric (or metric_by_X → group); `by dataset` uses the
/// data's name as the group, so one EvalSpec per data source fills one table.
struct EvalSpec {
  MetricKind metric = MetricKind::accuracy;
  std::optional<By> by;
  DataRef on;
  MetricParams params;
  std::string stage; ///< "" (the recipe's eval block): every stage
  std::string location;

  EvalSpec() = default;
  template <class P> explicit EvalSpec(const P &p) : metric(P::kind), params(p) {
    static_assert(P::executed, "this metric is not computed by the runtime yet");
  }
  template <class P> const P &as() const {
    if (const P *p = std::get_if<P>(&params))
      return *p;
    throw Error(std::string("metric '") + spelling(metric) + "' read with another metric's parameters");
  }
};

struct RecipeInfo {
  std::string name;
  std::string source;             ///< the recipe file it was compiled from
  std::vector<Setting> settings;  ///< every key --set accepts
  std::vector<std::string> stages;
};

class Trainer {
public:
  /// The value of a recipe setting: the --set override if given, else `recipeValue`. A --set value of the
  /// wrong type, or outside the set of names, is an Error naming the key.
  double number(const std::string &key, double recipeValue);
  int64_t integer(const std::string &key, int64_t recipeValue);
  std::string text(const std::string &key, const std::string &recipeValue);
  bool flag(const std::string &key, bool recipeValue);
#define ALIGN_ENUM(Type, word, doc) Type choice(const std::string &key, Type recipeValue);
#define ALIGN_CASE(...)
#define ALIGN_ENUM_END(Type)
#include "align/registry/Enums.def"
#undef ALIGN_ENUM
#undef ALIGN_CASE
#undef ALIGN_ENUM_END

  void tokenizer(const std::string &name, const std::string &spec); ///< "bytes" or a tokenizer.json path
  void model(const std::string &name, const ModelSpec &spec);
  void data(const std::string &name, const DataSpec &spec);
  void stage(const StageSpec &spec);
  void evaluate(const EvalSpec &spec);

  /// EM over latent annotator types for a stage whose objective is one `em_dpo` term (see LatentSpec):
  /// reads the data and starts the posterior, or, with --resume, reloads it. Returns the first iteration
  /// still to run.
  int64_t emBegin(const StageSpec &spec, const LatentSpec &latent);
  /// The M-step of `type` in `iteration`: γ[type, annotator]-weighted DPO, from the stage's start (restart)
  /// or from the type's last policy. A finished M-step found on --resume is reloaded, not trained again.
  void emMaximize(const std::string &stage, int64_t iteration, int64_t type);
  /// The E-step of `iteration`: every annotator's log-likelihood under each type's policy, then γ and η;
  /// the posterior is written (OUT/state/STAGE/posterior.json) before the next iteration starts.
  void emExpect(const std::string &stage, int64_t iteration);
  /// The stage's end: η, η per iteration and (where the data names true types) type recovery in eval.json.
  void emEnd(const std::string &stage);

  /// A direction preference (DPA), for `loop rsf` and the metrics `by direction`.
  void direction(const std::string &name, const DirectionSpec &spec);
  /// RSF (see RsfSpec): checks the loop against its declarations and prepares the stage once; with --resume,
  /// reloads the progress (OUT/state/STAGE/rsf.json). Returns the first iteration still to run (1 at the start).
  int64_t rsfBegin(const StageSpec &spec, const RsfSpec &rsf);
  void rsfGenerate(const std::string &stage, int64_t iteration);
  void rsfScore(const std::string &stage, int64_t iteration);
  void rsfSelect(const std::string &stage, int64_t iteration);
  void rsfFineTune(const std::string &stage, int64_t iteration);
  /// The stage's end: its result is the last iteration's policy; per-iteration metrics go into eval.json.
  void rsfEnd(const std::string &stage);

  /// MMRA's regret estimate for an aggregate (see AggregateSpec): each type policy (and the baseline)
  /// answers the prompts, sampled with the KV cache in batches; every type's policy and the stage's reference
  /// score every answer. `mean` and `weighted` return an empty table.
  RegretTable regretTable(const AggregateSpec &spec);
  /// The aggregate's mixture weights — optimistic Hedge on the game of `regret` for minmax_regret, uniform or
  /// the recipe's for mean and weighted — written with the per-type regrets to
  /// OUT/checkpoints/NAME/mixture.json (which `align-lm generate --mixture` reads) and to eval.json[NAME].
  void mixture(const AggregateSpec &spec, const RegretTable &regret);

  struct Impl;
  explicit Trainer(std::unique_ptr<Impl> impl);
  ~Trainer();

private:
  friend int trainerMain(int, char **, const RecipeInfo &, void (*)(Trainer &));
  std::unique_ptr<Impl> impl_;
};

/// The whole trainer program: parses the command line (--out, --set, --steps, --resume, --device,
/// --data-root, --threads, --help), runs `body`, writes eval.json and prints where the results are.
/// Returns the process exit code; errors are printed, never thrown.
int trainerMain(int argc, char **argv, const RecipeInfo &recipe, void (*body)(Trainer &));

#undef ALIGN_RT_FIELD

} // namespace align::rt
