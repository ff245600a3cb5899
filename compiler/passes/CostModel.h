//===- CostModel.h - What a training step costs, for the schedule passes' choices -*- C++ -*-===//
//
// The compiler's model of a training step, from what it knows before the trainer runs: the model's shape (a
// preset of registry/include/align/registry/Presets.def, or the config.json of a checkpoint that exists at
// compile time). It is calibrated by measurements on the development machine (docs/performance.md, "The
// cost model"), and each choice carries its reason, which `--emit=train` shows on the stage and the trainer
// prints when the stage starts. Every choice stays a `--set` setting.
//
// What it decides: a stage's precision when the recipe says `auto` (planPrecision), and how a step fits its
// memory budget — the micro-batch and whether layers recompute their activations in backward (planMemory).
//
//===----------------------------------------------------------------------===//
#pragma once

#include "align/Dialect/Train/TrainOps.h"
#include "align/registry/Registry.h"

#include "mlir/IR/Value.h"

#include <cstdint>
#include <optional>
#include <string>

namespace align::cost {

/// The model a stage's steps optimize (inside an EM or RSF loop too); null for a stage without a step.
mlir::Value trainedModel(train::StageOp stage);

/// The sizes of a decoder that set its cost per token.
struct ModelShape {
  int64_t hidden = 0, layers = 0, intermediate = 0;
  int64_t heads = 0, kvHeads = 0; ///< 0: unknown (then counted as heads = kvHeads)
  int64_t vocab = 0;              ///< 0: unknown to the compiler (a tokenizer file not there yet)
  bool tiedHead = false;          ///< the LM head is the embedding matrix
  std::string source; ///< where the shape was read: "preset tiny", "PATH/config.json"

  /// Parameters of the decoder and its head.
  double parameters() const;
};

/// The shape of the model `model` is (through reward heads, users and adapters attached to it), or nullopt
/// with `why` saying what is unknown (a checkpoint whose config.json does not exist yet at compile time).
std::optional<ModelShape> shapeOf(mlir::Value model, std::string &why);

/// Below this hidden size bf16 does not pay: measured on the development machine (2 cores, AMX-BF16), one
/// forward+backward step of 8 × 256 tokens at hidden 64 ran 1.74× slower in bf16 than in float32, at 128
/// equal, at 192 1.08× faster, at 256 1.22×, at 512 1.63×, at 768 2.27× — but whole trainers gain less: the
/// DSP recipe at the `small` preset (hidden 256, vocabulary 4096) trained 0.92–1.02× as fast in bf16 as in
/// float32, with 2.6× the peak memory; the 134M DPO trainer (hidden 768) 1.47× faster.
inline constexpr int64_t kBf16MinHidden = registry::kBf16MinHidden;

struct PrecisionPlan {
  train::Precision precision;
  std::string reason;
};

/// The precision of a stage whose recipe says `auto`, for its trained model's shape (nullopt: unknown, with
/// `why`). Below kBf16MinHidden: fp32. Otherwise `auto` stays: bf16 on a device with native bf16 matrix
/// instructions, which only the trainer can see (runtime/src/train/Precision.h).
PrecisionPlan planPrecision(const std::optional<ModelShape> &shape, const std::string &why);

/// What a stage's step holds in memory besides the model's own weights, as far as the compiler can see.
struct StepDemand {
  int64_t batch = 1, microBatch = 1; ///< the recipe's; the plan never raises the micro-batch
  int64_t maxLength = 512;           ///< tokens per sequence, the bound the estimate uses
  int64_t sequencesPerExample = 1;   ///< 2 when a pair's responses go through one pass (concat_pairs)
  bool fullyTrained = true;          ///< false: only adapters (LoRA) train; no gradients or optimizer state for the base
  bool frozenReference = false;      ///< a reference model is held beside the trained one (online)
  int64_t logprobChunk = 0;          ///< the fused LM head's vocabulary chunk; 0: unfused (whole logits)
  bool bf16 = false;                 ///< autocast may run (planned precision auto or bf16)
  std::optional<train::Activations> activations; ///< the recipe's choice; nullopt: auto
  double budget = 0;                 ///< bytes
  std::string budgetSource;          ///< "the recipe's memory: 8GiB", "this machine's memory"
};

/// The estimate of a step's peak memory, in bytes.
struct StepMemory {
  double state = 0;           ///< weights, gradients, optimizer state, the reference, the runtime itself
  double perExampleKeep = 0;  ///< activations of one example when every layer keeps its intermediates
  double perExampleRecompute = 0; ///< the same when layers recompute in backward (plus one layer's, once)
  double recomputeOnce = 0;       ///< the one layer being recomputed, at a micro-batch of one example
  double bytes(int64_t microBatch, train::Activations activations) const;
};
StepMemory estimateStepMemory(const ModelShape &shape, const StepDemand &demand);

struct MemoryPlan {
  int64_t microBatch;
  train::Activations activations;
  std::string reason;
};

/// The largest micro-batch (a divisor of the batch, at most the recipe's) whose step fits the budget with
/// every layer's activations kept; if even one example does not fit, layers recompute in backward and the
/// micro-batch is the largest that then fits (measured at 134M: one 512-token sequence per micro-batch instead of
/// four costs 5–7% per token, recomputation 5–13%, and recomputation is the only way below one example). A
/// recipe's `activations:` is kept and only the micro-batch is
/// planned around it. Without a shape: the recipe's values, saying why.
MemoryPlan planMemory(const std::optional<ModelShape> &shape, const std::string &why, const StepDemand &demand);

/// The step a stage's ops describe, for the model `trained` (its optimizer step's): lengths, sequences per
/// pass, a held reference, adapters, the head's chunk, precision, and the budget — the schedule's `memory:`,
/// else `defaultBudget` bytes when > 0 (a pass option), else this machine's memory.
StepDemand demandOf(train::StageOp stage, mlir::Value trained, int64_t defaultBudget);

/// From this vocabulary size on, bf16 steps run faster with the LM head unfused (measured 1.06–1.10× at
/// 32000 × 768; fused 1.05–1.07× faster at 4096 × 256, and in float32 fused is within 4% either way).
inline constexpr int64_t kUnfusedMinVocab = 16384;

struct LogprobsPlan {
  bool fused;
  std::string reason;
};

/// Whether a stage's LM-head log-probs should be fused (vocabulary chunks: the logits never exist whole).
/// Unfused only where it is faster — a step that may run in bf16, over a vocabulary of at least
/// kUnfusedMinVocab — and its logits fit the budget at the recipe's micro-batch (`demand`, fused or not,
/// is evaluated unfused). An unknown shape stays fused.
LogprobsPlan planLogprobs(const std::optional<ModelShape> &shape, const std::string &why, StepDemand demand);

/// "8GiB", "1.5GiB", "640MiB": a byte count for a reason or a message.
std::string formatBytes(double bytes);

} // namespace align::cost
