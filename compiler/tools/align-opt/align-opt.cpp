//===- align-opt.cpp - The alignc optimizer driver ------------------------===//
//
// mlir-opt for alignc's dialects: parses `recipe` and `train` IR, runs passes (each by name, e.g.
// `-lower-recipe-to-train`, or a named pipeline, `-recipe-to-train`), verifies and prints it. Lit tests
// drive every dialect and pass through it (`align-opt %s | align-opt`).
//
//===----------------------------------------------------------------------===//

#include "align/Dialect/Recipe/RecipeOps.h"
#include "align/Dialect/Train/TrainOps.h"
#include "Pipelines.h"

#include "mlir/IR/DialectRegistry.h"
#include "mlir/Tools/mlir-opt/MlirOptMain.h"

int main(int argc, char **argv) {
  align::registerPipelines();
  mlir::DialectRegistry registry;
  registry.insert<align::recipe::RecipeDialect, align::train::TrainDialect>();
  return mlir::asMainReturnCode(mlir::MlirOptMain(argc, argv, "alignc optimizer driver\n", registry));
}
