//===- EmRun.h - The state of one stage's EM over latent types -*- C++ -*-===//
//
// What the trainer keeps between the emitted EM loop's calls (Trainer::emBegin, emMaximize, emExpect,
// emEnd; core/EmLoop.cpp): the stage's prepared rows with their annotators and cross-fit folds, the frozen
// reference's log-probs (scored once for all types), the posterior, and the progress written to
// OUT/state/STAGE/em.json so a killed run resumes in the iteration and M-step it was in.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "align/rt/Trainer.h"
#include "latent/Posterior.h"
#include "train/StageRunner.h"

#include <set>
#include <string>
#include <vector>

namespace align::rt {

struct EmRun {
  StageSpec spec;
  LatentSpec latent;
  double beta = 0.1;
  /// The stage as prepared once: rows (reference log-probs cached), the M-step's objective (γ-weighted DPO),
  /// schedule, reference model; each M-step trains a copy with its own policy and weights.
  StageInputs base;
  /// Each type's adapter settings (`policies: lora`), or disabled (`full`: each type a full copy).
  LoraSpec typeLora;
  std::vector<double> dataWeights; ///< each row's `weight` column (1 without example weights)
  std::vector<int64_t> column;     ///< each row's annotator: its column of γ
  std::vector<int> fold;           ///< cross_fit: each row's fold (an annotator's rows dealt round-robin)
  LatentPosterior posterior;
  std::vector<std::vector<double>> etaByIteration;
  /// Progress: the posterior holds iteration `iteration`'s start; `maximized` the types whose M-step of that
  /// iteration finished; `running` the type whose M-step started (−1 none).
  int64_t iteration = 0;
  std::set<int64_t> maximized;
  int64_t running = -1;
  std::string stateDir; ///< OUT/state/STAGE
};

} // namespace align::rt
