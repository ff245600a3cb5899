//===- LowerRecipeToTrain.cpp - The lower-recipe-to-train pass ------------===//
//
// Drives the lowering of each `recipe.recipe` in the module: declarations in their order, stages in run
// order, then aggregations and recipe-level evaluations. A recipe that uses something the train dialect
// cannot express yet fails the pass with an error at the recipe op that uses it; nothing half-built is
// left behind. The declaration and stage halves live in LowerRecipeDeclarations.cpp and
// LowerRecipeStages.cpp.
//
//===----------------------------------------------------------------------===//

#include "Passes.h"
#include "RecipeLowering.h"

namespace align {
#define GEN_PASS_DEF_LOWERRECIPETOTRAINPASS
#include "Passes.h.inc"
} // namespace align

using namespace mlir;

namespace align::lowering {

RecipeLowering::RecipeLowering(recipe::RecipeOp recipe)
    : recipe_(recipe), context_(recipe.getContext()), builder_(recipe) {}

LogicalResult RecipeLowering::run() {
  program_ = builder_.create<train::ProgramOp>(recipe_.getLoc(), recipe_.getSymNameAttr());
  builder_.setInsertionPointToStart(&program_.getBodyRegion().emplaceBlock());
  auto fail = [&] {
    program_.erase();
    return failure();
  };
  Block &body = *recipe_.getBody();
  for (Operation &op : body)
    if (!isa<recipe::StageOp, recipe::EvalOp, recipe::AggregateOp>(op) && failed(lowerDeclaration(&op)))
      return fail();
  for (auto stage : body.getOps<recipe::StageOp>())
    if (failed(lowerStage(stage)))
      return fail();
  for (auto aggregate : body.getOps<recipe::AggregateOp>())
    if (failed(lowerAggregate(aggregate)))
      return fail();
  for (auto eval : body.getOps<recipe::EvalOp>())
    if (failed(lowerRecipeEval(eval)))
      return fail();
  return success();
}

} // namespace align::lowering

namespace align {
namespace {

struct LowerRecipeToTrainPass : impl::LowerRecipeToTrainPassBase<LowerRecipeToTrainPass> {
  void runOnOperation() override {
    SmallVector<recipe::RecipeOp> recipes(getOperation().getBody()->getOps<recipe::RecipeOp>());
    bool failedAny = false;
    for (recipe::RecipeOp recipe : recipes) {
      if (failed(lowering::RecipeLowering(recipe).run())) {
        failedAny = true;
        continue;
      }
      recipe.erase();
    }
    if (failedAny)
      signalPassFailure();
  }
};

} // namespace
} // namespace align
