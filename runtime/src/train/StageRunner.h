//===- StageRunner.h - The training loop of one stage ----------*- C++ -*-===//
//
// One stage of a recipe: a model (a policy, or a reward model), its objective terms, its schedule and its
// prepared data, trained for a number of optimizer steps. The loop is nanoGPT's — fetch a batch, forward,
// loss, backward, clip, step — with what a long run needs around it: micro-batches that add up to exactly the
// batch's loss, a learning-rate schedule, the frozen reference's log-probs computed once up front (or online),
// periodic evaluation and checkpoints (steps or wall time), a time limit, a NaN/inf guard that stops with the
// last good state saved, resumable state, the live progress line and the metrics files.
//
// The schedule decisions the compiler makes (pair concatenation, the chunked LM-head path, reference
// precompute) arrive as fields of the public ScheduleSpec (align/rt/Trainer.h), which StageSchedule extends;
// generated trainers reach this through the public API. One micro-batch's forward and loss are
// train/TrainingStep.cpp.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "model/Llama.h"
#include "model/Lora.h"
#include "model/RewardModel.h"
#include "model/UserModel.h"
#include "train/Metrics.h"
#include "objectives/ObjectiveTerms.h"
#include "train/Optimizer.h"
#include "data/PreparedData.h"

#include <torch/torch.h>

#include <map>
#include <string>
#include <vector>

namespace align::rt {

namespace dist {
class World;
}

/// The stage's schedule as the generated trainer wrote it (the compiler's decisions included), plus two knobs
/// of the runtime's own for benchmarks that compare step by step with a peer.
struct StageSchedule : ScheduleSpec {
  bool lengthBuckets = false; ///< group similar lengths into batches (less padding)
};

/// What one stage trains; exactly one of `policy` and `reward` is set.
struct StageInputs {
  std::string name;
  std::vector<ObjectiveTerm> terms;
  StageSchedule schedule;
  std::vector<PreparedExample> train;
  std::map<std::string, std::vector<PreparedExample>> evalSets; ///< evaluated at eval_every and at the end
  int64_t padId = 0;
  CausalLM policy{nullptr};
  RewardModel reward{nullptr};
  CausalLM reference{nullptr}; ///< frozen; needed by dpo, ipo and hinge
  /// Adapters attached to `policy` (attachLora): only they train, and the stage's checkpoint is the merged
  /// model, with the adapter itself (PEFT format) in its `adapter/` folder.
  LoraAdapters lora{nullptr};
  /// P-RLHF user tokens read by `policy` (examples carry their user ids); trained with it and saved in the
  /// stage's checkpoint directory. The reference never reads them: it is the non-personalized base.
  UserModel users{nullptr};
  /// The tokenizer.json the model reads, copied into the checkpoint as HF does ("" for the byte tokenizer), so
  /// align-lm and transformers find it beside the weights.
  std::string tokenizerFile;
  /// The checkpoint directory the trained model started from, absolute ("" for a random preset): a LoRA
  /// adapter's base_model_name_or_path.
  std::string startCheckpoint;
  /// A fingerprint of everything that must not change across a resume (set by the caller; data and settings).
  std::string fingerprint;
  /// Lines the stage's log starts with (the compiler's plan for its schedule, core/StageSetup.cpp).
  std::vector<std::string> notes;
};

struct RunOptions {
  std::string outDir;
  torch::Device device = torch::kCPU;
  int64_t stepsOverride = 0; ///< --steps: > 0 replaces the schedule's steps/epochs
  bool resume = false;       ///< continue from OUT/state/<stage> when it exists
  bool interactive = false;  ///< redraw the progress line in place
  int64_t stopAtStep = 0;    ///< > 0: stop there as a time limit would (state saved), leaving the plan unchanged
  /// The processes of a torchrun launch (null or one process: train alone). Each takes its slice of every
  /// global batch; gradients and the logged sums are added over ranks (docs/distributed.md).
  const dist::World *world = nullptr;
};

struct StageResult {
  int64_t steps = 0;
  bool stoppedByTimeLimit = false;
  std::map<std::string, std::map<std::string, double>> evaluation; ///< eval set → metric → value
  std::string checkpointDir; ///< OUT/checkpoints/<stage>
};

/// Trains the stage and writes OUT/checkpoints/<stage> (a Hugging Face directory), OUT/state/<stage>
/// (resumable state) and metrics lines. Throws align::rt::Error on a non-finite loss or gradient, after
/// saving the state from before the bad step.
StageResult runStage(StageInputs &inputs, const RunOptions &options, MetricsLog &metrics);

/// The stage's loss and pair metrics on `examples` without gradients (loss, loss/<term>, accuracy, margin…).
/// With many processes (`world`), each evaluates a contiguous share and the sums are added over ranks.
std::map<std::string, double> evaluateStageLoss(StageInputs &inputs, const std::vector<PreparedExample> &examples,
                                                torch::Device device, const dist::World *world = nullptr);

/// The optimizer steps a stage takes: `steps`, else ceil(epochs × ceil(examples / batch)).
int64_t plannedSteps(const StageSchedule &schedule, int64_t examples, int64_t stepsOverride);

} // namespace align::rt
