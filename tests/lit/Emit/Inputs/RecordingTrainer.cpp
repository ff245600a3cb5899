//===- RecordingTrainer.cpp - A stand-in runtime that prints what it is given ---===//
//
// Links with an emitted trainer in place of libalign_rt.so, implementing the "Trainers" part of
// align/rt/Trainer.h by printing every call and every field of every spec, one `name = value` line each. Lit
// tests compare that with the recipe: the values that reach the runtime (strings byte for byte, doubles
// exactly, members of closed sets by their recipe spelling, --set overrides by key) without needing LibTorch.
// `--set KEY=VALUE` replaces a setting here as the real runtime does (numbers via strtod, integers via
// strtoll, flags true/false, closed sets by spelling). Objective and metric parameters are printed field by
// field from the registry's tables, as the runtime's structs are made.
//
//===----------------------------------------------------------------------===//

#include "align/rt/Trainer.h"

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

namespace align::rt {

struct Trainer::Impl {
  std::map<std::string, std::string> overrides;
};

Trainer::Trainer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Trainer::~Trainer() = default;

namespace {

/// Strings printed as C-escaped text in quotes, so control bytes and quotes are visible.
std::string quoted(const std::string &text) {
  std::string out = "\"";
  for (unsigned char c : text) {
    if (c == '"' || c == '\\')
      out += '\\', out += static_cast<char>(c);
    else if (c == '\n')
      out += "\\n";
    else if (c == '\t')
      out += "\\t";
    else if (c < 0x20 || c == 0x7f) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      out += buf;
    } else
      out += static_cast<char>(c);
  }
  return out + "\"";
}

std::string numberText(double value) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "%.17g", value);
  return buf;
}

void line(const std::string &name, const std::string &value) { std::printf("  %s = %s\n", name.c_str(), value.c_str()); }

std::string valueText(double v) { return numberText(v); }
std::string valueText(int64_t v) { return std::to_string(v); }
std::string valueText(bool v) { return v ? "true" : "false"; }
[[maybe_unused]] std::string valueText(const std::string &v) { return quoted(v); } // Ref parameters

#define ALIGN_REC_GET_YES(T, v) std::get_if<T>(&v)
#define ALIGN_REC_GET_NO(T, v) static_cast<const T *>(nullptr)
#define ALIGN_PARAM(Id, name, type, detail, presence, def, range, run, doc)                                    \
  ALIGN_RT_IF_##run(out += " " #name "=" + valueText(p->name);)

/// " beta=0.1 label_smoothing=0": the fields of a term's parameter struct, in the registry's order.
std::string fields(const TermSpec &term) {
  std::string out;
#define ALIGN_OBJECTIVE(Id, name, run, target, traits, sources, doc)                                           \
  if (const Id##Params *p = ALIGN_REC_GET_##run(Id##Params, term.params)) {
#define ALIGN_OBJECTIVE_END(Id)                                                                                \
  (void)p;                                                                                                     \
  }
#include "align/registry/Objectives.def"
#undef ALIGN_OBJECTIVE
#undef ALIGN_OBJECTIVE_END
  return out;
}

std::string fields(const EvalSpec &eval) {
  std::string out;
#define ALIGN_METRIC(Id, name, run, by, traits, doc) if (const Id##Params *p = ALIGN_REC_GET_##run(Id##Params, eval.params)) {
#define ALIGN_METRIC_END(Id)                                                                                   \
  (void)p;                                                                                                     \
  }
#include "align/registry/Metrics.def"
#undef ALIGN_METRIC
#undef ALIGN_METRIC_END
  return out;
}
#undef ALIGN_PARAM

} // namespace

#define ALIGN_ENUM(Type, word, doc)                                                                            \
  Type Trainer::choice(const std::string &key, Type recipeValue) {                                             \
    auto it = impl_->overrides.find(key);                                                                      \
    Type value = recipeValue;                                                                                  \
    if (it != impl_->overrides.end() && !parse(it->second, value))                                             \
      std::printf("bad --set %s=%s\n", key.c_str(), it->second.c_str());                                      \
    return value;                                                                                              \
  }
