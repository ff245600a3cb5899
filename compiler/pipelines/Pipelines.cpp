//===- Pipelines.cpp - alignc's named pass pipelines ----------------------===//
//
// Order matters: the program must exist (lowering) and say where each stage starts (expand-stages) before
// the schedule passes decide per stage; which rows a step reads (duplicate-generic-rows) is settled before
// the reference log-probs over them are hoisted; hoisting looks at which models a stage optimizes,
// concatenation and fusion rewrite the step loop; canonicalisation then removes what became dead inside
// stages, and dead declarations go last, once nothing can still gain a use.
//
//===----------------------------------------------------------------------===//

#include "Pipelines.h"

#include "Passes.h"

#include "mlir/Pass/PassRegistry.h"
#include "mlir/Transforms/Passes.h"

namespace align {

void buildRecipeToTrainPipeline(mlir::OpPassManager &pm, const RecipeToTrainOptions &options) {
  pm.addPass(createLowerRecipeToTrainPass());
  pm.addPass(createExpandStagesPass());
  pm.addPass(createDuplicateGenericRowsPass());
  pm.addPass(createHoistReferenceLogprobsPass());
  pm.addPass(createPlanPrecisionPass());
  pm.addPass(createConcatPairsPass());
  if (options.sharePrefix)
    pm.addPass(createSharePrefixPass());
  if (options.fuseLogprobs) {
    FuseLogprobsPassOptions fuse;
    fuse.chunk = options.logprobChunk;
    pm.addPass(createFuseLogprobsPass(fuse));
  }
  pm.addPass(createPlanMemoryPass()); // after the passes that shape the step it estimates
  pm.addPass(mlir::createCanonicalizerPass());
  pm.addPass(mlir::createCSEPass()); // one `train.stage_result` per stage read
  pm.addPass(createEliminateDeadDeclarationsPass());
}

void registerPipelines() {
  registerAlignPasses();
  mlir::registerCanonicalizerPass();
  mlir::registerCSEPass();
  mlir::PassPipelineRegistration<>("recipe-to-train",
                                   "Lower recipes to scheduled train programs (fused log-probs)",
                                   [](mlir::OpPassManager &pm) { buildRecipeToTrainPipeline(pm); });
  mlir::PassPipelineRegistration<>("recipe-to-train-unfused",
                                   "Lower recipes to scheduled train programs without fused log-probs",
                                   [](mlir::OpPassManager &pm) {
                                     buildRecipeToTrainPipeline(pm, RecipeToTrainOptions{/*fuseLogprobs=*/false});
                                   });
}

} // namespace align
