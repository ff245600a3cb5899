//===- RsfRun.h - The state of one stage's RSF loop ------------*- C++ -*-===//
//
// What the trainer keeps between the emitted RSF loop's calls (Trainer::rsfBegin, rsfGenerate, rsfScore,
// rsfSelect, rsfFineTune, rsfEnd; core/RsfLoop.cpp): the prompts, the direction and scorer, the current
// iteration's samples and their selection, and the progress written to OUT/state/STAGE/rsf.json (with the
// samples in OUT/state/STAGE/samples_<t>.jsonl) so a killed run resumes in the iteration and phase it was in.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "align/rt/Trainer.h"
#include "data/Examples.h"
#include "train/RejectionSampling.h"

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace align::rt {

struct RsfRun {
  StageSpec spec;
  RsfSpec rsf;
  DirectionSpec direction;
  std::vector<data::Example> prompts; ///< the loop's prompt rows
  std::string promptTemplate;         ///< the prompts' data template ("" for none), saved with each policy
  std::string startCheckpoint;        ///< π_0: the stage's start (absolute)
  std::string scorerCheckpoint;       ///< the scorer stage's reward model
  std::vector<int64_t> scorerOutputs; ///< the reward head's output of each objective of the direction
  std::string stateDir;               ///< OUT/state/STAGE
  std::string checkpointDir;          ///< OUT/checkpoints/STAGE: iter_t inside

  /// Progress: `iteration` is the one in hand; `phase` how far it got: start, generated, scored, training.
  int64_t iteration = 1;
  std::string phase = "start";
  /// This iteration's prompts (under their directions), samples and kept sample per prompt.
  std::vector<DirectedPrompt> directed;
  std::vector<int64_t> promptRows; ///< each directed prompt's row in `prompts`
  std::vector<DirectedSample> samples;
  std::vector<size_t> kept;
  /// Finished iterations' metrics (mean vᵀr of kept and of all samples, kept length), for eval.json.
  nlohmann::json byIteration = nlohmann::json::array();
};

} // namespace align::rt