#define ALIGN_CASE(...)
#define ALIGN_ENUM_END(Type)
#include "align/registry/Enums.def"
#undef ALIGN_ENUM
#undef ALIGN_CASE
#undef ALIGN_ENUM_END

double Trainer::number(const std::string &key, double recipeValue) {
  auto it = impl_->overrides.find(key);
  return it == impl_->overrides.end() ? recipeValue : std::strtod(it->second.c_str(), nullptr);
}

int64_t Trainer::integer(const std::string &key, int64_t recipeValue) {
  auto it = impl_->overrides.find(key);
  return it == impl_->overrides.end() ? recipeValue : std::strtoll(it->second.c_str(), nullptr, 10);
}

std::string Trainer::text(const std::string &key, const std::string &recipeValue) {
  auto it = impl_->overrides.find(key);
  return it == impl_->overrides.end() ? recipeValue : it->second;
}

bool Trainer::flag(const std::string &key, bool recipeValue) {
  auto it = impl_->overrides.find(key);
  return it == impl_->overrides.end() ? recipeValue : it->second == "true";
}

void Trainer::tokenizer(const std::string &name, const std::string &spec) {
  std::printf("tokenizer %s\n", name.c_str());
  line("spec", quoted(spec));
}

void Trainer::model(const std::string &name, const ModelSpec &spec) {
  std::printf("model %s\n", name.c_str());
  line("family", spelling(spec.family));
  line("preset", spelling(spec.preset));
  line("checkpoint", quoted(spec.checkpoint));
  line("tokenizer", quoted(spec.tokenizer));
  line("seed", std::to_string(spec.seed));
}

void Trainer::data(const std::string &name, const DataSpec &spec) {
  std::printf("data %s\n", name.c_str());
  line("kind", spelling(spec.kind));
  line("path", quoted(spec.path));
  for (const auto &[field, column] : spec.columns)
    line("columns." + field, quoted(column));
  for (const std::string &rating : spec.ratings)
    line("rating", quoted(rating));
  line("preferred", quoted(spec.preferred));
  for (const std::string &domain : spec.against)
    line("against", quoted(domain));
  line("template", spec.templateText ? quoted(*spec.templateText) : "none");
  line("onError", spelling(spec.onError));
  line("limit", std::to_string(spec.limit));
  line("shuffleSeed", std::to_string(spec.shuffleSeed));
  for (const SplitRule &rule : spec.splits)
    line("split." + rule.name, spelling(rule.kind) + std::string(" fraction=") + numberText(rule.fraction) + " by=" + quoted(rule.by) +
                                   " column=" + quoted(rule.column) + " equals=" + quoted(rule.equalsJson) +
                                   " path=" + quoted(rule.path));
}

