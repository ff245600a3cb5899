//===- TypeEvaluation.cpp - Pair metrics of an EM stage's type policies ---===//
//
// An EM stage's result is K policies, one per latent type (docs/methods.md §3). Its `accuracy` and `margin`
// judge each vote with the policy of the voter's type: the most probable type (argmax γ) of an annotator the
// stage trained on; for an annotator it did not see (a split `by annotator`), the type their own votes make
// most probable under the final policies and η — one E-step, argmax_k log η_k + Σ log σ(β·margin_k). That
// type is chosen on the votes it then judges, so an unseen annotator's accuracy is an optimistic estimate.
// Groups: `by type` (type0..typeK-1), `by group`, `by user` (the annotator), `by dataset`, or none.
//
//===----------------------------------------------------------------------===//

#include "core/TrainerImpl.h"

#include "model/Checkpoint.h"
#include "train/PairMetrics.h"

#include <cmath>
#include <cstdio>
#include <limits>

namespace align::rt {

namespace {

std::string annotatorOf(const PreparedExample &e) { return e.annotator.empty() ? e.user : e.annotator; }

/// log σ(x), stable for large |x|.
double logSigmoid(double x) { return x >= 0 ? -std::log1p(std::exp(-x)) : x - std::log1p(std::exp(x)); }

} // namespace

void Trainer::Impl::evaluateTypeStages(Evaluation &out) {
  for (const auto &[name, types] : typePolicies) {
    const size_t k = types.checkpoints.size();
    // Per data split: the prepared rows and every type's rewards of every response, scored once.
    struct Scored {
      std::vector<PreparedExample> examples;
      std::vector<std::vector<std::vector<double>>> rewards; // [type][example][sequence]
      std::vector<int64_t> typeOfExample;
    };
    std::map<std::string, Scored> scored;
    bool skippedReported = false;
    for (const EvalSpec &eval : evals) {
      if (!eval.stage.empty() && eval.stage != name)
        continue;
      if (eval.metric != MetricKind::accuracy && eval.metric != MetricKind::margin) {
        if (eval.stage == name)
          throw Error(eval.location + ": metric '" + spelling(eval.metric) + "' of an EM stage ('" + name +
                      "') is not computed by the runtime yet; accuracy and margin are");
        if (!skippedReported)
          std::fprintf(stderr, "[eval] %s: an EM stage gets accuracy and margin only (per type policy)\n", name.c_str());
        skippedReported = true;
        continue;
      }
      if (eval.by == By::domain || eval.by == By::direction)
        throw Error(eval.location + ": " + spelling(eval.metric) + " by " + spelling(*eval.by) + " of EM stage '" +
                    name + "' is not computed by the runtime yet");
      const std::string splitKey = eval.on.data + "." + eval.on.split;
      if (!scored.count(splitKey)) {
        Scored s;
        Tokenizer &tokenizer = tokenizerOf(types.spec.model);
        PrepareOptions prepare;
        prepare.tokenize = tokenizeOptions(types.spec.schedule);
        prepare.pairs = true;
        s.examples = prepareExamples(limitedForEval(split(eval.on.data, eval.on.split)), tokenizer, prepare, nullptr);
        CausalLM reference = referenceModel(types.spec.reference, types.spec.location);
        reference->to(device), reference->eval();
        for (size_t t = 0; t < k; ++t) {
          CausalLM policy = loadCausalLM(types.checkpoints[t]);
          policy->to(device), policy->eval();
          s.rewards.push_back(sequenceRewards(s.examples, policy, reference, RewardModel{nullptr},
                                              data::padIdOf(tokenizer),
                                              std::max<int64_t>(1, types.spec.schedule.batch), device,
                                              UserModel{nullptr}, world.get()));
        }
        // Unseen annotators: one E-step on their votes with the final η.
        std::map<std::string, std::vector<double>> evidence;
        for (size_t e = 0; e < s.examples.size(); ++e) {
          const std::string who = annotatorOf(s.examples[e]);
          if (types.typeOf.count(who))
            continue;
          auto &ll = evidence[who];
          if (ll.empty())
            for (size_t t = 0; t < k; ++t)
              ll.push_back(std::log(std::max(types.eta[t], 1e-300)));
          for (size_t t = 0; t < k; ++t)
            for (auto [better, worse] : s.examples[e].pairs)
              ll[t] += logSigmoid(types.beta * (s.rewards[t][e][static_cast<size_t>(better)] -
                                                s.rewards[t][e][static_cast<size_t>(worse)]));
        }
        std::map<std::string, int64_t> inferred;
        for (const auto &[who, ll] : evidence)
          inferred[who] = static_cast<int64_t>(std::max_element(ll.begin(), ll.end()) - ll.begin());
        for (const PreparedExample &e : s.examples) {
          const std::string who = annotatorOf(e);
          auto seen = types.typeOf.find(who);
          s.typeOfExample.push_back(seen != types.typeOf.end() ? seen->second
                                    : inferred.count(who)    ? inferred.at(who)
                                                             : 0);
        }
        if (!evidence.empty())
          std::fprintf(stderr, "[eval] %s on %s: %zu annotators not seen in training, each typed by their own votes\n",
                       name.c_str(), splitKey.c_str(), evidence.size());
        scored[splitKey] = std::move(s);
      }
      const Scored &s = scored.at(splitKey);
      std::vector<PairJudgement> judged;
      for (size_t e = 0; e < s.examples.size(); ++e) {
        const int64_t t = s.typeOfExample[e];
        for (PairJudgement j : judgePairs({s.examples[e]}, {s.rewards[static_cast<size_t>(t)][e]})) {
          j.user = annotatorOf(s.examples[e]);
          if (eval.by == By::type)
            j.group = "type" + std::to_string(t);
          judged.push_back(std::move(j));
        }
      }
      const bool byDataset = eval.by == By::dataset;
      const std::string by = !eval.by || byDataset ? "" : *eval.by == By::type ? "group" : spelling(*eval.by);
      const std::string key = std::string(spelling(eval.metric)) + (eval.by ? std::string("_by_") + spelling(*eval.by) : "");
      for (const auto &[group, value] :
           meanBy(judged, by, eval.metric == MetricKind::accuracy ? &PairJudgement::correct : &PairJudgement::margin))
        out[name][key][byDataset ? eval.on.data : group] = value;
    }
  }
}

} // namespace align::rt
