//===- StageSetup.cpp - From a StageSpec to a trained stage --------------===//
//
// Trainer::stage: everything a stage needs before its loop runs — the objective's terms, the training rows
// (the stage's split and any `also on` splits, with users' texts and generic duplicates), the held-out sets,
// the model it starts from (a declaration, an earlier stage's result, a reward head on either), the frozen
// reference, LoRA adapters and the users model — then train/StageRunner runs it and the result is recorded
// for later stages and the eval block.
//
//===----------------------------------------------------------------------===//

#include "core/TrainerImpl.h"
#include "core/UserTables.h"

#include "core/Contract.h"
#include "support/Files.h"
#include "data/Collate.h"
#include "data/RatingTargets.h"
#include "model/Checkpoint.h"
#include "model/Lora.h"
#include "model/RewardModel.h"
#include "model/UserModel.h"
#include "train/Progress.h"
#include "train/StageRunner.h"

#include <cstdio>
#include <set>
#include <sstream>

namespace align::rt {

namespace {

/// `1*dpo(beta=0.1,label_smoothing=0,)` for the resume fingerprint: every term and every parameter value.
std::string describeTerms(const std::vector<TermSpec> &terms) {
  std::string out;
  for (size_t i = 0; i < terms.size(); ++i)
    out += (i ? " + " : "") + describeTerm(terms[i]);
  return out;
}

} // namespace

std::vector<ObjectiveTerm> stageTerms(const StageSpec &spec) {
  std::vector<ObjectiveTerm> terms;
  for (const TermSpec &t : spec.objective) {
    checkTerm(t, spec.location + ": stage '" + spec.name + "'");
    for (const ObjectiveTerm &term : expandTerm(t))
      terms.push_back(term);
  }
  if (terms.empty())
    throw Error(spec.location + ": stage '" + spec.name + "' has no objective");
  return terms;
}

StageInputs Trainer::Impl::prepareStage(const StageSpec &spec, std::set<std::string> &trainedUsers) {
  Tokenizer &tokenizer = tokenizerOf(spec.model);
  const ModelSpec &modelSpec = models.at(spec.model);
  StageInputs inputs;
  inputs.name = spec.name;
  inputs.terms = stageTerms(spec);
  static_cast<ScheduleSpec &>(inputs.schedule) = spec.schedule;
  inputs.padId = data::padIdOf(tokenizer);
  if (!data.count(spec.train.data))
    throw Error(spec.location + ": stage '" + spec.name + "' trains on undeclared data '" + spec.train.data + "'");
  for (const DataRef &more : spec.alsoOn)
    if (!data.count(more.data))
      throw Error(spec.location + ": stage '" + spec.name + "' trains on undeclared data '" + more.data + "'");
  const DataSpec &dataSpec = data.at(spec.train.data).spec;
  const PrepareOptions prepare = prepareOptions(inputs.terms, spec.schedule, dataSpec.kind);
  int64_t unused = 0;
  // `text: "column"` of the users model: the data read that column too (reloaded if an earlier stage read it
  // without); rows of known users get the text, their generic duplicates do not.
  const bool userText = spec.users.enabled && !spec.users.textColumn.empty();
  if (userText) {
    std::vector<std::string> names = {spec.train.data};
    for (const DataRef &more : spec.alsoOn)
      names.push_back(more.data);
    for (const std::string &name : names) {
      auto entry = data.find(name);
      if (entry != data.end() && entry->second.spec.columns["user_text"] != spec.users.textColumn) {
        entry->second.spec.columns["user_text"] = spec.users.textColumn;
        entry->second.loaded.reset();
      }
    }
  }
  std::vector<data::Example> trainRows = split(spec.train.data, spec.train.split);
  for (const DataRef &more : spec.alsoOn) {
    const std::vector<data::Example> &rows = split(more.data, more.split);
    trainRows.insert(trainRows.end(), rows.begin(), rows.end());
  }
  inputs.train = prepareExamples(userText ? withUserText(trainRows) : trainRows, tokenizer, prepare, &unused);
  if (unused > 0)
    std::fprintf(stderr, "[%s] %lld examples of %s.%s give the objective nothing to read (e.g. tied scores); left out\n",
                 spec.name.c_str(), static_cast<long long>(unused), spec.train.data.c_str(), spec.train.split.c_str());
  std::vector<std::string> trainedData = {spec.train.data};
  for (const DataRef &more : spec.alsoOn)
    trainedData.push_back(more.data);
  for (const std::string &name : trainedData)
    for (const auto &[splitName, rows] : loadData(name).splits)
      if (splitName != "train" && splitName != spec.train.split && !rows.empty()) {
        std::vector<data::Example> held = limitedForEval(rows);
        inputs.evalSets[name + "." + splitName] =
            prepareExamples(userText ? withUserText(std::move(held)) : held, tokenizer, prepare, nullptr);
      }

  // A regression reward learns targets, not raw ratings (data/RatingTargets.h): one map, from the training rows.
  for (const ObjectiveTerm &term : inputs.terms)
    if (term.kind() == LossKind::regression) {
      RatingTargets targets = ratingTargets(term.spec.as<RegressionParams>(), inputs.train);
      applyRatingTargets(targets, inputs.train);
      for (auto &[name, examples] : inputs.evalSets)
        applyRatingTargets(targets, examples);
      ratingTargetsOf[spec.name] = targets;
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
      inputs.reward = rewardModelFrom(lm, spec.rewardOutputs, spec.pooling, spec.schedule.seed);
    }
  } else {
    if (from && from->spec.rewardModel)
      throw Error(spec.location + ": stage '" + spec.name + "' trains a policy but starts from reward stage '" +
                  spec.initFrom + "'");
    inputs.policy = buildModel(modelSpec, tokenizer, from ? from->checkpointDir : declared);
  }
  // The compiler's plan, the first lines of the stage's log; a plan made for another model size (a --set
  // changed the preset or checkpoint) says so.
  const int64_t hidden = inputs.policy ? inputs.policy->config.hiddenSize : inputs.reward->config.hiddenSize;
  for (const PlanDecision &d : spec.schedule.plan)
    inputs.notes.push_back(
        "alignc chose " + d.setting + " = " + d.value +
        (options.sets.count(d.setting) ? " (replaced by --set " + d.setting + "=" + options.sets.at(d.setting) + ")" : "") +
        ": " + d.reason +
        (d.hidden > 0 && d.hidden != hidden && !options.sets.count(d.setting)
             ? " — but this model's hidden size is " + std::to_string(hidden) +
                   " (a --set changed the model): the choice may not hold; set " + d.setting + " to decide"
             : ""));
  if (!spec.reference.empty())
    inputs.reference = referenceModel(spec.reference, spec.location);
  if (auto file = tokenizerFiles.find(modelSpec.tokenizer); file != tokenizerFiles.end())
    inputs.tokenizerFile = file->second;
  inputs.startCheckpoint = absolutePath(from ? from->checkpointDir : declared);
  trainedUsers.clear();
  for (const data::Example &e : trainRows)
    if (!e.user.empty())
      trainedUsers.insert(e.user);
  if (spec.users.enabled) {
    if (trainedUsers.empty())
      throw Error(spec.location + ": users '" + spec.users.name + "' need user ids, but the training data of stage '" +
                  spec.name + "' has none (declare its `user` column)");
    // On a policy, or on a reward model (P-RM): the soft tokens live in the decoder's embedding space.
    Decoder &decoder = inputs.policy ? inputs.policy->model : inputs.reward->model;
    inputs.users = UserModel(spec.users, std::vector<std::string>(trainedUsers.begin(), trainedUsers.end()),
                             decoder->embed_tokens->weight.size(1));
    inputs.users->initialize(decoder->embed_tokens->weight);
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
    inputs.lora = attachLora(inputs.policy, spec.lora, spec.schedule.seed);
  }
  std::ostringstream fingerprint;
  fingerprint << "stage=" << spec.name << " data=" << spec.train.data << "." << spec.train.split << "(" << inputs.train.size()
              << ") objective=" << describeTerms(spec.objective) << " batch=" << spec.schedule.batch
              << " micro_batch=" << spec.schedule.microBatch << " seed=" << spec.schedule.seed
              << " lr=" << spec.schedule.lr << " max_length=" << spec.schedule.maxLength;
  if (spec.users.enabled)
    fingerprint << " users=" << spelling(spec.users.kind) << "/" << spec.users.tokens << "/" << trainedUsers.size()
                << (userText ? " user_text=" + spec.users.textColumn : "");
  if (spec.users.enabled && spec.users.weightLr > 0)
    fingerprint << " weight_lr=" << spec.users.weightLr;
  if (spec.users.enabled && spec.users.weightStd != 1)
    fingerprint << " weight_std=" << spec.users.weightStd;
  inputs.fingerprint = fingerprint.str();
  return inputs;
}

