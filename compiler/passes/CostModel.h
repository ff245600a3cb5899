//===- CostModel.h - What a training step costs, for the schedule passes' choices -*- C++ -*-===//
//
// The compiler's model of a training step, from what it knows before the trainer runs: the model's shape (a
// preset of registry/include/align/registry/Presets.def, or the config.json of a checkpoint that exists at
// compile time). It is calibrated by measurements on the development machine (docs/performance.md, "The
// cost model"), and each choice carries its reason, which `--emit=train` shows on the stage and the trainer
// prints when the stage starts. Every choice stays a `--set` setting.
//
// What it decides today: a stage's precision when the recipe says `auto`.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "align/Dialect/Train/TrainOps.h"

#include "mlir/IR/Value.h"

#include <cstdint>
#include <optional>
#include <string>

namespace align::cost {

/// The sizes of a decoder that set its cost per token.
struct ModelShape {
  int64_t hidden = 0, layers = 0, intermediate = 0;
  std::string source; ///< where the shape was read: "preset tiny", "PATH/config.json"
};

/// The shape of the model `model` is (through reward heads, users and adapters attached to it), or nullopt
/// with `why` saying what is unknown (a checkpoint whose config.json does not exist yet at compile time).
std::optional<ModelShape> shapeOf(mlir::Value model, std::string &why);

/// Below this hidden size bf16 does not pay: measured on the development machine (2 cores, AMX-BF16), one
/// forward+backward step of 8 × 256 tokens at hidden 64 ran 1.74× slower in bf16 than in float32, at 128
/// equal, at 192 1.08× faster, at 256 1.22×, at 512 1.63×, at 768 2.27×.
inline constexpr int64_t kBf16MinHidden = 256;

struct PrecisionPlan {
  train::Precision precision;
  std::string reason;
};

/// The precision of a stage whose recipe says `auto`, for its trained model's shape (nullopt: unknown, with
/// `why`). Below kBf16MinHidden: fp32. Otherwise `auto` stays: bf16 on a device with native bf16 matrix
/// instructions, which only the trainer can see (runtime/src/train/Precision.h).
PrecisionPlan planPrecision(const std::optional<ModelShape> &shape, const std::string &why);

} // namespace align::cost
