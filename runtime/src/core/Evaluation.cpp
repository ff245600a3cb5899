//===- Evaluation.cpp - The eval block, for every stage ------------------===//
//
// After the stages: each metric of the recipe's eval block (and of a stage's own) on each stage's final model
// it applies to — pair accuracy and margin from implicit rewards or reward scores (scored once per data split),
// the always-longer baseline, the objective on held-out rows, and generated length — grouped by user, group,
// domain or data source. The result is eval.json's stage → metric → group → value.
//
//===----------------------------------------------------------------------===//

#include "core/TrainerImpl.h"

#include "model/Checkpoint.h"
#include "model/RewardModel.h"
#include "model/UserModel.h"
#include "train/GeneratedLength.h"
#include "train/PairMetrics.h"
#include "train/RegressionFit.h"
#include "train/StageRunner.h"

#include <cstdio>
#include <set>

namespace align::rt {

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
      if (eval.by == By::type && eval.metric != MetricKind::regret)
        continue; // latent types' policies are EM stages' (TypeEvaluation.cpp)
      // By group, rows of users the stage did not train on form the group "unseen": that is what a user
      // model serves them with (the generic user), and what a model without one never saw.
      const std::string by = eval.by ? spelling(*eval.by) : "";
      const std::string metric = spelling(eval.metric);
      std::vector<data::Example> rows = limitedForEval(split(eval.on.data, eval.on.split));
      if (!stage.spec.users.textColumn.empty())
        rows = withUserText(std::move(rows));
      int64_t unseenRows = 0;
      for (data::Example &row : rows)
        if (!stage.trainedUsers.empty() && !row.user.empty() && !stage.trainedUsers.count(row.user)) {
          ++unseenRows;
          if (eval.by == By::group)
            row.group = "unseen";
        }
      if (unseenRows > 0 && !unseenReported.count(stage.spec.name + "/" + eval.on.data + "." + eval.on.split)) {
        unseenReported.insert(stage.spec.name + "/" + eval.on.data + "." + eval.on.split);
        std::fprintf(stderr, "[eval] %s on %s.%s: %lld rows of users not seen in training%s\n",
                     stage.spec.name.c_str(), eval.on.data.c_str(), eval.on.split.c_str(), static_cast<long long>(unseenRows),
                     stage.spec.users.enabled ? ", served as the generic user" : "");
      }
      const std::string key = metric + (by.empty() ? "" : "_by_" + by);
      // `by dataset` groups by the data's name: each EvalSpec is one data source, one group of the table.
      const bool byDataset = eval.by == By::dataset;
      const std::string groupBy = byDataset ? "" : by;
      auto store = [&](std::map<std::string, double> values) {
        for (auto &[group, value] : values)
          out[stage.spec.name][key][byDataset ? eval.on.data : group] = value;
      };
      // Domain pairs (DSP) also report their cross-domain pairs alone, under <key>_cross (docs/trainer.md).
      auto storeJudged = [&](const std::vector<PairJudgement> &judged, double PairJudgement::*value) {
        store(meanBy(judged, groupBy, value));
        std::vector<PairJudgement> cross = crossDomainPairs(judged);
        if (!cross.empty())
          for (auto &[group, v] : meanBy(cross, groupBy, value))
            out[stage.spec.name][key + "_cross"][byDataset ? eval.on.data : group] = v;
      };
      if (eval.metric == MetricKind::pareto || eval.by == By::direction) {
        std::map<std::string, double> table;
        evaluateDirections(stage, eval, table);
        if (!table.empty())
          store(table);
        continue;
      }
      if (eval.metric == MetricKind::length_baseline) {
        storeJudged(judgeByLength(rows), &PairJudgement::correct);
        continue;
      }
      ensureModels();
      if (eval.metric == MetricKind::accuracy || eval.metric == MetricKind::margin) {
        // accuracy and margin on the same data judge the same pairs: score them once.
        const std::string cacheKey = eval.on.data + "." + eval.on.split + "/" + by;
        if (judgedPairs.count(cacheKey)) {
          storeJudged(judgedPairs[cacheKey],
                      eval.metric == MetricKind::accuracy ? &PairJudgement::correct : &PairJudgement::margin);
          continue;
        }
        PrepareOptions prepare;
        prepare.tokenize = tokenizeOptions(stage.spec.schedule);
        prepare.pairs = true;
        std::vector<PreparedExample> examples = prepareExamples(rows, tokenizer, prepare, nullptr);
        if (users)
          assignUserIds(examples, users);
        auto rewards = sequenceRewards(examples, policy, reference, reward, data::padIdOf(tokenizer),
                                       std::max<int64_t>(1, stage.spec.schedule.batch), device, users, world.get());
        auto judged = judgePairs(examples, rewards);
        judgedPairs[cacheKey] = judged;
        storeJudged(judged, eval.metric == MetricKind::accuracy ? &PairJudgement::correct : &PairJudgement::margin);
      } else if (eval.metric == MetricKind::loss) {
        StageInputs inputs;
        inputs.name = stage.spec.name;
        inputs.terms = stageTerms(stage.spec);
        static_cast<ScheduleSpec &>(inputs.schedule) = stage.spec.schedule;
        inputs.padId = data::padIdOf(tokenizer);
        inputs.policy = policy;
        inputs.reward = reward;
        inputs.reference = reference;
        const PrepareOptions prepare = prepareOptions(inputs.terms, stage.spec.schedule, data.at(eval.on.data).spec.kind);
        std::vector<PreparedExample> examples = prepareExamples(rows, tokenizer, prepare, nullptr);
        if (users)
          assignUserIds(examples, users);
        inputs.users = users;
        auto targets = ratingTargetsOf.find(stage.spec.name);
        if (targets != ratingTargetsOf.end())
          applyRatingTargets(targets->second, examples);
        if (!examples.empty())
          store({{"", evaluateStageLoss(inputs, examples, device, world.get())["loss"]}});
        // A regression reward: each objective's fit on the held-out rows (MSE, Pearson, Spearman).
        if (reward && targets != ratingTargetsOf.end() && !examples.empty()) {
          std::vector<std::vector<double>> ratings;
          for (const PreparedExample &e : examples)
            ratings.push_back(e.ratings);
          std::vector<ObjectiveFit> fits = objectiveFits(
              rewardPredictions(reward, examples, inputs.padId, std::max<int64_t>(1, stage.spec.schedule.batch)), ratings);
          for (size_t o = 0; o < fits.size(); ++o) {
            const std::string name =
                o < stage.spec.rewardObjectives.size() ? stage.spec.rewardObjectives[o] : std::to_string(o);
            out[stage.spec.name]["mse"][name] = fits[o].mse;
            out[stage.spec.name]["pearson"][name] = fits[o].pearson;
            out[stage.spec.name]["spearman"][name] = fits[o].spearman;
          }
        }
      } else if (eval.metric == MetricKind::generated_length) {
        if (!policy)
          throw Error(eval.location + ": generated_length needs a policy, but stage '" + stage.spec.name +
                      "' trains a reward model");
        const GeneratedLengthParams &params = eval.as<GeneratedLengthParams>();
        GenerationSettings settings;
        settings.maxNewTokens = params.max_new_tokens;
        settings.samples = params.samples;
        settings.temperature = params.temperature;
        settings.seed = stage.spec.schedule.seed;
        auto groupOf = [&](const data::Example &row) -> std::string {
          if (eval.by == By::user)
            return row.user;
          if (eval.by == By::group)
            return row.group;
          if (eval.by == By::domain)
            return row.domain;
          return byDataset ? eval.on.data : "";
        };
        GeneratedLengths lengths = generatedLengthBy(policy, users, rows, groupOf, tokenizer,
                                                     tokenizeOptions(stage.spec.schedule), settings, device,
                                                     world.get());
        for (const auto &[group, sample] : lengths.example)
          std::fprintf(stderr, "[eval] %s, %s%s: \"%s\"\n", stage.spec.name.c_str(), by.c_str(),
                       group.empty() ? "" : (" " + group).c_str(), sample.c_str());
        store(lengths.mean);
      } else if (eval.metric == MetricKind::regret) {
        // Each latent type's regret when this stage's policy answers (RegretEstimate.cpp), for every EM stage.
        if (!policy || users)
          throw Error(eval.location + ": regret needs a plain policy, but stage '" + stage.spec.name + "' trains " +
                      (policy ? "a user model" : "a reward model"));
        const RegretParams &params = eval.as<RegretParams>();
        for (const auto &[emStage, types] : typePolicies) {
          RegretRequest request;
          request.prompts = eval.on;
          request.samples = params.samples;
          request.answers = params.answers;
          request.maxNewTokens = params.max_new_tokens;
          request.where = eval.location + ": regret of stage '" + stage.spec.name + "'";
          RegretEstimate estimate = estimateRegrets(types, {stage.checkpointDir}, {stage.spec.name}, request);
          std::map<std::string, double> byType;
          for (size_t k = 0; k < estimate.others[0].size(); ++k)
            byType[(typePolicies.size() > 1 ? emStage + "." : "") + "type" + std::to_string(k)] = estimate.others[0][k];
          store(byType);
        }
      } else {
        throw Error(eval.location + ": metric '" + metric + "' is not computed by the runtime yet");
      }
    }
  }
  evaluateTypeStages(out);
  return out;
}

} // namespace align::rt