RunOptions Trainer::Impl::runOptions() const {
  RunOptions run;
  run.outDir = options.outDir;
  run.device = device;
  run.stepsOverride = options.steps;
  run.resume = options.resume;
  run.interactive = ProgressLine::stderrIsInteractive();
  run.world = world.get();
  return run;
}

void Trainer::Impl::runStage(const StageSpec &spec) {
  for (const TermSpec &term : spec.objective)
    if (term.kind == LossKind::em_dpo)
      throw Error(spec.location + ": stage '" + spec.name + "': em_dpo trains inside `loop em` (Trainer::emBegin), " +
                  "not as a plain stage");
  std::set<std::string> trainedUsers;
  StageInputs inputs = prepareStage(spec, trainedUsers);
  RunOptions run = runOptions();
  const int64_t total = plannedSteps(inputs.schedule, static_cast<int64_t>(inputs.train.size()), options.steps);
  std::string sources = spec.train.data + "." + spec.train.split;
  for (const DataRef &more : spec.alsoOn)
    sources += ", " + more.data + "." + more.split;
  std::fprintf(stderr, "[%s] training %s (%s) on %s: %zu examples, %lld steps of batch %lld\n", spec.name.c_str(),
               spec.model.c_str(), spec.rewardModel ? "reward model" : "policy", sources.c_str(), inputs.train.size(),
               static_cast<long long>(total), static_cast<long long>(spec.schedule.batch));
  StageResult result = align::rt::runStage(inputs, run, *metrics);
  if (nlohmann::json tables = userTableSummary(inputs.users, inputs.train); !tables.is_null()) {
    std::fprintf(stderr, "[%s] users: %s\n", spec.name.c_str(), userTableLine(tables).c_str());
    writeUserTableChart(joinPath(options.outDir, spec.name + "_users.svg"), spec.name, tables);
    extraEval[spec.name]["user_tables"] = std::move(tables);
  }
  StageRecord record;
  record.spec = spec;
  record.checkpointDir = result.checkpointDir;
  record.evaluation = result.evaluation;
  record.trainedUsers = std::move(trainedUsers);
  stages.push_back(std::move(record));
}

} // namespace align::rt
