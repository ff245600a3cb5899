//===- RecipeOps.cpp - Verifiers of the recipe dialect --------------------===//
//
// Sema checked the source; these verifiers re-check what a rewrite of the IR could break: references
// that resolve to the right kind of declaration, stages that start from earlier stages, splits that
// exist, a stage with exactly one target and one objective, finite objective weights.
//
//===----------------------------------------------------------------------===//

#include "align/Dialect/Recipe/RecipeOps.h"
#include "align/Dialect/Recipe/RecipeSymbols.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/OpImplementation.h"
#include "llvm/ADT/StringSwitch.h"

#include <cmath>
#include <cstdio>
#include <string>

using namespace mlir;
using namespace align::recipe;

#define GET_OP_CLASSES
#include "align/Dialect/Recipe/RecipeOps.cpp.inc"

namespace {

/// The stage `op` sits in (itself for a stage), or null at recipe level.
StageOp enclosingStage(Operation *op) {
  if (auto stage = dyn_cast<StageOp>(op))
    return stage;
  return op->getParentOfType<StageOp>();
}

/// Stages run in body order, so a stage may only build on stages before it in the same recipe.
LogicalResult verifyEarlierStage(Operation *user, SymbolRefAttr ref, StageOp source, StageOp current,
                                 StringRef role) {
  if (!current)
    return success();
  if (source == current)
    return user->emitOpError() << role << " " << ref << " names its own stage";
  if (source->getBlock() != current->getBlock() || !source->isBeforeInBlock(current))
    return user->emitOpError() << role << " " << ref << " is not an earlier stage than @"
                               << current.getSymName();
  return success();
}

/// A number as people write it in messages: 110, 2.5, 1e-05.
std::string numberText(double value) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%g", value);
  return buffer;
}

std::optional<int64_t> intField(DictionaryAttr dict, StringRef key) {
  if (auto value = dict.getAs<IntegerAttr>(key))
    return value.getInt();
  return std::nullopt;
}

} // namespace

//===----------------------------------------------------------------------===//
// StageOp
//===----------------------------------------------------------------------===//

Operation *StageOp::getObjective() {
  for (Operation &op : getBody()->getOperations())
    if (isa<ObjectiveOp>(op))
      return &op;
  return nullptr;
}

LogicalResult StageOp::verify() {
  unsigned trains = 0, objectives = 0, loops = 0;
  for (Operation &op : getBody()->getOperations()) {
    trains += isa<TrainOp>(op);
    objectives += isa<ObjectiveOp>(op);
    loops += isa<LoopOp>(op);
  }
  if (trains != 1)
    return emitOpError() << "must train exactly one target, found " << trains << " 'recipe.train' ops";
  if (objectives != 1)
    return emitOpError() << "must have exactly one 'recipe.objective', found " << objectives;
  if (loops > 1)
    return emitOpError() << "may have at most one 'recipe.loop', found " << loops;

  DictionaryAttr schedule = getSchedule();
  if (schedule.get("steps") && schedule.get("epochs"))
    return emitOpError() << "schedule sets both 'steps' and 'epochs'";
  std::optional<int64_t> batch = intField(schedule, "batch"), micro = intField(schedule, "micro_batch");
  if (batch && micro && (*micro <= 0 || *batch % *micro != 0))
    return emitOpError() << "schedule 'batch' (" << *batch << ") is not a multiple of 'micro_batch' (" << *micro
                         << ")";
  return success();
}

LogicalResult StageOp::verifySymbolUses(SymbolTableCollection &) {
  FlatSymbolRefAttr init = getInitFromAttr();
  if (!init)
    return success();
  auto source = dyn_cast_or_null<StageOp>(resolveRefOf<StageOp>(*this, init, "init_from", "a stage"));
  if (!source)
    return failure();
  return verifyEarlierStage(*this, init, source, *this, "init_from");
}

//===----------------------------------------------------------------------===//
// Declarations
//===----------------------------------------------------------------------===//

LogicalResult TokenizerOp::verifySymbolUses(SymbolTableCollection &) {
  return verifyNestedRefs(*this, getParams(), "params");
}
LogicalResult UsersOp::verifySymbolUses(SymbolTableCollection &) {
  return verifyNestedRefs(*this, getParams(), "params");
}
LogicalResult PreferenceOp::verifySymbolUses(SymbolTableCollection &) {
  return verifyNestedRefs(*this, getParams(), "params");
}
LogicalResult AdapterOp::verifySymbolUses(SymbolTableCollection &) {
  return verifyNestedRefs(*this, getParams(), "params");
}
LogicalResult TemplateOp::verifySymbolUses(SymbolTableCollection &) { return success(); }

LogicalResult ModelOp::verifySymbolUses(SymbolTableCollection &) {
  if (!resolveRefOf<TokenizerOp>(*this, getTokenizerAttr(), "tokenizer", "a tokenizer"))
    return failure();
  return verifyNestedRefs(*this, getParams(), "params");
}

LogicalResult DataOp::verifySymbolUses(SymbolTableCollection &) {
  return verifyNestedRefs(*this, getParams(), "params");
}

LogicalResult DataOp::verifyRegions() {
  unsigned remainders = 0;
  double percent = 0;
  for (Operation &op : getBody()->getOperations()) {
    auto split = dyn_cast<SplitOp>(op);
    if (!split)
      return op.emitOpError() << "is not a 'recipe.split'; a data body holds only splits";
    remainders += split.getRemainder();
    if (auto share = dyn_cast_or_null<PercentAttr>(split.getRuleAttr()))
      percent += share.getNumber();
  }
  if (remainders > 1)
    return emitOpError() << "has " << remainders << " remainder splits; the rows left over form one split";
  if (percent > 100)
    return emitOpError() << "splits take " << numberText(percent) << "% of the rows, more than 100%";
  return success();
}

