//===- PairMetrics.h - Pair accuracy and margins, overall and by group -*- C++ -*-===//
//
// The recipe's eval metrics over preference pairs. A pair is judged by the model's reward for each side:
// a reward model's score; for a policy, the implicit reward log π − log π_ref summed over the response when
// the stage has a reference (DPO's reward up to β), else the mean token log-prob (SimPO's reward, which needs
// no reference). `length_baseline` judges by response length in bytes (ties count half). Groups are the
// example's user, group or domain id ("" when the data has none).
//
//===----------------------------------------------------------------------===//
#pragma once

#include "model/Llama.h"
#include "model/RewardModel.h"
#include "model/UserModel.h"
#include "data/PreparedData.h"
#include "dist/World.h"

#include <map>
#include <string>
#include <vector>

namespace align::rt {

struct PairJudgement {
  double correct = 0; ///< 1, 0, or ½ for a length tie
  double margin = 0;  ///< reward(better) − reward(worse)
  std::string user, group, domain;
  std::string versus; ///< domain_pairs: the rejected response's domain
};

/// The reward of every sequence of `examples` (one vector per example), from a policy (with an optional
/// reference) or a reward model; batched by `batchSize`. With `users`, the policy reads each example's user
/// tokens (PreparedExample::userId); the reference never does. With a many-process `world`, each rank scores
/// its contiguous share and every rank gets all the values, in example order.
std::vector<std::vector<double>> sequenceRewards(const std::vector<PreparedExample> &examples, CausalLM policy,
                                                 CausalLM reference, RewardModel reward, int64_t padId,
                                                 int64_t batchSize, torch::Device device,
                                                 UserModel users = UserModel{nullptr},
                                                 const dist::World *world = nullptr);

std::vector<PairJudgement> judgePairs(const std::vector<PreparedExample> &examples,
                                      const std::vector<std::vector<double>> &rewards);

/// The longer-response baseline on text examples (best first by score; pairs of different scores).
std::vector<PairJudgement> judgeByLength(const std::vector<data::Example> &examples);

/// DSP's cross-domain pairs: those of domain_pairs data whose rejected response is another domain's, not
/// the `normal` one (the original Alpaca answer, which length alone beats ≈88% of the time). Empty when the
/// judgements are not domain pairs.
std::vector<PairJudgement> crossDomainPairs(const std::vector<PairJudgement> &judgements);

/// Mean of `value(j)` over the judgements, overall (key "") or grouped by `by` (user, group, domain).
std::map<std::string, double> meanBy(const std::vector<PairJudgement> &judgements, const std::string &by,
                                     double PairJudgement::*value);

} // namespace align::rt
