//===- RecordingTrainer.cpp - A stand-in runtime that prints what it is given ---===//
//
// Links with an emitted trainer in place of libalign_rt.so, implementing the "Trainers" part of
// align/rt/api.h by printing every call and every field of every spec, one `name = value` line each. Lit
// tests compare that with the recipe: the values that reach the runtime (strings byte for byte, doubles
// exactly, --set overrides by key) without needing LibTorch. `--set KEY=VALUE` replaces a setting here as
// the real runtime does (numbers via strtod, integers via strtoll, flags true/false).
//
//===----------------------------------------------------------------------===//

#include "align/rt/api.h"

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

} // namespace

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
  line("family", quoted(spec.family));
  line("preset", quoted(spec.preset));
  line("checkpoint", quoted(spec.checkpoint));
  line("tokenizer", quoted(spec.tokenizer));
  line("seed", std::to_string(spec.seed));
}

void Trainer::data(const std::string &name, const DataSpec &spec) {
  std::printf("data %s\n", name.c_str());
  line("kind", quoted(spec.kind));
  line("path", quoted(spec.path));
  for (const auto &[field, column] : spec.columns)
    line("columns." + field, quoted(column));
  for (const std::string &rating : spec.ratings)
    line("rating", quoted(rating));
  line("preferred", quoted(spec.preferred));
  for (const std::string &domain : spec.against)
    line("against", quoted(domain));
  line("template", spec.hasTemplate ? quoted(spec.templateText) : "none");
  line("skipMalformed", spec.skipMalformed ? "true" : "false");
  line("limit", std::to_string(spec.limit));
  line("shuffleSeed", std::to_string(spec.shuffleSeed));
  for (const SplitRule &rule : spec.splits)
    line("split." + rule.name, rule.kind + " fraction=" + numberText(rule.fraction) + " by=" + quoted(rule.by) +
                                   " column=" + quoted(rule.column) + " equals=" + quoted(rule.equalsJson) +
                                   " path=" + quoted(rule.path));
}

void Trainer::stage(const StageSpec &spec) {
  std::printf("stage %s\n", spec.name.c_str());
  line("location", quoted(spec.location));
  line("initFrom", quoted(spec.initFrom));
  line("model", quoted(spec.model));
  line("rewardModel", spec.rewardModel ? "true" : "false");
  line("pooling", quoted(spec.pooling));
  line("rewardOutputs", std::to_string(spec.rewardOutputs));
  line("reference", quoted(spec.reference));
  line("data", quoted(spec.data) + " split " + quoted(spec.split));
  for (const TermSpec &term : spec.objective) {
    std::string params;
    for (const auto &[name, value] : term.params)
      params += " " + name + "=" + numberText(value);
    line("term", term.kind + " weight=" + numberText(term.weight) + params);
  }
  const ScheduleSpec &s = spec.schedule;
  line("optimizer", s.optimizer + " lr=" + numberText(s.lr) + " beta1=" + numberText(s.beta1) + " beta2=" + numberText(s.beta2) +
                        " eps=" + numberText(s.eps) + " weightDecay=" + numberText(s.weightDecay) +
                        " alpha=" + numberText(s.alpha) + " momentum=" + numberText(s.momentum));
  line("lrSchedule", s.lrSchedule + " lrFinal=" + numberText(s.lrFinal) + " warmup=" + std::to_string(s.warmup));
  line("batch", std::to_string(s.batch) + " microBatch=" + std::to_string(s.microBatch) +
                    " steps=" + std::to_string(s.steps) + " epochs=" + numberText(s.epochs));
  line("precision", s.precision + " maxLength=" + std::to_string(s.maxLength) +
                        " maxPromptLength=" + std::to_string(s.maxPromptLength) + " truncation=" + s.truncation);
  line("clip", numberText(s.clip) + " seed=" + std::to_string(s.seed) + " logEvery=" + std::to_string(s.logEvery));
  line("eval", "steps=" + std::to_string(s.evalEverySteps) + " seconds=" + numberText(s.evalEverySeconds));
  line("checkpoint", "steps=" + std::to_string(s.checkpointEverySteps) +
                         " seconds=" + numberText(s.checkpointEverySeconds) + " timeLimit=" + numberText(s.timeLimitSeconds));
  line("decisions", "reference=" + s.reference + " concatPairs=" + (s.concatPairs ? "true" : "false") +
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

void Trainer::evaluate(const EvalSpec &spec) {
  std::printf("evaluate %s\n", spec.metric.c_str());
  line("by", quoted(spec.by));
  line("data", quoted(spec.data) + " split " + quoted(spec.split));
  for (const auto &[name, value] : spec.params)
    line("param." + name, numberText(value));
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
