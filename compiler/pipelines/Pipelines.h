//===- Pipelines.h - alignc's named pass pipelines --------------*- C++ -*-===//
//
// The one place where passes are put in order. `recipe-to-train` is what `alignc --emit=train` runs;
// `recipe-to-train-unfused` leaves the fused log-prob op out (`--no-fuse`), for comparing the fused and
// unfused trainers. align-opt registers both (`align-opt --recipe-to-train`).
//
//===----------------------------------------------------------------------===//
#pragma once

#include "mlir/Pass/PassManager.h"

namespace align {

struct RecipeToTrainOptions {
  bool fuseLogprobs = true;   ///< run fuse-logprobs
  int64_t logprobChunk = 1024; ///< its vocabulary chunk
  bool sharePrefix = true;     ///< run share-prefix
};

/// recipe → train: lower-recipe-to-train, expand-stages, hoist-reference-logprobs, plan-precision, concat-pairs,
/// share-prefix and fuse-logprobs (unless disabled), plan-memory, canonicalize, cse, eliminate-dead-declarations.
void buildRecipeToTrainPipeline(mlir::OpPassManager &pm, const RecipeToTrainOptions &options = {});

/// Registers the pipelines `recipe-to-train` and `recipe-to-train-unfused` and every pass they use.
void registerPipelines();

} // namespace align
