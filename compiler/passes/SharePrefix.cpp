//===- SharePrefix.cpp - Decode the prompt that responses share once ------===//
//
// A preference pair or a ranking holds several responses to one prompt; decoded as separate rows, the prompt
// goes through the decoder once per response. Causal attention makes a token's state depend only on what
// precedes it, so the tokens the responses begin with give the same states in every row: decoded once, with
// each response attending to that prefix and to its own earlier tokens (a shared-prefix mask), the step
// computes the same numbers with fewer tokens (runtime/src/model/PackedLayout.h). That needs every response
// of an example in the same decoder pass: a step whose pairwise loss concatenates its pairs (concat-pairs),
// or whose listwise loss reads an example's responses together (the registry's `Listwise` trait). The
// decision is recorded on the forward and score ops, as concat-pairs records its own.
//
//===----------------------------------------------------------------------===//

#include "Passes.h"

namespace align {
#define GEN_PASS_DEF_SHAREPREFIXPASS
#include "Passes.h.inc"
} // namespace align

using namespace mlir;
using namespace align::train;

namespace align {
namespace {

/// Whether a step's losses read several responses of an example, and whether any is pairwise.
struct StepResponses {
  bool pairwise = false, listwise = false;
};

StepResponses responsesRead(StepLoopOp loop) {
  StepResponses read;
  for (LossOp loss : loop.getBody()->getOps<LossOp>()) {
    read.pairwise |= LossOp::isPairwise(loss.getKind());
    read.listwise |= LossOp::isListwise(loss.getKind());
  }
  return read;
}

struct SharePrefixPass : impl::SharePrefixPassBase<SharePrefixPass> {
  void runOnOperation() override {
    getOperation().walk([](StepLoopOp loop) {
      const StepResponses read = responsesRead(loop);
      if (!read.pairwise && !read.listwise)
        return;
      // A pairwise step decodes an example's responses together only when its pairs are concatenated; a
      // listwise step without a pairwise loss always does (runtime/src/train/TrainingStep.cpp).
      for (Operation &op : loop.getBody()->getOperations()) {
        if (auto forward = dyn_cast<ForwardOp>(op)) {
          if (!read.pairwise || forward.getConcatPairs())
            forward.setSharedPrefix(true);
        } else if (auto score = dyn_cast<ScoreOp>(op); score && score.getInput().getType().isa<BatchType>()) {
          if (!read.pairwise || score.getConcatPairs())
            score.setSharedPrefix(true);
        }
      }
    });
  }
};

} // namespace
} // namespace align