LogicalResult SplitOp::verify() {
  if (getRemainder() == static_cast<bool>(getRuleAttr()))
    return emitOpError() << "must be either a remainder split or have a rule, not "
                         << (getRemainder() ? "both" : "neither");
  Attribute rule = getRuleAttr();
  if (auto share = dyn_cast_or_null<PercentAttr>(rule)) {
    if (!(share.getNumber() > 0 && share.getNumber() < 100))
      return emitOpError() << "takes " << numberText(share.getNumber()) << "% of the rows; a split takes between 0% and 100%";
  } else if (auto call = dyn_cast_or_null<CallAttr>(rule)) {
    StringRef callee = call.getCallee().getValue();
    if (callee != "where" && callee != "file")
      return emitOpError() << "rule '" << callee << "' is not a split rule (where, file)";
  } else if (rule) {
    return emitOpError() << "rule must be a #recipe.percent or a #recipe.call to 'where' or 'file'";
  }
  if (std::optional<StringRef> by = getBy()) {
    if (!isa_and_nonnull<PercentAttr>(rule))
      return emitOpError() << "groups rows 'by' a column, which only a percentage split can";
    if (!llvm::is_contained(ArrayRef<StringRef>{"user", "annotator", "domain", "group"}, *by))
      return emitOpError() << "groups by '" << *by << "', not an id column (user, annotator, domain, group)";
  }
  return success();
}

LogicalResult RewardOp::verifySymbolUses(SymbolTableCollection &) {
  if (!resolveRefOf<ModelOp, StageOp>(*this, getBaseAttr(), "base", "a model or a stage"))
    return failure();
  return verifyNestedRefs(*this, getParams(), "params");
}

LogicalResult PolicyOp::verifySymbolUses(SymbolTableCollection &) {
  if (!resolveRefOf<ModelOp, StageOp, RewardOp, PolicyOp>(*this, getBaseAttr(), "base",
                                                          "a model, stage, reward or policy"))
    return failure();
  if (ArrayAttr with = getWithAttr())
    for (auto ref : with.getAsRange<FlatSymbolRefAttr>())
      if (!resolveRefOf<UsersOp, AdapterOp, PreferenceOp>(*this, ref, "with", "users, an adapter or a preference"))
        return failure();
  return success();
}

LogicalResult ReferenceOp::verifySymbolUses(SymbolTableCollection &) {
  Operation *source = resolveRefOf<ModelOp, StageOp>(*this, getSourceAttr(), "source", "a model or a stage");
  if (!source)
    return failure();
  // A frozen stage result must exist before the stage that uses it starts.
  if (auto stage = dyn_cast<StageOp>(source))
    return verifyEarlierStage(*this, getSourceAttr(), stage, enclosingStage(*this), "source");
  return success();
}

LogicalResult AggregateOp::verifySymbolUses(SymbolTableCollection &) {
  if (!resolveRefOf<StageOp>(*this, getPoliciesAttr(), "policies", "a stage"))
    return failure();
  return verifyNestedRefs(*this, getParams(), "params");
}

//===----------------------------------------------------------------------===//
// Stage contents
//===----------------------------------------------------------------------===//

LogicalResult TrainOp::verifySymbolUses(SymbolTableCollection &) {
  if (!resolveRefOf<ModelOp, PolicyOp, RewardOp>(*this, getTargetAttr(), "target", "a model, policy or reward"))
    return failure();
  if (getData().empty())
    return emitOpError() << "trains on no data";
  for (auto ref : getData().getAsRange<SymbolRefAttr>())
    if (failed(verifyDataRef(*this, ref, "data")))
      return failure();
  return success();
}

LogicalResult ObjectiveTermOp::verifySymbolUses(SymbolTableCollection &) {
  return verifyNestedRefs(*this, getParams(), "params");
}

LogicalResult ObjectiveSumOp::verify() {
  ArrayRef<double> weights = getWeights();
  if (getTerms().empty())
    return emitOpError() << "sums no terms";
  if (weights.size() != getTerms().size())
    return emitOpError() << "has " << getTerms().size() << " terms but " << weights.size() << " weights";
  for (auto [index, weight] : llvm::enumerate(weights))
    if (!std::isfinite(weight))
      return emitOpError() << "weight #" << index << " is not finite";
  return success();
}

LogicalResult LoopOp::verify() {
  DictionaryAttr params = getParams();
  auto required = llvm::StringSwitch<std::vector<StringRef>>(getKind())
                      .Case("em", {})
                      .Case("rsf", {"prompts", "directions", "scorer"})
                      .Default({"?"});
  if (!required.empty() && required.front() == "?")
    return emitOpError() << "kind '" << getKind() << "' is not a loop (em, rsf)";
  for (StringRef key : required)
    if (!params.get(key))
      return emitOpError() << "'" << getKind() << "' loop needs '" << key << "'";
  if (std::optional<int64_t> iterations = intField(params, "iterations"); iterations && *iterations < 1)
    return emitOpError() << "runs " << *iterations << " iterations; it needs at least 1";
  return success();
}

LogicalResult LoopOp::verifySymbolUses(SymbolTableCollection &) {
  return verifyNestedRefs(*this, getParams(), "params");
}

LogicalResult EvalOp::verifySymbolUses(SymbolTableCollection &) {
  if (getData().empty())
    return emitOpError() << "evaluates on no data";
  for (auto ref : getData().getAsRange<SymbolRefAttr>())
    if (failed(verifyDataRef(*this, ref, "data")))
      return failure();
  return verifyNestedRefs(*this, getParams(), "params");
}
