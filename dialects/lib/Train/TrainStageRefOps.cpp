//===- TrainStageRefOps.cpp - Ops that refer to stages or combine data ----===//
//
// Verifiers of the ops that tie stages together: a stage's result is only available after the stage ran,
// a weight hand-off happens before the stage's loop starts, an aggregation reads a stage that ran, and a
// data union names one existing split per source.
//
//===----------------------------------------------------------------------===//

#include "align/Dialect/Train/TrainOps.h"
#include "align/registry/Registry.h"

#include "llvm/ADT/StringExtras.h"

using namespace mlir;
using namespace align::train;

namespace {

/// The op's ancestor that sits directly in the program's body (the op itself at program level).
Operation *programLevelAncestor(Operation *op) {
  while (op && !isa<ProgramOp>(op->getParentOp()))
    op = op->getParentOp();
  return op;
}

/// The stage `ref` names, which must run before `user` (before the stage holding `user`).
FailureOr<StageOp> lookupEarlierStage(Operation *user, FlatSymbolRefAttr ref, SymbolTableCollection &symbols,
                                      StringRef role) {
  auto stage = symbols.lookupNearestSymbolFrom<StageOp>(user, ref);
  if (!stage)
    return user->emitOpError() << role << " " << ref << " is not a stage of this program";
  Operation *anchor = programLevelAncestor(user);
  if (stage == anchor)
    return user->emitOpError() << role << " " << ref << " is the stage it is in; a stage's result exists only "
                                                         "after the stage";
  if (!stage->isBeforeInBlock(anchor))
    return user->emitOpError() << role << " " << ref << " is not an earlier stage";
  return stage;
}

} // namespace

LogicalResult StageResultOp::verifySymbolUses(SymbolTableCollection &symbols) {
  return lookupEarlierStage(*this, getStageAttr(), symbols, "stage");
}

LogicalResult LoadWeightsOp::verify() {
  if (getModel() == getSource())
    return emitOpError() << "loads a model's weights into itself";
  if (getModel().getDefiningOp<StageResultOp>())
    return emitOpError() << "loads weights into a stage result, which is frozen";
  // The start of the stage: nothing may have trained the model yet.
  for (Operation *later = (*this)->getNextNode(); later; later = later->getNextNode())
    if (isa<StepLoopOp, EmLoopOp, RsfLoopOp>(later))
      return success();
  return emitOpError() << "must come before the stage's loop";
}

LogicalResult UnionDataOp::verify() {
  if (getSources().size() < 2)
    return emitOpError() << "unites fewer than two sources";
  if (getSplits().size() != getSources().size())
    return emitOpError() << "has " << getSources().size() << " sources but " << getSplits().size() << " split names";
  for (auto [source, split] : llvm::zip(getSources(), getSplits().getAsValueRange<StringAttr>()))
    if (auto data = source.getDefiningOp<LoadDataOp>(); data && !data.hasSplit(split))
      return emitOpError() << "data '" << data.getName() << "' has no split '" << split << "'";
  return success();
}

LogicalResult AggregateOp::verify() {
  StringRef kind = getKind();
  if (!symbolizeAggregateKind(kind))
    return emitOpError() << "kind '" << kind << "' is not one of: "
                         << llvm::join(llvm::split(registry::spellings("AggregateKind"), '|'), ", ");
  if (kind == "minmax_regret" && !getPrompts())
    return emitOpError() << "'minmax_regret' estimates regrets on prompts, but has none";
  if (getSplit() && !getPrompts())
    return emitOpError() << "names a split but no prompts";
  if (std::optional<StringRef> split = getSplit())
    if (auto data = getPrompts().getDefiningOp<LoadDataOp>(); data && !data.hasSplit(*split))
      return emitOpError() << "data '" << data.getName() << "' has no split '" << *split << "'";
  return success();
}

LogicalResult AggregateOp::verifySymbolUses(SymbolTableCollection &symbols) {
  if (auto baseline = getParams().get("baseline")) {
    auto ref = dyn_cast<FlatSymbolRefAttr>(baseline);
    if (!ref)
      return emitOpError() << "'baseline' must name a stage";
    if (failed(lookupEarlierStage(*this, ref, symbols, "baseline")))
      return failure();
  }
  return lookupEarlierStage(*this, getPoliciesAttr(), symbols, "policies");
}
