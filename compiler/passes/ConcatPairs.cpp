//===- ConcatPairs.cpp - One forward for chosen and rejected --------------===//
//
// Pairwise objectives compare a chosen and a rejected response to the same prompt. Running both as one
// batch of twice the size reads the weights once instead of twice and keeps the two halves under the same
// kernel launch (TRL's concatenated_forward); the loss then splits the log-probs in halves. Which losses are
// pairwise is the registry's `Pairwise` trait (registry/include/align/registry/Objectives.def).
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

/// Whether the forward's log-probs feed a pairwise loss.
bool feedsPairwiseLoss(ForwardOp forward) {
  for (Operation *user : forward->getUsers())
    if (auto logprobs = dyn_cast<SequenceLogprobsOp>(user))
      for (Operation *consumer : logprobs->getUsers())
        if (auto loss = dyn_cast<LossOp>(consumer); loss && LossOp::isPairwise(loss.getKind()))
          return true;
  return false;
}

struct ConcatPairsPass : impl::ConcatPairsPassBase<ConcatPairsPass> {
  void runOnOperation() override {
    getOperation().walk([](ForwardOp forward) {
      if (forward.getConcatPairs() || !feedsPairwiseLoss(forward))
        return;
      forward.setConcatPairs(true);
      forward->getParentOfType<StageOp>().setConcatPairs(true);
    });
  }
};

} // namespace
} // namespace align
