//===- Trainer.cpp - Declarations and stages of a generated trainer -------===//

#include "core/TrainerImpl.h"

#include "core/Files.h"
#include "data/Collate.h"
#include "model/Checkpoint.h"
#include "model/Lora.h"
#include "model/RewardModel.h"
#include "model/UserModel.h"
#include "train/GeneratedLength.h"
#include "train/PairMetrics.h"
#include "train/Progress.h"
#include "train/StageRunner.h"

#include <nlohmann/json.hpp>

#include <cstdio>
#include <sstream>

namespace align::rt {

namespace {

CausalLM buildModel(const ModelSpec &spec, const Tokenizer &tokenizer, const std::string &checkpointPath) {
  if (!checkpointPath.empty())
    return loadCausalLM(checkpointPath);
  ModelConfig config = presetConfig(spec.preset, tokenizer.vocabSize());
  if (spec.family == "qwen2") {
    config.modelType = "qwen2";
    config.attentionBias = true; // Qwen2's q/k/v biases
  } else if (spec.family == "mistral") {
    config.modelType = "mistral";
  }
  CausalLM model(config);
  model->initialize(spec.seed);
  return model;
}

/// The runtime's terms for one recipe term (two for the P-DPO family: see ObjectiveTerms.h).
std::vector<ObjectiveTerm> toTerms(const TermSpec &spec) {
  static const std::set<std::string> personalized = {"pdpo", "pipo", "psimpo"};
  ObjectiveTerm term;
  term.kind = personalized.count(spec.kind) ? TermKind::DPO : parseTermKind(spec.kind);
  if (spec.kind == "psimpo")
    term.kind = TermKind::SimPO;
  term.weight = spec.weight;
  auto get = [&](const char *key, double fallback) {
    auto it = spec.params.find(key);
    return it == spec.params.end() ? fallback : it->second;
  };
  term.beta = get("beta", term.kind == TermKind::SimPO ? 2.0 : 0.1);
  term.labelSmoothing = get("label_smoothing", 0.0);
  term.gamma = get("gamma", 0.5);
  term.threshold = get("threshold", 0.85);
  term.promptLoss = get("prompt_loss", 0.0) != 0.0;
  term.exampleWeights = get("example_weights", 0.0) != 0.0;
  if (get("normalize", 0.0) != 0.0)
    throw Error("regression(normalize: true) is not executed by the runtime yet");
  return expandTerm(spec.kind, term, get("alpha", 0.5));
}

StageSchedule toSchedule(const ScheduleSpec &s) {
  StageSchedule out;
  out.optimizer = OptimizerSettings{s.optimizer, s.lr, s.beta1, s.beta2, s.eps, s.weightDecay, s.alpha, s.momentum};
  out.lrSchedule = LrScheduleSettings{s.lrSchedule, s.warmup, s.lrFinal};
  out.batch = s.batch;
  out.microBatch = s.microBatch;
  out.epochs = s.epochs;
  out.steps = s.steps;
  out.precision = s.precision;
  out.clip = s.clip;
  out.seed = s.seed;
  out.logEvery = s.logEvery;
  out.evalEverySteps = s.evalEverySteps;
  out.evalEverySeconds = s.evalEverySeconds;
  out.checkpointEverySteps = s.checkpointEverySteps;
  out.checkpointEverySeconds = s.checkpointEverySeconds;
  out.timeLimitSeconds = s.timeLimitSeconds;
  out.reference = s.reference;
  out.fusedLogprobs = s.fusedLogprobs;
  out.chunkRows = s.logprobChunk;
  return out;
}

data::TokenizeOptions tokenizeOptions(const ScheduleSpec &s) {
  data::TokenizeOptions options;
  options.maxLength = s.maxLength;
  options.maxPromptLength = s.maxPromptLength > 0 ? s.maxPromptLength : s.maxLength / 2;
  options.truncateLeft = s.truncation == "left";
  return options;
}

PrepareOptions prepareOptions(const std::vector<ObjectiveTerm> &terms, const ScheduleSpec &schedule,
                              data::SourceKind kind) {
  PrepareOptions options;
  options.tokenize = tokenizeOptions(schedule);
  for (const ObjectiveTerm &t : terms) {
    options.pairs |= isPairTerm(t.kind);
    options.nll |= t.kind == TermKind::NLL;
    if (t.kind == TermKind::Imitation) {
      options.imitation = true;
      options.imitationThreshold = t.threshold;
    }
    options.everySequence |= t.kind == TermKind::Rank || t.kind == TermKind::Regression;
  }
  options.nllEveryText = kind == data::SourceKind::Scored;
  return options;
}

UserModelSettings toUserSettings(const UserModelSpec &spec) {
  UserModelSettings s;
  s.kind = spec.kind;
  s.tokens = spec.tokens;
  s.generic = spec.generic;
  s.clusters = spec.clusters;
  s.init = spec.init;
  s.initSeed = spec.initSeed;
  s.initCommon = spec.initCommon;
  s.initRange = spec.initRange;
  s.unseenIsError = spec.unseenIsError;
  return s;
}

/// Rows whose user has textual information read it before the prompt (after BOS and the soft tokens):
/// P-RLHF's explicit user information (papers.md §1.1, PRISM).
std::vector<data::Example> withUserText(std::vector<data::Example> rows) {
  for (data::Example &row : rows)
    if (!row.userText.empty())
      row.prompt = "User textual information: " + row.userText + "\n" + row.prompt;
  return rows;
}

/// Gives each example its user's id; returns how many rows belong to users the model does not know.
int64_t assignUserIds(std::vector<PreparedExample> &examples, const UserModel &users) {
  int64_t unseen = 0;
  for (PreparedExample &e : examples) {
    e.userId = users->idOf(e.user);
    unseen += e.userId == 0 ? 1 : 0;
  }
  return unseen;
}

std::string describeTerms(const std::vector<TermSpec> &terms) {
  std::ostringstream s;
  for (size_t i = 0; i < terms.size(); ++i) {
    s << (i ? " + " : "") << terms[i].weight << "*" << terms[i].kind << "(";
    for (const auto &[k, v] : terms[i].params)
      s << k << "=" << v << ",";
    s << ")";
  }
  return s.str();
}

} // namespace

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
  const DataSpec &d = entry.spec;
  data::SourceSpec spec;
  spec.name = name;
  spec.kind = data::parseSourceKind(d.kind);
  spec.path = resolvePath(d.path);
  spec.columns = d.columns;
  spec.ratings = d.ratings;
  spec.preferred = d.preferred;
  spec.against = d.against;
  if (d.hasTemplate)
    spec.templateText = d.templateText;
  spec.skipMalformed = d.skipMalformed;
  spec.limit = d.limit;
  spec.shuffleSeed = d.shuffleSeed;
  for (const SplitRule &rule : d.splits) {
    data::SplitSpec split;
    split.name = rule.name;
    split.fraction = rule.fraction;
    split.by = rule.by;
    split.column = rule.column;
    split.path = resolvePath(rule.path);
    if (rule.kind == "where") {
      split.kind = data::SplitSpec::Kind::Where;
      split.equals = nlohmann::json::parse(rule.equalsJson, nullptr, false);
      if (split.equals.is_discarded())
        throw Error("data '" + name + "', split '" + rule.name + "': the value is not JSON: " + rule.equalsJson);
    } else if (rule.kind == "file") {
      split.kind = data::SplitSpec::Kind::File;
    } else {
      split.kind = data::SplitSpec::Kind::Percent;
    }
    spec.splits.push_back(split);
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

void Trainer::Impl::runStage(const StageSpec &spec) {
  Tokenizer &tokenizer = tokenizerOf(spec.model);
  const ModelSpec &modelSpec = models.at(spec.model);
  StageInputs inputs;
  inputs.name = spec.name;
  for (const TermSpec &t : spec.objective)
    for (const ObjectiveTerm &term : toTerms(t))
      inputs.terms.push_back(term);
  if (inputs.terms.empty())
    throw Error(spec.location + ": stage '" + spec.name + "' has no objective");
  inputs.schedule = toSchedule(spec.schedule);
  inputs.padId = data::padIdOf(tokenizer);
  const DataSpec &dataSpec = data.at(spec.data).spec;
  const PrepareOptions prepare = prepareOptions(inputs.terms, spec.schedule, data::parseSourceKind(dataSpec.kind));
  int64_t unused = 0;
  // `text: "column"` of the users model: the data read that column too (reloaded if an earlier stage read it
  // without); rows of known users get the text, their generic duplicates do not.
  const bool userText = spec.users.enabled && !spec.users.textColumn.empty();
  if (userText) {
    std::vector<std::string> names = {spec.data};
    for (const std::string &more : spec.alsoOn)
      names.push_back(more.substr(0, more.find('.')));
    for (const std::string &name : names) {
      auto entry = data.find(name);
      if (entry != data.end() && entry->second.spec.columns["user_text"] != spec.users.textColumn) {
        entry->second.spec.columns["user_text"] = spec.users.textColumn;
        entry->second.loaded.reset();
      }
    }
  }
  std::vector<data::Example> trainRows = split(spec.data, spec.split);
  for (const std::string &more : spec.alsoOn) {
    const size_t dot = more.find('.');
    const std::string name = more.substr(0, dot), part = dot == std::string::npos ? "train" : more.substr(dot + 1);
    if (!data.count(name))
      throw Error(spec.location + ": stage '" + spec.name + "' trains on undeclared data '" + name + "'");
    const std::vector<data::Example> &rows = split(name, part);
    trainRows.insert(trainRows.end(), rows.begin(), rows.end());
  }
  inputs.train = prepareExamples(userText ? withUserText(trainRows) : trainRows, tokenizer, prepare, &unused);
  if (unused > 0)
    std::fprintf(stderr, "[%s] %lld examples of %s.%s give the objective nothing to read (e.g. tied scores); left out\n",
                 spec.name.c_str(), static_cast<long long>(unused), spec.data.c_str(), spec.split.c_str());
  std::vector<std::string> trainedData = {spec.data};
  for (const std::string &more : spec.alsoOn)
    trainedData.push_back(more.substr(0, more.find('.')));
  for (const std::string &name : trainedData)
    for (const auto &[splitName, rows] : loadData(name).splits)
      if (splitName != "train" && splitName != spec.split && !rows.empty()) {
        std::vector<data::Example> held = limitedForEval(rows);
        inputs.evalSets[name + "." + splitName] =
            prepareExamples(userText ? withUserText(std::move(held)) : held, tokenizer, prepare, nullptr);
      }

  // The model: from an earlier stage's result, or from its declaration.
  const StageRecord *from = spec.initFrom.empty() ? nullptr : stageRecord(spec.initFrom);
  if (!spec.initFrom.empty() && !from)
    throw Error(spec.location + ": stage '" + spec.name + "' starts from stage '" + spec.initFrom +
                "', which has not run");
  const std::string declared = modelSpec.checkpoint.empty() ? "" : resolvePath(modelSpec.checkpoint);
  if (spec.rewardModel) {
    if (from && from->spec.rewardModel)
      inputs.reward = loadRewardModel(from->checkpointDir);
    else {
      CausalLM lm = buildModel(modelSpec, tokenizer, from ? from->checkpointDir : declared);
      inputs.reward = rewardModelFrom(lm, spec.rewardOutputs, parsePooling(spec.pooling), spec.schedule.seed);
    }
  } else {
    if (from && from->spec.rewardModel)
      throw Error(spec.location + ": stage '" + spec.name + "' trains a policy but starts from reward stage '" +
                  spec.initFrom + "'");
    inputs.policy = buildModel(modelSpec, tokenizer, from ? from->checkpointDir : declared);
  }
  if (!spec.reference.empty())
    inputs.reference = referenceModel(spec.reference, spec.location);
  if (auto file = tokenizerFiles.find(modelSpec.tokenizer); file != tokenizerFiles.end())
    inputs.tokenizerFile = file->second;
  inputs.startCheckpoint = absolutePath(from ? from->checkpointDir : declared);
  std::set<std::string> trainedUsers;
  for (const data::Example &e : trainRows)
    if (!e.user.empty())
      trainedUsers.insert(e.user);
  if (spec.users.enabled) {
    if (!inputs.policy)
      throw Error(spec.location + ": users '" + spec.users.name + "' on a reward model are not executed by the runtime yet");
    if (trainedUsers.empty())
      throw Error(spec.location + ": users '" + spec.users.name + "' need user ids, but the training data of stage '" +
                  spec.name + "' has none (declare its `user` column)");
    inputs.users = UserModel(toUserSettings(spec.users), std::vector<std::string>(trainedUsers.begin(), trainedUsers.end()),
                             inputs.policy->config.hiddenSize);
    inputs.users->initialize(inputs.policy->model->embed_tokens->weight);
    if (userText) {
      int64_t withText = 0;
      for (const data::Example &row : trainRows)
        withText += row.userText.empty() ? 0 : 1;
      std::fprintf(stderr, "[%s] %lld of %zu training rows read their user's text (column '%s')\n", spec.name.c_str(),
                   static_cast<long long>(withText), trainRows.size(), spec.users.textColumn.c_str());
    }
    assignUserIds(inputs.train, inputs.users);
    for (auto &[name, examples] : inputs.evalSets)
      if (const int64_t unseen = assignUserIds(examples, inputs.users))
        std::fprintf(stderr, "[%s] %s: %lld rows of users not seen in training are scored as the generic user\n",
                     spec.name.c_str(), name.c_str(), static_cast<long long>(unseen));
  }
  if (spec.genericDuplicates) {
    // The P-DPO family trains every row of a user i != 0 a second time as the generic user 0 (the compiler's
    // duplicate-generic-rows decision); the copies follow the originals, and batches are shuffled.
    const size_t originals = inputs.train.size();
    std::vector<PreparedExample> plain;
    if (userText) {
      plain = prepareExamples(trainRows, tokenizer, prepare, nullptr);
      if (plain.size() != originals)
        throw Error(spec.location + ": the rows without user text prepare differently from those with it");
    }
    for (size_t i = 0; i < originals; ++i)
      if (inputs.train[i].userId != 0) {
        PreparedExample copy = userText ? plain[i] : inputs.train[i];
        copy.userId = 0;
        copy.index = static_cast<int64_t>(inputs.train.size());
        inputs.train.push_back(std::move(copy));
      }
    std::fprintf(stderr, "[%s] %zu user rows also train the generic user: %zu examples\n", spec.name.c_str(),
                 inputs.train.size() - originals, inputs.train.size());
  }
  if (spec.lora.enabled) {
    if (!inputs.policy)
      throw Error(spec.location + ": LoRA adapters on a reward model are not executed by the runtime yet");
    inputs.lora = attachLora(inputs.policy, LoraSettings{spec.lora.rank, spec.lora.alpha, spec.lora.dropout,
                                                         spec.lora.targets, spec.schedule.seed});
  }
  std::ostringstream fingerprint;
  fingerprint << "stage=" << spec.name << " data=" << spec.data << "." << spec.split << "(" << inputs.train.size()
              << ") objective=" << describeTerms(spec.objective) << " batch=" << spec.schedule.batch
              << " micro_batch=" << spec.schedule.microBatch << " seed=" << spec.schedule.seed
              << " lr=" << spec.schedule.lr << " max_length=" << spec.schedule.maxLength;
  if (spec.users.enabled)
    fingerprint << " users=" << spec.users.kind << "/" << spec.users.tokens << "/" << trainedUsers.size()
                << (userText ? " user_text=" + spec.users.textColumn : "");
  inputs.fingerprint = fingerprint.str();

  RunOptions run;
  run.outDir = options.outDir;
  run.device = device;
  run.stepsOverride = options.steps;
  run.resume = options.resume;
  run.interactive = ProgressLine::stderrIsInteractive();
  const int64_t total = plannedSteps(inputs.schedule, static_cast<int64_t>(inputs.train.size()), options.steps);
  std::string sources = spec.data + "." + spec.split;
  for (const std::string &more : spec.alsoOn)
    sources += ", " + more;
  std::fprintf(stderr, "[%s] training %s (%s) on %s: %zu examples, %lld steps of batch %lld\n", spec.name.c_str(),
               spec.model.c_str(), spec.rewardModel ? "reward model" : "policy", sources.c_str(), inputs.train.size(),
               static_cast<long long>(total), static_cast<long long>(spec.schedule.batch));
  StageResult result = align::rt::runStage(inputs, run, *metrics);
  StageRecord record;
  record.spec = spec;
  record.checkpointDir = result.checkpointDir;
  record.evaluation = result.evaluation;
  record.trainedUsers = std::move(trainedUsers);
  stages.push_back(std::move(record));
}

std::map<std::string, std::map<std::string, std::map<std::string, double>>> Trainer::Impl::evaluateAll() {
  std::map<std::string, std::map<std::string, std::map<std::string, double>>> out;
  std::set<std::string> unseenReported;
  if (options.evalLimit > 0 && !evals.empty())
    std::fprintf(stderr, "[eval] --eval-limit %lld: each evaluation reads at most the first %lld rows of its split\n",
                 static_cast<long long>(options.evalLimit), static_cast<long long>(options.evalLimit));
  for (const StageRecord &stage : stages) {
    Tokenizer &tokenizer = tokenizerOf(stage.spec.model);
    CausalLM policy{nullptr}, reference{nullptr};
    RewardModel reward{nullptr};
    UserModel users{nullptr};
    std::map<std::string, std::vector<PairJudgement>> judgedPairs;
    auto ensureModels = [&] {
      if (policy || reward)
        return;
      if (stage.spec.rewardModel)
        reward = loadRewardModel(stage.checkpointDir), reward->to(device), reward->eval();
      else
        policy = loadCausalLM(stage.checkpointDir), policy->to(device), policy->eval();
      users = loadUserModel(stage.checkpointDir);
      if (users)
        users->to(device), users->eval();
      if (!stage.spec.rewardModel && !stage.spec.reference.empty()) {
        reference = referenceModel(stage.spec.reference, stage.spec.location);
        reference->to(device);
        reference->eval();
      }
    };
    for (const EvalSpec &eval : evals) {
      if (!eval.stage.empty() && eval.stage != stage.spec.name)
        continue;
      // By group, rows of users the stage did not train on form the group "unseen": that is what a user
      // model serves them with (the generic user), and what a model without one never saw.
      std::vector<data::Example> rows = limitedForEval(split(eval.data, eval.split));
      if (!stage.spec.users.textColumn.empty())
        rows = withUserText(std::move(rows));
      int64_t unseenRows = 0;
      for (data::Example &row : rows)
        if (!stage.trainedUsers.empty() && !row.user.empty() && !stage.trainedUsers.count(row.user)) {
          ++unseenRows;
          if (eval.by == "group")
            row.group = "unseen";
        }
      if (unseenRows > 0 && !unseenReported.count(stage.spec.name + "/" + eval.data + "." + eval.split)) {
        unseenReported.insert(stage.spec.name + "/" + eval.data + "." + eval.split);
        std::fprintf(stderr, "[eval] %s on %s.%s: %lld rows of users not seen in training%s\n",
                     stage.spec.name.c_str(), eval.data.c_str(), eval.split.c_str(), static_cast<long long>(unseenRows),
                     stage.spec.users.enabled ? ", served as the generic user" : "");
      }
      const std::string key = eval.metric + (eval.by.empty() ? "" : "_by_" + eval.by);
      // `by dataset` groups by the data's name: each EvalSpec is one data source, one group of the table.
      const std::string by = eval.by == "dataset" ? "" : eval.by;
      auto store = [&](std::map<std::string, double> values) {
        for (auto &[group, value] : values)
          out[stage.spec.name][key][eval.by == "dataset" ? eval.data : group] = value;
      };
      // Domain pairs (DSP) also report their cross-domain pairs alone, under <key>_cross (docs/trainer.md).
      auto storeJudged = [&](const std::vector<PairJudgement> &judged, double PairJudgement::*value) {
        store(meanBy(judged, by, value));
        std::vector<PairJudgement> cross = crossDomainPairs(judged);
        if (!cross.empty())
          for (auto &[group, v] : meanBy(cross, by, value))
            out[stage.spec.name][key + "_cross"][eval.by == "dataset" ? eval.data : group] = v;
      };
      if (eval.metric == "length_baseline") {
        storeJudged(judgeByLength(rows), &PairJudgement::correct);
        continue;
      }
      ensureModels();
      if (eval.metric == "accuracy" || eval.metric == "margin") {
        // accuracy and margin on the same data judge the same pairs: score them once.
        const std::string cacheKey = eval.data + "." + eval.split + "/" + eval.by;
        if (judgedPairs.count(cacheKey)) {
          storeJudged(judgedPairs[cacheKey],
                      eval.metric == "accuracy" ? &PairJudgement::correct : &PairJudgement::margin);
          continue;
        }
        PrepareOptions prepare;
        prepare.tokenize = tokenizeOptions(stage.spec.schedule);
        prepare.pairs = true;
        std::vector<PreparedExample> examples = prepareExamples(rows, tokenizer, prepare, nullptr);
        if (users)
          assignUserIds(examples, users);
        auto rewards = sequenceRewards(examples, policy, reference, reward, data::padIdOf(tokenizer),
                                       std::max<int64_t>(1, stage.spec.schedule.batch), device, users);
        auto judged = judgePairs(examples, rewards);
        judgedPairs[cacheKey] = judged;
        storeJudged(judged, eval.metric == "accuracy" ? &PairJudgement::correct : &PairJudgement::margin);
      } else if (eval.metric == "loss") {
        StageInputs inputs;
        inputs.name = stage.spec.name;
        for (const TermSpec &t : stage.spec.objective)
          for (const ObjectiveTerm &term : toTerms(t))
            inputs.terms.push_back(term);
        inputs.schedule = toSchedule(stage.spec.schedule);
        inputs.padId = data::padIdOf(tokenizer);
        inputs.policy = policy;
        inputs.reward = reward;
        inputs.reference = reference;
        const PrepareOptions prepare = prepareOptions(inputs.terms, stage.spec.schedule,
                                                      data::parseSourceKind(data.at(eval.data).spec.kind));
        std::vector<PreparedExample> examples = prepareExamples(rows, tokenizer, prepare, nullptr);
        if (users)
          assignUserIds(examples, users);
        inputs.users = users;
        if (!examples.empty())
          store({{"", evaluateStageLoss(inputs, examples, device)["loss"]}});
      } else if (eval.metric == "generated_length") {
        if (!policy)
          throw Error(eval.location + ": generated_length needs a policy, but stage '" + stage.spec.name +
                      "' trains a reward model");
        GenerationSettings settings;
        auto param = [&](const char *name, double fallback) {
          auto it = eval.params.find(name);
          return it == eval.params.end() ? fallback : it->second;
        };
        settings.maxNewTokens = static_cast<int64_t>(param("max_new_tokens", 64));
        settings.samples = static_cast<int64_t>(param("samples", 32));
        settings.temperature = param("temperature", 1.0);
        settings.seed = stage.spec.schedule.seed;
        auto groupOf = [&](const data::Example &row) -> std::string {
          if (eval.by == "user")
            return row.user;
          if (eval.by == "group")
            return row.group;
          if (eval.by == "domain")
            return row.domain;
          return eval.by == "dataset" ? eval.data : "";
        };
        GeneratedLengths lengths = generatedLengthBy(policy, users, rows, groupOf, tokenizer,
                                                     tokenizeOptions(stage.spec.schedule), settings, device);
        for (const auto &[group, sample] : lengths.example)
          std::fprintf(stderr, "[eval] %s, %s%s: \"%s\"\n", stage.spec.name.c_str(), eval.by.c_str(),
                       group.empty() ? "" : (" " + group).c_str(), sample.c_str());
        store(lengths.mean);
      } else {
        throw Error(eval.location + ": metric '" + eval.metric + "' is not computed by the runtime yet");
      }
    }
  }
  return out;
}

//===----------------------------------------------------------------------===//
// The public Trainer
//===----------------------------------------------------------------------===//

Trainer::Trainer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Trainer::~Trainer() = default;

double Trainer::number(const std::string &key, double recipeValue) {
  const std::string *text = impl_->override(key);
  if (!text)
    return recipeValue;
  char *end = nullptr;
  const double value = std::strtod(text->c_str(), &end);
  if (text->empty() || *end != '\0')
    throw Error("--set " + key + "=" + *text + ": expected a number");
  return value;
}

int64_t Trainer::integer(const std::string &key, int64_t recipeValue) {
  const std::string *text = impl_->override(key);
  if (!text)
    return recipeValue;
  char *end = nullptr;
  const long long value = std::strtoll(text->c_str(), &end, 10);
  if (text->empty() || *end != '\0')
    throw Error("--set " + key + "=" + *text + ": expected an integer");
  return value;
}

std::string Trainer::text(const std::string &key, const std::string &recipeValue) {
  const std::string *text = impl_->override(key);
  return text ? *text : recipeValue;
}

bool Trainer::flag(const std::string &key, bool recipeValue) {
  const std::string *text = impl_->override(key);
  if (!text)
    return recipeValue;
  if (*text == "true")
    return true;
  if (*text == "false")
    return false;
  throw Error("--set " + key + "=" + *text + ": expected true or false");
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

void Trainer::stage(const StageSpec &spec) { impl_->runStage(spec); }

void Trainer::evaluate(const EvalSpec &spec) { impl_->evals.push_back(spec); }

} // namespace align::rt
