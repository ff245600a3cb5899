//===- PlanMemory.cpp - The cost model's micro-batch and activation plan for a memory budget ===//
//
// A stage's step must fit its memory budget (`memory:` in the schedule; absent: the compiling machine's
// memory, or the pass option for tests). From the trained model's shape and the step the other passes have
// shaped — how many sequences one pass decodes per example (concat-pairs), whether the LM head is fused and
// in which chunk (fuse-logprobs), whether a frozen reference is held, whether only adapters train — the cost
// model (CostModel.h) estimates the step's peak and chooses the largest micro-batch that fits with every
// layer's activations kept, and recomputation in backward only when one example does not fit. The plan is
// recorded on the stage (`planned_micro_batch`, `planned_activations`, `memory_reason`); the emitter makes it
// the defaults of the `micro_batch` and `activations` settings, and the trainer prints the reason.
//
//===----------------------------------------------------------------------===//

#include "CostModel.h"
#include "Passes.h"

namespace align {
#define GEN_PASS_DEF_PLANMEMORYPASS
#include "Passes.h.inc"
} // namespace align

using namespace mlir;
using namespace align::train;

namespace align {
namespace {

struct PlanMemoryPass : impl::PlanMemoryPassBase<PlanMemoryPass> {
  using PlanMemoryPassBase::PlanMemoryPassBase;

  void runOnOperation() override {
    getOperation().walk([&](StageOp stage) {
      Value trained = cost::trainedModel(stage);
      if (!trained) // an EM/RSF bookkeeping stage without a step of its own
        return;
      cost::StepDemand demand = cost::demandOf(stage, trained, memory);
      std::string why;
      std::optional<cost::ModelShape> shape = cost::shapeOf(trained, why);
      cost::MemoryPlan plan = cost::planMemory(shape, why, demand);
      Builder builder(stage.getContext());
      stage.setPlannedMicroBatchAttr(builder.getI64IntegerAttr(plan.microBatch));
      stage.setPlannedActivationsAttr(ActivationsAttr::get(stage.getContext(), plan.activations));
      stage.setMemoryReasonAttr(builder.getStringAttr(plan.reason));
      if (shape && !stage.getPlannedForHidden()) // the trainer checks the model it builds still has this size
        stage.setPlannedForHiddenAttr(builder.getI64IntegerAttr(shape->hidden));
    });
  }
};

} // namespace
} // namespace align