void Trainer::stage(const StageSpec &spec) {
  std::printf("stage %s\n", spec.name.c_str());
  line("location", quoted(spec.location));
  line("initFrom", quoted(spec.initFrom));
  line("model", quoted(spec.model));
  line("rewardModel", spec.rewardModel ? "true" : "false");
  line("pooling", spelling(spec.pooling));
  line("rewardOutputs", std::to_string(spec.rewardOutputs));
  line("reference", quoted(spec.reference));
  line("data", quoted(spec.train.data) + " split " + quoted(spec.train.split));
  for (const DataRef &more : spec.alsoOn)
    line("alsoOn", quoted(more.data) + " split " + quoted(more.split));
  for (const TermSpec &term : spec.objective)
    line("term", spelling(term.kind) + std::string(" weight=") + numberText(term.weight) +
                     (term.exampleWeights ? " exampleWeights" : "") + fields(term));
  const ScheduleSpec &s = spec.schedule;
  line("optimizer", spelling(s.optimizer) + std::string(" lr=") + numberText(s.lr) + " beta1=" + numberText(s.beta1) + " beta2=" + numberText(s.beta2) +
                        " eps=" + numberText(s.eps) + " weightDecay=" + numberText(s.weightDecay) +
                        " alpha=" + numberText(s.alpha) + " momentum=" + numberText(s.momentum));
  line("lrSchedule", spelling(s.lrSchedule) + std::string(" lrFinal=") + numberText(s.lrFinal) + " warmup=" + std::to_string(s.warmup));
  line("batch", std::to_string(s.batch) + " microBatch=" + std::to_string(s.microBatch) +
                    " steps=" + std::to_string(s.steps) + " epochs=" + numberText(s.epochs));
  line("precision", spelling(s.precision) + std::string(" maxLength=") + std::to_string(s.maxLength) +
                        " maxPromptLength=" + std::to_string(s.maxPromptLength) + " truncation=" + spelling(s.truncation));
  line("clip", numberText(s.clip) + " seed=" + std::to_string(s.seed) + " logEvery=" + std::to_string(s.logEvery));
  line("eval", "steps=" + std::to_string(s.evalEverySteps) + " seconds=" + numberText(s.evalEverySeconds));
  line("checkpoint", "steps=" + std::to_string(s.checkpointEverySteps) +
                         " seconds=" + numberText(s.checkpointEverySeconds) + " timeLimit=" + numberText(s.timeLimitSeconds));
  line("decisions", "reference=" + std::string(spelling(s.reference)) + " concatPairs=" + (s.concatPairs ? "true" : "false") +
                        " fusedLogprobs=" + (s.fusedLogprobs ? "true" : "false") +
                        " logprobChunk=" + std::to_string(s.logprobChunk));
  if (spec.lora.enabled) {
    std::string targets;
    for (const std::string &target : spec.lora.targets)
      targets += " " + target;
    line("lora", "rank=" + std::to_string(spec.lora.rank) + " alpha=" + numberText(spec.lora.alpha) +
                     " dropout=" + numberText(spec.lora.dropout) + " targets" + targets);
  }
}

int64_t Trainer::emBegin(const StageSpec &spec, const LatentSpec &latent) {
  stage(spec); // the stage's fields, as the runtime receives them
  std::printf("emBegin %s\n", spec.name.c_str());
  line("types", std::to_string(latent.types));
  line("likelihood", spelling(latent.likelihood));
  line("init", spelling(latent.init));
  line("alpha", numberText(latent.alpha));
  line("seed", std::to_string(latent.seed));
  line("iterations", std::to_string(latent.iterations));
  line("restart", latent.restart ? "true" : "false");
  line("eStep", spelling(latent.eStep));
  line("folds", std::to_string(latent.folds));
  line("policies", spelling(latent.policies));
  line("lora.rank", std::to_string(spec.lora.rank));
  return 0;
}

void Trainer::emMaximize(const std::string &stage, int64_t iteration, int64_t type) {
  std::printf("emMaximize %s iteration %lld type %lld\n", stage.c_str(), static_cast<long long>(iteration),
              static_cast<long long>(type));
}

void Trainer::emExpect(const std::string &stage, int64_t iteration) {
  std::printf("emExpect %s iteration %lld\n", stage.c_str(), static_cast<long long>(iteration));
}

void Trainer::emEnd(const std::string &stage) { std::printf("emEnd %s\n", stage.c_str()); }

void Trainer::direction(const std::string &name, const DirectionSpec &spec) {
  std::printf("direction %s\n", name.c_str());
  for (const std::string &objective : spec.objectives)
    line("objective", quoted(objective));
  for (const std::string &output : spec.rewardObjectives)
    line("rewardObjective", quoted(output));
  line("angle", "[" + numberText(spec.angleLow) + ", " + numberText(spec.angleHigh) + "]");
  line("sample", spelling(spec.sample));
  line("grid", std::to_string(spec.grid));
  line("render", quoted(spec.render));
  line("scale", std::to_string(spec.scale));
}

