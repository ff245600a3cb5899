//===- HoistReferenceLogprobs.cpp - Precompute frozen references ----------===//
//
// A frozen reference scores the same examples identically in every epoch, so scoring it once before the
// stage and caching the numbers removes one no-grad forward per step (TRL's precompute_ref_log_probs).
// Frozen means: a stage's result, or a model no loop of this stage optimizes; and the examples must be
// known before training (not samples an RSF loop generates).
//
//===----------------------------------------------------------------------===//

#include "Passes.h"

namespace align {
#define GEN_PASS_DEF_HOISTREFERENCELOGPROBSPASS
#include "Passes.h.inc"
} // namespace align

using namespace mlir;
using namespace align::train;

namespace align {
namespace {

/// Whether the reference log-probs of `op` are the same in every step of its stage.
bool isFrozenOverStage(ReferenceLogprobsOp op, StageOp stage) {
  Value reference = op.getModel();
  bool optimized = false;
  stage.walk([&](OptimizerStepOp step) { optimized |= step.getModel() == reference; });
  if (optimized)
    return false;
  // Cached per example: the batch must come from data loaded before training.
  auto fetch = op.getBatch().getDefiningOp<BatchFetchOp>();
  return fetch && (fetch.getDataset().getDefiningOp<LoadDataOp>() || fetch.getDataset().getDefiningOp<UnionDataOp>());
}

struct HoistReferenceLogprobsPass : impl::HoistReferenceLogprobsPassBase<HoistReferenceLogprobsPass> {
  using HoistReferenceLogprobsPassBase::HoistReferenceLogprobsPassBase;

  void runOnOperation() override {
    if (!enabled)
      return;
    getOperation().walk([](StageOp stage) {
      if (stage.getReference() == ReferenceStrategy::online) // the recipe asked for it
        return;
      SmallVector<ReferenceLogprobsOp> references;
      stage.walk([&](ReferenceLogprobsOp op) { references.push_back(op); });
      // The strategy is the stage's: hoist only when every reference in it can be cached.
      if (references.empty() || !llvm::all_of(references, [&](ReferenceLogprobsOp op) {
            return isFrozenOverStage(op, stage);
          }))
        return;
      for (ReferenceLogprobsOp op : references)
        op.setCached(true);
    });
  }
};

} // namespace
} // namespace align
