//===- RecipeLowering.h - State of one recipe's lowering to train -*- C++ -*-===//
//
// lower-recipe-to-train builds one `train.program` per `recipe.recipe`. The work splits in two files:
// declarations (LowerRecipeDeclarations.cpp: models, data, attachments and the attribute conversions)
// and stages (LowerRecipeStages.cpp: schedules, step loops, EM/RSF loops, evaluations). Both share the
// state below: the program being built and the value each recipe declaration became.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "align/Dialect/Recipe/RecipeOps.h"
#include "align/Dialect/Train/TrainOps.h"

#include "mlir/IR/Builders.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/StringMap.h"

namespace align::lowering {

/// A dataset as a stage reads it: a loaded source and one of its splits (none: every row).
struct DataRead {
  mlir::Value dataset;
  mlir::StringAttr split;
};

/// One term of a stage's objective with its coefficient in the objective's sum.
struct WeightedTerm {
  mutable recipe::ObjectiveTermOp term; // op handles are used through const references
  double weight;
};

class RecipeLowering {
public:
  explicit RecipeLowering(recipe::RecipeOp recipe);

  /// Builds the program before the recipe; on failure (an error was reported at the recipe op that cannot
  /// be expressed) erases what it built and returns failure. The recipe op itself is left for the caller.
  mlir::LogicalResult run();

private:
  //===--- Declarations (LowerRecipeDeclarations.cpp) ---===//
  mlir::LogicalResult lowerDeclaration(mlir::Operation *op);
  mlir::LogicalResult lowerModel(recipe::ModelOp model);
  mlir::LogicalResult lowerData(recipe::DataOp data);
  mlir::LogicalResult lowerReward(recipe::RewardOp reward);
  /// The model a recipe name trains or scores with: a model, policy (with its attachments) or reward.
  /// Attachments are built at program level, before the current stage.
  mlir::FailureOr<mlir::Value> modelFor(mlir::Operation *user, mlir::FlatSymbolRefAttr ref);
  mlir::FailureOr<mlir::Value> lowerPolicy(recipe::PolicyOp policy);
  /// A data reference `@d` or `@d::@split`.
  mlir::FailureOr<DataRead> dataFor(mlir::Operation *user, mlir::SymbolRefAttr ref);

  //===--- Stages and evaluation (LowerRecipeStages.cpp) ---===//
  mlir::LogicalResult lowerStage(recipe::StageOp stage);
  mlir::FailureOr<mlir::DictionaryAttr> scheduleAttributes(recipe::StageOp stage, bool hasReference);
  mlir::FailureOr<llvm::SmallVector<WeightedTerm>> objectiveTerms(recipe::StageOp stage);
  /// The body of a step loop: fetch, forward/score, reference, losses, backward, optimizer step.
  mlir::LogicalResult buildStepLoop(mlir::OpBuilder &builder, mlir::Location loc, mlir::Value model,
                                    DataRead data, llvm::ArrayRef<WeightedTerm> terms, mlir::Value reference,
                                    mlir::Location referenceLoc);
  mlir::LogicalResult lowerStageEvals(mlir::OpBuilder &builder, recipe::StageOp stage, mlir::Value model,
                                      std::optional<int64_t> everySteps);
  mlir::LogicalResult lowerAggregate(recipe::AggregateOp aggregate);
  mlir::LogicalResult lowerRecipeEval(recipe::EvalOp eval);

  recipe::RecipeOp recipe_;
  mlir::MLIRContext *context_;
  mlir::OpBuilder builder_; ///< program level: declarations, then stages, then evaluations
  train::ProgramOp program_;
  /// What each declaration became: a model (`load_model`/`attach` result) or a dataset.
  llvm::DenseMap<mlir::Operation *, mlir::Value> values_;
  /// The last stage lowered, whose result recipe-level evaluations measure.
  train::StageOp lastStage_;
  mlir::Value lastStageResult_;
};

//===--- Attribute conversion (LowerRecipeDeclarations.cpp) ---===//

/// A recipe value as the train dialect carries it: `#recipe.call<"c", {args}>` becomes
/// `{kind = "c", args...}`, `#recipe.percent<p>` the fraction p/100, angles (degrees) and durations
/// (seconds) plain f64s, and a symbol reference the text a template holds or the name it refers to.
mlir::Attribute plainValue(mlir::Operation *scope, mlir::Attribute value);

/// `plainValue` of every entry of `params` except the `skip`ped keys.
mlir::DictionaryAttr plainParams(mlir::Operation *scope, mlir::DictionaryAttr params,
                                 llvm::ArrayRef<llvm::StringRef> skip = {});

} // namespace align::lowering