int64_t Trainer::rsfBegin(const StageSpec &spec, const RsfSpec &rsf) {
  stage(spec); // the stage's fields, as the runtime receives them
  std::printf("rsfBegin %s\n", spec.name.c_str());
  line("iterations", std::to_string(rsf.iterations));
  line("samples", std::to_string(rsf.samples));
  line("prompts", quoted(rsf.prompts.data) + " split " + quoted(rsf.prompts.split));
  line("promptsPerIteration", std::to_string(rsf.promptsPerIteration));
  line("directions", quoted(rsf.directions));
  line("scorer", quoted(rsf.scorer));
  line("temperature", numberText(rsf.temperature) + " topP=" + numberText(rsf.topP));
  line("maxNewTokens", std::to_string(rsf.maxNewTokens));
  return 1; // a fresh run starts at iteration 1 (π_0 is the stage's start)
}

void Trainer::rsfGenerate(const std::string &stage, int64_t iteration) {
  std::printf("rsfGenerate %s iteration %lld\n", stage.c_str(), static_cast<long long>(iteration));
}

void Trainer::rsfScore(const std::string &stage, int64_t iteration) {
  std::printf("rsfScore %s iteration %lld\n", stage.c_str(), static_cast<long long>(iteration));
}

void Trainer::rsfSelect(const std::string &stage, int64_t iteration) {
  std::printf("rsfSelect %s iteration %lld\n", stage.c_str(), static_cast<long long>(iteration));
}

void Trainer::rsfFineTune(const std::string &stage, int64_t iteration) {
  std::printf("rsfFineTune %s iteration %lld\n", stage.c_str(), static_cast<long long>(iteration));
}

void Trainer::rsfEnd(const std::string &stage) { std::printf("rsfEnd %s\n", stage.c_str()); }

RegretTable Trainer::regretTable(const AggregateSpec &spec) {
  std::printf("regretTable %s\n", spec.name.c_str());
  line("kind", spelling(spec.kind));
  line("policies", quoted(spec.policies));
  line("prompts", quoted(spec.prompts.data) + " split " + quoted(spec.prompts.split));
  line("samples", std::to_string(spec.samples));
  line("answers", std::to_string(spec.answers));
  line("maxNewTokens", std::to_string(spec.maxNewTokens));
  line("regret", spelling(spec.regret));
  line("dummy", spec.dummy ? "true" : "false");
  std::string weights;
  for (double w : spec.regretWeights)
    weights += (weights.empty() ? "" : ", ") + std::to_string(w);
  line("regretWeights", "[" + weights + "]");
  weights.clear();
  for (double w : spec.weights)
    weights += (weights.empty() ? "" : ", ") + std::to_string(w);
  line("weights", "[" + weights + "]");
  line("steps", std::to_string(spec.steps));
  line("eta", std::to_string(spec.eta));
  line("baseline", quoted(spec.baseline));
  return {};
}

void Trainer::mixture(const AggregateSpec &spec, const RegretTable &) { std::printf("mixture %s\n", spec.name.c_str()); }

void Trainer::evaluate(const EvalSpec &spec) {
  std::printf("evaluate %s\n", spelling(spec.metric));
  line("by", spec.by ? spelling(*spec.by) : "none");
  line("data", quoted(spec.on.data) + " split " + quoted(spec.on.split));
  line("params", fields(spec));
  line("location", quoted(spec.location));
}

int trainerMain(int argc, char **argv, const RecipeInfo &recipe, void (*body)(Trainer &)) {
  auto impl = std::make_unique<Trainer::Impl>();
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string setting = argv[i + 1];
    if (std::strcmp(argv[i], "--set") != 0 || setting.find('=') == std::string::npos) {
      std::fprintf(stderr, "usage: %s [--set KEY=VALUE]...\n", argv[0]);
      return 2;
    }
    impl->overrides[setting.substr(0, setting.find('='))] = setting.substr(setting.find('=') + 1);
  }
  std::printf("recipe %s from %s, stages:", recipe.name.c_str(), recipe.source.c_str());
  for (const std::string &stage : recipe.stages)
    std::printf(" %s", stage.c_str());
  std::printf("\n");
  for (const Setting &setting : recipe.settings)
    std::printf("setting %s = %s (%s)\n", setting.key.c_str(), quoted(setting.value).c_str(),
                setting.location.c_str());
  Trainer trainer(std::move(impl));
  body(trainer);
  return 0;
}

} // namespace align::rt
