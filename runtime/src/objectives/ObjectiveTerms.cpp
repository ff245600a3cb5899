//===- ObjectiveTerms.cpp - A stage's objective on prepared batches -------===//
//
// Dispatches each term to its math in Losses.h by LossKind, reading the term's typed parameters
// (align/rt/Trainer.h, generated from the registry).
//
//===----------------------------------------------------------------------===//

#include "objectives/ObjectiveTerms.h"

#include "align/registry/Registry.h"
#include "align/rt/Error.h"
#include "objectives/Losses.h"

#include <cmath>

namespace align::rt {

namespace {

const registry::Objective &objectiveOf(LossKind kind) { return registry::objectives()[static_cast<size_t>(kind)]; }

/// Sequence indices of the micro-batch's pairs (better, worse), and each pair's example weight.
struct PairIndex {
  torch::Tensor better, worse, weight;
  int64_t count = 0;
};

bool readsRows(UserRows rows, const PreparedExample &e) {
  return rows == UserRows::All || (rows == UserRows::Users) == (e.userId != 0);
}

PairIndex pairIndex(const std::vector<const PreparedExample *> &batch, bool exampleWeights, torch::Device device,
                    UserRows rows = UserRows::All) {
  std::vector<int64_t> better, worse;
  std::vector<double> weight;
  int64_t base = 0;
  for (const PreparedExample *e : batch) {
    for (auto [i, j] : readsRows(rows, *e) ? e->pairs : std::vector<std::pair<int, int>>{}) {
      better.push_back(base + i);
      worse.push_back(base + j);
      weight.push_back(exampleWeights ? e->weight : 1.0);
    }
    base += static_cast<int64_t>(e->sequences.size());
  }
  PairIndex index;
  index.count = static_cast<int64_t>(better.size());
  auto i64 = torch::TensorOptions().dtype(torch::kInt64);
  index.better = torch::tensor(better, i64).to(device);
  index.worse = torch::tensor(worse, i64).to(device);
  index.weight = torch::tensor(weight, torch::kFloat64).to(device);
  return index;
}

/// Sequence indices selected by `member` (nll or imitation lists), with their example weights.
std::pair<torch::Tensor, torch::Tensor> sequenceIndex(const std::vector<const PreparedExample *> &batch,
                                                      std::vector<int> PreparedExample::*member, bool exampleWeights,
                                                      torch::Device device) {
  std::vector<int64_t> rows;
  std::vector<double> weight;
  int64_t base = 0;
  for (const PreparedExample *e : batch) {
    for (int i : e->*member) {
      rows.push_back(base + i);
      weight.push_back(exampleWeights ? e->weight : 1.0);
    }
    base += static_cast<int64_t>(e->sequences.size());
  }
  return {torch::tensor(rows, torch::kInt64).to(device), torch::tensor(weight, torch::kFloat64).to(device)};
}

/// Σ weight·values / units as a scalar in the values' dtype (0 units: the term is absent from this step).
torch::Tensor weightedShare(const torch::Tensor &values, const torch::Tensor &weight, double units) {
  if (units <= 0 || values.numel() == 0)
    return torch::zeros({}, values.options());
  return (values * weight.to(values.scalar_type())).sum() / units;
}

/// Pair metrics; `suffix` ("@users", "@generic") keeps the two halves of a P-DPO term apart.
void addPairMetrics(TermContribution &out, const torch::Tensor &chosen, const torch::Tensor &rejected, double units,
                    const std::string &suffix = "") {
  if (units <= 0 || chosen.numel() == 0)
    return;
  out.sums["accuracy" + suffix] += (chosen > rejected).to(torch::kFloat64).sum().item<double>() / units;
  out.sums["margin" + suffix] += (chosen - rejected).to(torch::kFloat64).sum().item<double>() / units;
  out.sums["chosen_reward" + suffix] += chosen.to(torch::kFloat64).sum().item<double>() / units;
  out.sums["rejected_reward" + suffix] += rejected.to(torch::kFloat64).sum().item<double>() / units;
}

/// Raw per-group pair counts ("pairs#<group>", "correct#<group>") for examples with a `group`: a micro-batch
/// does not know a group's share of the whole batch, so foldGroupCounts turns the sums into accuracies.
void addGroupCounts(TermContribution &out, const std::vector<const PreparedExample *> &batch, UserRows rows,
                    const torch::Tensor &chosen, const torch::Tensor &rejected) {
  std::vector<const std::string *> groups; // per pair, in pairIndex's order
  for (const PreparedExample *e : batch)
    if (readsRows(rows, *e))
      for (size_t p = 0; p < e->pairs.size(); ++p)
        groups.push_back(&e->group);
  bool any = false;
  for (const std::string *g : groups)
    any = any || !g->empty();
  if (!any || static_cast<int64_t>(groups.size()) != chosen.numel())
    return;
  torch::Tensor correct = (chosen > rejected).to(torch::kCPU);
  const bool *c = correct.data_ptr<bool>();
  for (size_t i = 0; i < groups.size(); ++i) {
    out.sums["pairs#" + *groups[i]] += 1;
    out.sums["correct#" + *groups[i]] += c[i] ? 1 : 0;
  }
}

std::string rowsSuffix(UserRows rows) {
  return rows == UserRows::Users ? "@users" : rows == UserRows::Generic ? "@generic" : "";
}

/// The pairwise loss of a policy term on its pairs (its math: dpo, ipo, hinge or simpo, with the parameters of
/// the recipe's term).
PreferenceLoss pairLoss(const ObjectiveTerm &term, const PairIndex &pairs, const torch::Tensor &policyLogps,
                        const PolicyOutputs &outputs) {
  const TermSpec &spec = term.spec;
  if (mathOf(spec.kind) == LossKind::simpo) {
    torch::Tensor mean = meanTokenLogprobs(outputs.tokenLogps, outputs.responseTargets);
    torch::Tensor better = mean.index_select(0, pairs.better), worse = mean.index_select(0, pairs.worse);
    if (spec.kind == LossKind::psimpo) {
      const PsimpoParams &p = spec.as<PsimpoParams>();
      return simpoLoss(better, worse, p.beta, p.gamma, 0.0);
    }
    const SimpoParams &p = spec.as<SimpoParams>();
    return simpoLoss(better, worse, p.beta, p.gamma, 0.0);
  }
  if (!outputs.referenceLogps.defined())
    throw Error(std::string(spelling(spec.kind)) + ": the reference log-probs are missing");
  PreferenceLogprobs logps{policyLogps.index_select(0, pairs.better), policyLogps.index_select(0, pairs.worse),
                           outputs.referenceLogps.index_select(0, pairs.better),
                           outputs.referenceLogps.index_select(0, pairs.worse)};
  switch (spec.kind) {
  case LossKind::dpo:
    return dpoLoss(logps, spec.as<DpoParams>().beta, spec.as<DpoParams>().label_smoothing);
  case LossKind::pdpo:
    return dpoLoss(logps, spec.as<PdpoParams>().beta, 0.0);
  case LossKind::hinge:
    return hingeLoss(logps, spec.as<HingeParams>().beta);
  case LossKind::ipo:
  case LossKind::pipo: {
    const double beta = spec.kind == LossKind::ipo ? spec.as<IpoParams>().beta : spec.as<PipoParams>().beta;
    torch::Tensor counts = tokenCounts(outputs.responseTargets, policyLogps);
    return ipoLoss(logps, beta, counts.index_select(0, pairs.better), counts.index_select(0, pairs.worse));
  }
  default:
    throw Error(std::string(spelling(spec.kind)) + " is not a pairwise loss on log-probs");
  }
}

void addTerm(TermContribution &out, const ObjectiveTerm &term, const torch::Tensor &value) {
  out.sums["loss/" + termLabel(term)] += value.detach().item<double>();
  torch::Tensor scaled = value * term.weight;
  out.loss = out.loss.defined() ? out.loss + scaled : scaled;
}

/// Mean token NLL of each selected sequence over `mask` (imitation's per-sequence average), [M].
torch::Tensor perSequenceMeanNll(const torch::Tensor &tokenLogps, const torch::Tensor &mask) {
  PooledLoss pooled = nllLoss(tokenLogps, mask);
  return pooled.perExample();
}

} // namespace

LossKind mathOf(LossKind kind) {
  switch (kind) {
  case LossKind::pdpo:
    return LossKind::dpo;
  case LossKind::pipo:
    return LossKind::ipo;
  case LossKind::psimpo:
    return LossKind::simpo;
  case LossKind::pbt:
    return LossKind::bt;
  default:
    return kind;
  }
}

void foldGroupCounts(std::map<std::string, double> &sums) {
  std::map<std::string, double> accuracy;
  for (auto it = sums.begin(); it != sums.end();) {
    if (it->first.rfind("pairs#", 0) == 0) {
      const std::string group = it->first.substr(6);
      if (it->second > 0)
        accuracy["accuracy/" + group] = sums["correct#" + group] / it->second;
      it = sums.erase(it);
    } else {
      ++it;
    }
  }
  for (auto it = sums.begin(); it != sums.end();)
    it = it->first.rfind("correct#", 0) == 0 ? sums.erase(it) : std::next(it);
  sums.insert(accuracy.begin(), accuracy.end());
}

std::string termLabel(const ObjectiveTerm &term) { return spelling(mathOf(term.kind())) + rowsSuffix(term.rows); }

std::vector<ObjectiveTerm> expandTerm(const TermSpec &spec) {
  if (!objectiveOf(spec.kind).has(registry::MixesUsers))
    return {ObjectiveTerm{spec, spec.weight, UserRows::All}};
  double alpha = 0;
  if (const PdpoParams *p = std::get_if<PdpoParams>(&spec.params))
    alpha = p->alpha;
  else if (const PipoParams *p = std::get_if<PipoParams>(&spec.params))
    alpha = p->alpha;
  else if (const PsimpoParams *p = std::get_if<PsimpoParams>(&spec.params))
    alpha = p->alpha;
  else if (const PbtParams *p = std::get_if<PbtParams>(&spec.params))
    alpha = p->alpha;
  else
    throw Error(std::string("objective '") + spelling(spec.kind) + "' mixes users but has no alpha");
  if (!(alpha >= 0 && alpha <= 1))
    throw Error(std::string("objective '") + spelling(spec.kind) + "': alpha must be in [0, 1], got " +
                std::to_string(alpha));
  return {ObjectiveTerm{spec, spec.weight * alpha, UserRows::Users},
          ObjectiveTerm{spec, spec.weight * (1 - alpha), UserRows::Generic}};
}

bool isPairTerm(LossKind kind) { return objectiveOf(kind).has(registry::Pairwise); }
bool needsReference(LossKind kind) { return objectiveOf(kind).has(registry::NeedsReference); }

// Mirrors the masks policyContribution and rewardContribution hand to each kind below.
bool readsPromptTokens(const std::vector<ObjectiveTerm> &terms) {
  for (const ObjectiveTerm &term : terms)
    if (term.kind() == LossKind::imitation || (term.kind() == LossKind::nll && term.spec.as<NllParams>().prompt_loss))
      return true;
  return false;
}
bool trainsRewardModel(LossKind kind) { return objectiveOf(kind).target == registry::Target::Reward; }

std::vector<double> countUnits(const std::vector<ObjectiveTerm> &terms,
                               const std::vector<const PreparedExample *> &batch) {
  std::vector<double> units(terms.size(), 0.0);
  for (size_t t = 0; t < terms.size(); ++t) {
    const ObjectiveTerm &term = terms[t];
    // A weighted term normalised by `sum` divides by Σ w over its units: each unit counts its example's weight.
    const bool weightSum = term.spec.exampleWeights && term.spec.weightNorm == WeightNorm::sum;
    double n = 0;
    for (const PreparedExample *e : batch) {
      double count = 0; // the example's units
      switch (mathOf(term.kind())) {
      case LossKind::dpo:
      case LossKind::ipo:
      case LossKind::hinge:
      case LossKind::simpo:
      case LossKind::bt:
        count += readsRows(term.rows, *e) ? static_cast<double>(e->pairs.size()) : 0.0;
        break;
      case LossKind::nll:
        for (int i : e->nll) {
          const data::TokenizedText &s = e->sequences[i];
          const bool promptLoss = term.spec.as<NllParams>().prompt_loss;
          count += static_cast<double>(promptLoss ? s.ids.size() - 1 : s.ids.size() - s.promptLength);
        }
        break;
      case LossKind::imitation:
        count += static_cast<double>(e->imitation.size());
        break;
      case LossKind::rank_loss:
        for (size_t i = 0; i < e->scores.size(); ++i)
          for (size_t j = 0; j < e->scores.size(); ++j)
            count += (i != j && e->scores[i] != e->scores[j]) ? 1 : 0;
        break;
      case LossKind::regression:
        for (double r : e->ratings)
          count += std::isnan(r) ? 0 : 1;
        break;
      default:
        throw Error(std::string("objective '") + spelling(term.kind()) + "' is not executed by the runtime");
      }
      n += weightSum ? count * e->weight : count;
    }
    units[t] = n;
  }
  return units;
}

TermContribution policyContribution(const std::vector<ObjectiveTerm> &terms, const std::vector<double> &fullUnits,
                                    const std::vector<const PreparedExample *> &batch, const PolicyOutputs &outputs) {
  TermContribution out;
  const torch::Device device = outputs.tokenLogps.device();
  torch::Tensor policyLogps = sequenceLogprobs(outputs.tokenLogps, outputs.responseTargets);
  for (size_t t = 0; t < terms.size(); ++t) {
    const ObjectiveTerm &term = terms[t];
    const double units = fullUnits[t];
    switch (mathOf(term.kind())) {
    case LossKind::dpo:
    case LossKind::ipo:
    case LossKind::hinge:
    case LossKind::simpo: {
      PairIndex pairs = pairIndex(batch, term.spec.exampleWeights, device, term.rows);
      if (pairs.count == 0) {
        addTerm(out, term, torch::zeros({}, policyLogps.options()) * policyLogps.sum());
        break;
      }
      PreferenceLoss loss = pairLoss(term, pairs, policyLogps, outputs);
      addTerm(out, term, weightedShare(loss.perExample, pairs.weight, units));
      addPairMetrics(out, loss.chosenRewards, loss.rejectedRewards, units, rowsSuffix(term.rows));
      addGroupCounts(out, batch, term.rows, loss.chosenRewards, loss.rejectedRewards);
      break;
    }
    case LossKind::nll: {
      auto [rows, weight] = sequenceIndex(batch, &PreparedExample::nll, term.spec.exampleWeights, device);
      const torch::Tensor &mask = term.spec.as<NllParams>().prompt_loss ? outputs.allTargets : outputs.responseTargets;
      PooledLoss pooled = nllLoss(outputs.tokenLogps.index_select(0, rows), mask.index_select(0, rows));
      addTerm(out, term, weightedShare(pooled.sum, weight, units));
      break;
    }
    case LossKind::imitation: {
      auto [rows, weight] = sequenceIndex(batch, &PreparedExample::imitation, term.spec.exampleWeights, device);
      torch::Tensor perSeq =
          perSequenceMeanNll(outputs.tokenLogps.index_select(0, rows), outputs.allTargets.index_select(0, rows));
      addTerm(out, term, weightedShare(perSeq, weight, units));
      break;
    }
    default:
      throw Error(std::string(spelling(term.kind())) + " trains a reward model, not a policy");
    }
  }
  return out;
}

TermContribution rewardContribution(const std::vector<ObjectiveTerm> &terms, const std::vector<double> &fullUnits,
                                    const std::vector<const PreparedExample *> &batch, const torch::Tensor &rewards,
                                    const PolicyOutputs &lmOutputs) {
  TermContribution out;
  const torch::Device device = rewards.device();
  for (size_t t = 0; t < terms.size(); ++t) {
    const ObjectiveTerm &term = terms[t];
    const double units = fullUnits[t];
    switch (mathOf(term.kind())) {
    case LossKind::bt: {
      // pbt (P-RM) is two of these: the rows of users i != 0 and the generic rows (expandTerm).
      PairIndex pairs = pairIndex(batch, term.spec.exampleWeights, device, term.rows);
      torch::Tensor r = rewards.select(1, 0);
      if (pairs.count == 0) {
        addTerm(out, term, torch::zeros({}, r.options()) * r.sum());
        break;
      }
      torch::Tensor chosen = r.index_select(0, pairs.better), rejected = r.index_select(0, pairs.worse);
      addTerm(out, term, weightedShare(bradleyTerryLoss(chosen, rejected), pairs.weight, units));
      addPairMetrics(out, chosen.detach(), rejected.detach(), units, rowsSuffix(term.rows));
      addGroupCounts(out, batch, term.rows, chosen.detach(), rejected.detach());
      break;
    }
    case LossKind::rank_loss: {
      // Scores [B, R] padded with label −1 (masked by rankingLoss), one row per example.
      int64_t width = 0;
      for (const PreparedExample *e : batch)
        width = std::max<int64_t>(width, static_cast<int64_t>(e->sequences.size()));
      const int64_t rows = static_cast<int64_t>(batch.size());
      std::vector<int64_t> gather(rows * width, 0);
      std::vector<double> labels(rows * width, -1.0), weights;
      int64_t base = 0;
      for (int64_t b = 0; b < rows; ++b) {
        const PreparedExample *e = batch[b];
        for (size_t i = 0; i < e->sequences.size(); ++i) {
          gather[b * width + i] = base + static_cast<int64_t>(i);
          labels[b * width + i] = e->scores.empty() ? -1.0 : e->scores[i];
        }
        base += static_cast<int64_t>(e->sequences.size());
        weights.push_back(term.spec.exampleWeights ? e->weight : 1.0);
      }
      torch::Tensor scores =
          rewards.select(1, 0).index_select(0, torch::tensor(gather, torch::kInt64).to(device)).view({rows, width});
      torch::Tensor y = torch::tensor(labels, torch::kFloat64).view({rows, width}).to(device).to(scores.scalar_type());
      PooledLoss pooled = rankingLoss(scores, y);
      addTerm(out, term, weightedShare(pooled.sum, torch::tensor(weights, torch::kFloat64).to(device), units));
      PairIndex pairs = pairIndex(batch, false, device);
      if (pairs.count > 0) {
        torch::Tensor r = rewards.select(1, 0).detach();
        // Each unordered pair with different scores is two of rank_loss's ordered units.
        addPairMetrics(out, r.index_select(0, pairs.better), r.index_select(0, pairs.worse), units / 2);
      }
      break;
    }
    case LossKind::regression: {
      std::vector<int64_t> firstRow;
      std::vector<double> targets, weights;
      int64_t base = 0;
      const int64_t k = rewards.size(1);
      for (const PreparedExample *e : batch) {
        if (static_cast<int64_t>(e->ratings.size()) != k)
          throw Error("regression: an example has " + std::to_string(e->ratings.size()) + " ratings, the head has " +
                      std::to_string(k) + " outputs");
        firstRow.push_back(base);
        targets.insert(targets.end(), e->ratings.begin(), e->ratings.end());
        weights.push_back(term.spec.exampleWeights ? e->weight : 1.0);
        base += static_cast<int64_t>(e->sequences.size());
      }
      torch::Tensor predictions = rewards.index_select(0, torch::tensor(firstRow, torch::kInt64).to(device));
      torch::Tensor y = torch::tensor(targets, torch::kFloat64)
                            .view({static_cast<int64_t>(batch.size()), k})
                            .to(device)
                            .to(predictions.scalar_type());
      PooledLoss pooled = regressionLoss(predictions, y);
      addTerm(out, term, weightedShare(pooled.sum, torch::tensor(weights, torch::kFloat64).to(device), units));
      break;
    }
    case LossKind::imitation: {
      if (!lmOutputs.tokenLogps.defined())
        throw Error("imitation on a reward model needs its language-model head");
      auto [rows, weight] = sequenceIndex(batch, &PreparedExample::imitation, term.spec.exampleWeights, device);
      torch::Tensor perSeq =
          perSequenceMeanNll(lmOutputs.tokenLogps.index_select(0, rows), lmOutputs.allTargets.index_select(0, rows));
      addTerm(out, term, weightedShare(perSeq, weight, units));
      break;
    }
    default:
      throw Error(std::string(spelling(term.kind())) + " trains a policy, not a reward model");
    }
  }
  return out;
}

} // namespace align::rt
