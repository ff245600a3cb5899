//===- ExpandStages.cpp - Explicit stage starts and loop lengths ----------===//
//
// `init_from` on a stage is a promise the emitter would otherwise have to interpret: which model starts
// from which weights. This pass writes it as ops (a `train.stage_result` and a `train.load_weights` at the
// top of the stage) and copies the stage's length onto each step loop, so what runs is read off the IR.
//
//===----------------------------------------------------------------------===//

#include "Passes.h"

namespace align {
#define GEN_PASS_DEF_EXPANDSTAGESPASS
#include "Passes.h.inc"
} // namespace align

using namespace mlir;
using namespace align::train;

namespace align {
namespace {

/// The models the stage's step loops optimize, in order of first appearance.
SmallVector<Value> optimizedModels(StageOp stage) {
  SmallVector<Value> models;
  stage.walk([&](OptimizerStepOp step) {
    if (!llvm::is_contained(models, step.getModel()))
      models.push_back(step.getModel());
  });
  return models;
}

/// Writes `init_from` as a weight hand-off at the top of the stage, once.
void expandInitFrom(StageOp stage) {
  FlatSymbolRefAttr init = stage.getInitFromAttr();
  if (!init || !stage.getBody()->getOps<LoadWeightsOp>().empty())
    return;
  OpBuilder builder = OpBuilder::atBlockBegin(stage.getBody());
  // The stage may already read that result (a frozen reference to the same stage): one op serves both.
  StageResultOp start;
  for (auto result : stage.getBody()->getOps<StageResultOp>())
    if (result.getStageAttr() == init && !start)
      start = result;
  if (start)
    start->moveBefore(stage.getBody(), stage.getBody()->begin());
  else
    start = builder.create<StageResultOp>(stage.getLoc(), ModelType::get(stage.getContext()), init);
  builder.setInsertionPointAfter(start);
  for (Value model : optimizedModels(stage))
    builder.create<LoadWeightsOp>(stage.getLoc(), model, start);
}

/// Each step loop runs for its stage's steps or epochs (per M-step, per RSF iteration).
void expandLoopLengths(StageOp stage) {
  stage.walk([&](StepLoopOp loop) {
    if (loop.getStepsAttr() || loop.getEpochsAttr())
      return;
    if (IntegerAttr steps = stage.getStepsAttr())
      loop.setStepsAttr(steps);
    else
      loop.setEpochsAttr(stage.getEpochsAttr());
  });
}

struct ExpandStagesPass : impl::ExpandStagesPassBase<ExpandStagesPass> {
  void runOnOperation() override {
    getOperation().walk([](StageOp stage) {
      expandInitFrom(stage);
      expandLoopLengths(stage);
    });
  }
};

} // namespace
} // namespace align
