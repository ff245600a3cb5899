//===- Trainer.cpp - Declarations and settings of a generated trainer -----===//
//
// The public Trainer's calls in recipe order: `--set` overrides of the recipe's values (typed, and checked
// against the registry's closed sets in core/Contract.cpp), tokenizers, models and data declarations (data
// is read on first use), and the helpers a stage (StageSetup.cpp) and the eval block (Evaluation.cpp) share.
//

#include "core/TrainerImpl.h"

#include "core/Contract.h"
#include "support/Files.h"
#include "support/SettingValue.h"
#include "data/Collate.h"
#include "model/Checkpoint.h"

#include <nlohmann/json.hpp>

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <sstream>

namespace align::rt {

CausalLM buildModel(const ModelSpec &spec, const Tokenizer &tokenizer, const std::string &checkpointPath) {
  if (!checkpointPath.empty())
    return loadCausalLM(checkpointPath);
  ModelConfig config = presetConfig(spelling(spec.preset), tokenizer.vocabSize());
  if (spec.family == ModelFamily::qwen2) {
    config.modelType = "qwen2";
    config.attentionBias = true; // Qwen2's q/k/v biases
  } else if (spec.family == ModelFamily::mistral) {
    config.modelType = "mistral";
  }
  CausalLM model(config);
  model->initialize(spec.seed);
  return model;
}

data::TokenizeOptions tokenizeOptions(const ScheduleSpec &s) {
  data::TokenizeOptions options;
  options.maxLength = s.maxLength;
  options.maxPromptLength = s.maxPromptLength > 0 ? s.maxPromptLength : s.maxLength / 2;
  options.truncateLeft = s.truncation == Truncation::left;
  return options;
}

PrepareOptions prepareOptions(const std::vector<ObjectiveTerm> &terms, const ScheduleSpec &schedule, DataKind kind) {
  PrepareOptions options;
  options.tokenize = tokenizeOptions(schedule);
  for (const ObjectiveTerm &t : terms) {
    options.pairs |= isPairTerm(t.kind());
    options.nll |= t.kind() == LossKind::nll;
    if (t.kind() == LossKind::imitation) {
      options.imitation = true;
      options.imitationThreshold = t.spec.as<ImitationParams>().threshold;
    }
    options.everySequence |= t.kind() == LossKind::rank_loss || t.kind() == LossKind::regression;
  }
  options.nllEveryText = kind == DataKind::scored;
  return options;
}

std::vector<data::Example> withUserText(std::vector<data::Example> rows) {
  for (data::Example &row : rows)
    if (!row.userText.empty())
      row.prompt = "User textual information: " + row.userText + "\n" + row.prompt;
  return rows;
}

int64_t assignUserIds(std::vector<PreparedExample> &examples, const UserModel &users) {
  int64_t unseen = 0;
  for (PreparedExample &e : examples) {
    e.userId = users->idOf(e.user);
    unseen += e.userId == 0 ? 1 : 0;
  }
  return unseen;
}

const std::string *Trainer::Impl::override(const std::string &key) {
  settingsRead.insert(key);
  auto it = options.sets.find(key);
  return it == options.sets.end() ? nullptr : &it->second;
}

std::string Trainer::Impl::resolvePath(const std::string &path) const {
  if (path.empty() || path[0] == '/')
    return path;
  return joinPath(options.dataRoot, path);
}

const data::LoadedSource &Trainer::Impl::loadData(const std::string &name) {
  auto it = data.find(name);
  if (it == data.end())
    throw Error("data '" + name + "' is not declared");
  DataEntry &entry = it->second;
  if (entry.loaded)
    return *entry.loaded;
  // The data layer reads the public spec itself; only the paths are resolved against --data-root here.
  data::SourceSpec spec;
  static_cast<DataSpec &>(spec) = entry.spec;
  spec.name = name;
  spec.path = resolvePath(spec.path);
  for (SplitRule &rule : spec.splits) {
    rule.path = resolvePath(rule.path);
    if (rule.kind == SplitKind::where && nlohmann::json::parse(rule.equalsJson, nullptr, false).is_discarded())
      throw Error("data '" + name + "', split '" + rule.name + "': the value is not JSON: " + rule.equalsJson);
  }
  entry.loaded = std::make_unique<data::LoadedSource>(data::loadSource(spec));
  const data::LoadedSource &loaded = *entry.loaded;
  std::string sizes;
  for (const auto &[splitName, rows] : loaded.splits)
    sizes += " " + splitName + "=" + std::to_string(rows.size());
  std::fprintf(stderr, "[data] %s: %lld rows from %s;%s\n", name.c_str(), static_cast<long long>(loaded.rowsRead),
               spec.path.c_str(), sizes.c_str());
  if (loaded.skips.skipped > 0) {
    std::fprintf(stderr, "[data] %s: skipped %lld malformed rows (on_error: skip); the first:\n", name.c_str(),
                 static_cast<long long>(loaded.skips.skipped));
    for (const std::string &reason : loaded.skips.reasons)
      std::fprintf(stderr, "  %s\n", reason.c_str());
  }
  return loaded;
}

void Trainer::Impl::loadAllData() {
  if (allDataLoaded)
    return;
  for (const auto &entry : data)
    loadData(entry.first);
  allDataLoaded = true;
}

const std::vector<data::Example> &Trainer::Impl::split(const std::string &dataName, const std::string &splitName) {
  const data::LoadedSource &loaded = loadData(dataName);
  auto it = loaded.splits.find(splitName.empty() ? "train" : splitName);
  if (it == loaded.splits.end())
    throw Error("data '" + dataName + "' has no split '" + splitName + "'");
  return it->second;
}

std::vector<data::Example> Trainer::Impl::limitedForEval(const std::vector<data::Example> &rows) const {
  if (options.evalLimit <= 0 || static_cast<int64_t>(rows.size()) <= options.evalLimit)
    return rows;
  return {rows.begin(), rows.begin() + options.evalLimit};
}

Tokenizer &Trainer::Impl::tokenizerOf(const std::string &model) {
  auto m = models.find(model);
  if (m == models.end())
    throw Error("model '" + model + "' is not declared");
  auto t = tokenizers.find(m->second.tokenizer);
  if (t == tokenizers.end())
    throw Error("model '" + model + "': tokenizer '" + m->second.tokenizer + "' is not declared");
  return *t->second;
}

const Trainer::Impl::StageRecord *Trainer::Impl::stageRecord(const std::string &name) const {
  for (const StageRecord &r : stages)
    if (r.spec.name == name)
      return &r;
  return nullptr;
}

CausalLM Trainer::Impl::referenceModel(const std::string &name, const std::string &location) {
  if (const StageRecord *ref = stageRecord(name))
    return loadCausalLM(ref->checkpointDir);
  auto model = models.find(name);
  if (model == models.end())
    throw Error(location + ": reference '" + name + "' is neither a model nor a stage that has run");
  const ModelSpec &spec = model->second;
  return buildModel(spec, tokenizerOf(name), spec.checkpoint.empty() ? "" : resolvePath(spec.checkpoint));
}

//===----------------------------------------------------------------------===//
// The public Trainer
//===----------------------------------------------------------------------===//

Trainer::Trainer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Trainer::~Trainer() = default;

// The text of an override is parsed in support/SettingValue.cpp (torch-free, fuzzed in tests/fuzz/).
double Trainer::number(const std::string &key, double recipeValue) {
  const std::string *text = impl_->override(key);
  return text ? parseSettingNumber(key, *text, impl_->recipe) : recipeValue;
}

int64_t Trainer::integer(const std::string &key, int64_t recipeValue) {
  const std::string *text = impl_->override(key);
  return text ? parseSettingInteger(key, *text, impl_->recipe) : recipeValue;
}

std::string Trainer::text(const std::string &key, const std::string &recipeValue) {
  const std::string *text = impl_->override(key);
  return text ? *text : recipeValue;
}

bool Trainer::flag(const std::string &key, bool recipeValue) {
  const std::string *text = impl_->override(key);
  return text ? parseSettingFlag(key, *text) : recipeValue;
}

void Trainer::tokenizer(const std::string &name, const std::string &spec) {
  impl_->tokenizers[name] = spec == "bytes" ? makeByteTokenizer() : loadHfTokenizer(impl_->resolvePath(spec));
  if (spec != "bytes")
    impl_->tokenizerFiles[name] = impl_->resolvePath(spec);
}

void Trainer::model(const std::string &name, const ModelSpec &spec) {
  if (!impl_->tokenizers.count(spec.tokenizer))
    throw Error("model '" + name + "': tokenizer '" + spec.tokenizer + "' is not declared");
  impl_->models[name] = spec;
}

void Trainer::data(const std::string &name, const DataSpec &spec) {
  Impl::DataEntry entry;
  entry.spec = spec;
  impl_->data[name] = std::move(entry);
}

void Trainer::stage(const StageSpec &spec) {
  impl_->loadAllData();
  impl_->runStage(spec);
}

void Trainer::evaluate(const EvalSpec &spec) {
  checkMetric(spec, spec.location);
  impl_->evals.push_back(spec);
}

} // namespace align::rt
