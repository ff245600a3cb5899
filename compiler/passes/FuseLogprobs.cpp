//===- FuseLogprobs.cpp - Chunked LM head + log-softmax + gather ----------===//
//
// Unfused, sequence log-probs materialise batch × sequence × vocabulary logits (gigabytes at a 128k
// vocabulary) only to gather one entry per token. The fused op walks the vocabulary in chunks, keeping a
// running log-sum-exp, and never holds the full logits; the runtime's chunked autograd path implements
// it. The decision is per stage (the runtime runs one per step) and recorded on the ops: every log-prob op of a
// fused stage is fused with the same chunk. Fused is not always faster: the cost model (CostModel.h,
// planLogprobs) leaves a stage unfused where unfused was measured faster (bf16 over a large vocabulary) and
// its logits fit the memory budget; the reason goes on the stage (`logprobs_reason`).
//
//===----------------------------------------------------------------------===//

#include "CostModel.h"
#include "Passes.h"

namespace align {
#define GEN_PASS_DEF_FUSELOGPROBSPASS
#include "Passes.h.inc"
} // namespace align

using namespace mlir;
using namespace align::train;

namespace align {
namespace {

struct FuseLogprobsPass : impl::FuseLogprobsPassBase<FuseLogprobsPass> {
  using FuseLogprobsPassBase::FuseLogprobsPassBase;

  void runOnOperation() override {
    if (chunk < 1) {
      getOperation().emitError() << "fuse-logprobs: chunk must be >= 1, got " << static_cast<int64_t>(chunk);
      return signalPassFailure();
    }
    getOperation().walk([&](StageOp stage) {
      SmallVector<SequenceLogprobsOp> logprobs;
      stage.walk([&](SequenceLogprobsOp op) { logprobs.push_back(op); });
      // Fusing takes the LM head from the forward's hidden states; a stage with anything else stays as is.
      if (logprobs.empty() ||
          !llvm::all_of(logprobs, [](SequenceLogprobsOp op) { return op.getHidden().getDefiningOp<ForwardOp>(); }))
        return;
      IntegerAttr chunkAttr = IntegerAttr::get(IntegerType::get(stage.getContext(), 64), static_cast<int64_t>(chunk));
      Value trained = cost::trainedModel(stage);
      std::string why = "the stage optimizes no model";
      std::optional<cost::ModelShape> shape = trained ? cost::shapeOf(trained, why) : std::nullopt;
      cost::LogprobsPlan plan =
          trained ? cost::planLogprobs(shape, why, cost::demandOf(stage, trained, 0)) : cost::LogprobsPlan{true, ""};
      if (!plan.reason.empty())
        stage.setLogprobsReasonAttr(StringAttr::get(stage.getContext(), plan.reason));
      if (!plan.fused)
        return;
      for (SequenceLogprobsOp op : logprobs) {
        op.setFused(true);
        op.setChunkAttr(chunkAttr);
      }
    });
  }
};

} // namespace
} // namespace align
