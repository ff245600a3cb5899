//===- PlanPrecision.cpp - The cost model's precision for `precision: auto` ===//
//
// A stage whose recipe leaves `precision: auto` gets the cost model's choice (CostModel.h) from the shape of
// the model it trains: `planned_precision` and `precision_reason` on the stage, beside the recipe's
// `precision`, which stays what the recipe asked. The emitter makes the planned value the `--set` setting's
// default and the trainer prints the reason when the stage starts. A recipe that names a precision decides.
//
//===----------------------------------------------------------------------===//

#include "CostModel.h"
#include "Passes.h"

namespace align {
#define GEN_PASS_DEF_PLANPRECISIONPASS
#include "Passes.h.inc"
} // namespace align

using namespace mlir;
using namespace align::train;

namespace align {
namespace {

struct PlanPrecisionPass : impl::PlanPrecisionPassBase<PlanPrecisionPass> {
  void runOnOperation() override {
    getOperation().walk([](StageOp stage) {
      if (stage.getPrecision() != Precision::automatic)
        return;
      Value trained = cost::trainedModel(stage);
      std::string why = "the stage optimizes no model";
      std::optional<cost::ModelShape> shape = trained ? cost::shapeOf(trained, why) : std::nullopt;
      cost::PrecisionPlan plan = cost::planPrecision(shape, why);
      Builder builder(stage.getContext());
      stage.setPlannedPrecisionAttr(PrecisionAttr::get(stage.getContext(), plan.precision));
      stage.setPrecisionReasonAttr(builder.getStringAttr(plan.reason));
      if (shape) // the trainer checks that the model it builds still has this size (a --set can change it)
        stage.setPlannedForHiddenAttr(builder.getI64IntegerAttr(shape->hidden));
    });
  }
};

} // namespace
} // namespace align
