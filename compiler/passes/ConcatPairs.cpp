//===- ConcatPairs.cpp - One forward for chosen and rejected --------------===//
//
// Pairwise objectives compare a chosen and a rejected response to the same prompt. Running both as one
// batch of twice the size reads the weights once instead of twice and keeps the two halves under the same
// kernel launch (TRL's concatenated_forward); the loss then picks its pairs from the log-probs. Which losses
// are pairwise is the registry's `Pairwise` trait (registry/include/align/registry/Objectives.def). The
// decision is recorded on the forward and score ops, nowhere else.
//
//===----------------------------------------------------------------------===//

#include "Passes.h"

namespace align {
#define GEN_PASS_DEF_CONCATPAIRSPASS
#include "Passes.h.inc"
} // namespace align

using namespace mlir;
using namespace align::train;

namespace align {
namespace {

/// Whether a loss of the step loop is pairwise (reads its examples' responses in pairs).
bool hasPairwiseLoss(StepLoopOp loop) {
  return llvm::any_of(loop.getBody()->getOps<LossOp>(), [](LossOp loss) { return LossOp::isPairwise(loss.getKind()); });
}

struct ConcatPairsPass : impl::ConcatPairsPassBase<ConcatPairsPass> {
  void runOnOperation() override {
    // The runtime makes one decoder pass per micro-batch that the step's forwards and scores share, so the
    // decision is the step's: every forward and every score of a batch in a step with a pairwise loss.
    getOperation().walk([](StepLoopOp loop) {
      if (!hasPairwiseLoss(loop))
        return;
      for (Operation &op : loop.getBody()->getOperations()) {
        if (auto forward = dyn_cast<ForwardOp>(op))
          forward.setConcatPairs(true);
        else if (auto score = dyn_cast<ScoreOp>(op); score && score.getInput().getType().isa<BatchType>())
          score.setConcatPairs(true);
      }
    });
  }
};

} // namespace
} // namespace align
