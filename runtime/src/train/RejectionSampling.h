//===- RejectionSampling.h - Samples under directions, scored, the best kept -*- C++ -*-===//
//
// The three steps of one RSF iteration before its fine-tune (docs/methods.md §4.3), shared with the `pareto`
// metric: a conditioned policy answers prompts under given directions (each prompt's system text rendered
// from its v, `samples` answers per prompt, batched with the KV cache); a multi-objective reward model
// scores every answer — on the prompt as the data renders it, without the system text, since r(x, y) rates
// the answer to the user's question — and, per prompt, the answer with the largest vᵀ r is kept (ties: the
// lowest sample index).
//
//===----------------------------------------------------------------------===//
#pragma once

#include "align/rt/Trainer.h"
#include "data/Collate.h"
#include "dist/World.h"
#include "model/Generate.h"
#include "model/RewardModel.h"
#include "tokenizer/Tokenizer.h"

#include <string>
#include <vector>

namespace align::rt {

/// One prompt under one direction.
struct DirectedPrompt {
  std::string prompt; ///< as its data source renders it
  double angleDeg = 0;
};

struct DirectedSample {
  int64_t prompt = 0; ///< index into the prompts
  int64_t sample = 0; ///< 0 .. samples-1
  std::vector<int64_t> ids; ///< the generated tokens, EOS dropped
  std::string text;
  std::vector<double> rewards; ///< the scorer's value of each of the direction's objectives (after scoreSamples)
};

/// Rows sampled together (one generateBatch call, one seed) unless a caller says otherwise.
constexpr int64_t kSampleRowsPerBlock = 64;

/// `samples` answers of `policy` to each prompt, conditioned on its direction, in blocks of at most
/// `rowsPerBlock` rows (prompt-major: prompt 0's samples first). Block b is sampled with seed
/// options.seed + b, so the answers depend on the seed, the prompts and rowsPerBlock only — not on a
/// many-process `world`, whose ranks each sample a contiguous share of the blocks and all get every answer.
std::vector<DirectedSample> sampleUnderDirections(CausalLM &policy, const Tokenizer &tokenizer,
                                                  const DirectionSpec &direction,
                                                  const std::vector<DirectedPrompt> &prompts, int64_t samples,
                                                  const SamplingOptions &options, const data::TokenizeOptions &tokenize,
                                                  int64_t rowsPerBlock = kSampleRowsPerBlock,
                                                  const dist::World *world = nullptr);

/// Fills each sample's `rewards` with the outputs of `reward` at `outputs` (one index per objective of the
/// direction), scoring (prompt, text) in batches of `batch`; with a many-process `world`, each rank scores a
/// contiguous share of the batches (the same batches as one process) and all get every value.
void scoreSamples(RewardModel &reward, const Tokenizer &tokenizer, const std::vector<DirectedPrompt> &prompts,
                  std::vector<DirectedSample> &samples, const std::vector<int64_t> &outputs,
                  const data::TokenizeOptions &tokenize, int64_t batch = 32, const dist::World *world = nullptr);

/// vᵀ r of a sample under its prompt's direction.
double scalarized(const DirectedSample &sample, double angleDeg);

/// For each prompt, the index (into `samples`) of its answer with the largest vᵀ r; ties go to the lowest
/// sample index. A prompt without samples is an Error.
std::vector<size_t> selectBest(const std::vector<DirectedSample> &samples, const std::vector<DirectedPrompt> &prompts);

/// The head outputs of a reward whose objectives are `rewardObjectives` that a direction's objectives read;
/// an Error naming the missing one.
std::vector<int64_t> objectiveOutputs(const DirectionSpec &direction, const std::vector<std::string> &rewardObjectives);

} // namespace align::rt
