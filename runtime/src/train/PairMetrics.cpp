//===- PairMetrics.cpp - Pair accuracy and margins, overall and by group --===//

#include "train/PairMetrics.h"

#include "dist/Shares.h"

#include "align/rt/Error.h"
#include "objectives/Losses.h"
#include "train/TrainingStep.h"

namespace align::rt {

std::vector<std::vector<double>> sequenceRewards(const std::vector<PreparedExample> &examples, CausalLM policy,
                                                 CausalLM reference, RewardModel reward, int64_t padId,
                                                 int64_t batchSize, torch::Device device, UserModel users,
                                                 const dist::World *world) {
  torch::NoGradGuard noGrad;
  // Many processes: this rank's contiguous share [first, last), then a gather of every share's values.
  const auto [first, last] = dist::shareOf(examples.size(), world);
  std::vector<std::vector<double>> out;
  for (size_t start = first; start < last; start += static_cast<size_t>(batchSize)) {
    std::vector<const PreparedExample *> part;
    for (size_t i = start; i < std::min(last, start + static_cast<size_t>(batchSize)); ++i)
      part.push_back(&examples[i]);
    MicroBatch micro = collateSequences(part, padId);
    torch::Tensor ids = micro.tokens.ids.to(device);
    // As a training step decodes: without the padding, each example's shared prompt once, the LM head only at
    // the response tokens in vocabulary chunks (train/TrainingStep.h).
    const RowLayout layout = rowLayout(part, micro.tokens.lengths.to(device), /*sharePrefixes=*/true);
    torch::Tensor values;
    torch::Tensor softTokens; // each row's user's soft tokens (a personalized policy, or a P-RM)
    if (users) {
      std::vector<int64_t> userIds;
      for (const PreparedExample *e : part)
        userIds.insert(userIds.end(), e->sequences.size(), e->userId);
      softTokens = users->forward(torch::tensor(userIds, torch::kInt64).to(device));
    }
    if (reward) {
      values = reward->rewardsOf(reward->hidden(ids, softTokens, layout), micro.tokens.attention.to(device)).select(1, 0);
    } else {
      torch::Tensor targets = micro.responseTargets.to(device);
      auto responseLogps = [&](CausalLM &model, const torch::Tensor &soft) {
        return headTokenLogps(model->hidden(ids, soft, layout), model->headWeight(), ids, targets, /*chunk=*/1024);
      };
      torch::Tensor logps = responseLogps(policy, softTokens);
      if (reference)
        values = sequenceLogprobs(logps, targets) - sequenceLogprobs(responseLogps(reference, {}), targets);
      else
        values = meanTokenLogprobs(logps, targets);
    }
    values = values.to(torch::kCPU, torch::kFloat64).contiguous();
    const double *v = values.data_ptr<double>();
    for (const PreparedExample *e : part) {
      out.emplace_back(v, v + e->sequences.size());
      v += e->sequences.size();
    }
  }
  if (!world || !world->distributed())
    return out;
  std::vector<double> local;
  for (const std::vector<double> &values : out)
    local.insert(local.end(), values.begin(), values.end());
  const std::vector<double> all = world->allGather(local); // rank order is example order
  out.clear();
  size_t at = 0;
  for (const PreparedExample &e : examples) {
    out.emplace_back(all.begin() + static_cast<int64_t>(at), all.begin() + static_cast<int64_t>(at + e.sequences.size()));
    at += e.sequences.size();
  }
  return out;
}

std::vector<PairJudgement> judgePairs(const std::vector<PreparedExample> &examples,
                                      const std::vector<std::vector<double>> &rewards) {
  std::vector<PairJudgement> out;
  for (size_t e = 0; e < examples.size(); ++e)
    for (auto [i, j] : examples[e].pairs) {
      PairJudgement p;
      p.margin = rewards[e][i] - rewards[e][j];
      p.correct = p.margin > 0 ? 1.0 : 0.0;
      p.user = examples[e].user;
      p.group = examples[e].group;
      p.domain = examples[e].domain;
      p.versus = examples[e].versus;
      out.push_back(p);
    }
  return out;
}

std::vector<PairJudgement> judgeByLength(const std::vector<data::Example> &examples) {
  std::vector<PairJudgement> out;
  for (const data::Example &e : examples) {
    if (e.scores.size() != e.responses.size())
      continue;
    for (size_t i = 0; i < e.responses.size(); ++i)
      for (size_t j = 0; j < e.responses.size(); ++j) {
        if (!(e.scores[i] > e.scores[j]))
          continue;
        PairJudgement p;
        const double a = static_cast<double>(e.responses[i].size()), b = static_cast<double>(e.responses[j].size());
        p.correct = a > b ? 1.0 : a == b ? 0.5 : 0.0;
        p.margin = a - b;
        p.user = e.user;
        p.group = e.group;
        p.domain = e.domain;
        p.versus = e.versus;
        out.push_back(p);
      }
  }
  return out;
}

std::vector<PairJudgement> crossDomainPairs(const std::vector<PairJudgement> &judgements) {
  std::vector<PairJudgement> out;
  for (const PairJudgement &j : judgements)
    if (!j.versus.empty() && j.versus != "normal")
      out.push_back(j);
  return out;
}

std::map<std::string, double> meanBy(const std::vector<PairJudgement> &judgements, const std::string &by,
                                     double PairJudgement::*value) {
  std::map<std::string, std::pair<double, double>> sums;
  for (const PairJudgement &j : judgements) {
    std::string key;
    if (by == "user")
      key = j.user;
    else if (by == "group")
      key = j.group;
    else if (by == "domain")
      key = j.domain;
    else if (!by.empty() && by != "dataset")
      throw Error("metrics by '" + by + "' are not computed by the runtime yet (it groups by user, group, domain)");
    auto &s = sums[key];
    s.first += j.*value;
    s.second += 1;
  }
  std::map<std::string, double> out;
  for (const auto &[key, s] : sums)
    out[key] = s.first / s.second;
  return out;
}

} // namespace align::rt
