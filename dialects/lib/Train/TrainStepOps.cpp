//===- TrainStepOps.cpp - Verifiers of the ops inside a step loop ---------===//
//
// Step ops must agree with each other (log-probs from the same model's forward, a reference that is not
// the model being trained, a loss fed what its kind needs). The passes' decisions live on these ops, once
// each; whether the runtime can execute a mix of them in one step is the emitter's question.
//
//===----------------------------------------------------------------------===//

#include "align/Dialect/Train/TrainOps.h"
#include "align/registry/Registry.h"

#include <cmath>
#include <string>

using namespace mlir;
using namespace align::train;

namespace {

/// The stage an op belongs to, reporting an error when it is outside any stage.
StageOp requireStage(Operation *op) {
  auto stage = op->getParentOfType<StageOp>();
  if (!stage)
    op->emitOpError() << "must be inside a 'train.stage'";
  return stage;
}

/// The model a step loop optimizes (its terminator's operand), or null.
Value optimizedModel(Operation *op) {
  auto loop = op->getParentOfType<StepLoopOp>();
  if (!loop || loop.getBody()->empty())
    return nullptr;
  if (auto step = dyn_cast<OptimizerStepOp>(loop.getBody()->back()))
    return step.getModel();
  return nullptr;
}

/// The train.load_data ops a dataset value reads: itself, or the sources of a union (empty when unknown).
SmallVector<LoadDataOp> loadedSources(Value dataset) {
  SmallVector<LoadDataOp> sources;
  if (auto load = dataset.getDefiningOp<LoadDataOp>())
    sources.push_back(load);
  else if (auto unionData = dataset.getDefiningOp<UnionDataOp>())
    for (Value source : unionData.getSources())
      if (auto load = source.getDefiningOp<LoadDataOp>())
        sources.push_back(load);
  return sources;
}

/// "pdpo, pipo, ...": the losses that mix user rows and generic duplicates, for messages.
std::string mixingLosses() {
  std::string out;
  for (const align::registry::Objective &o : align::registry::objectives())
    if (o.has(align::registry::MixesUsers))
      out += (out.empty() ? "" : ", ") + std::string(o.name);
  return out;
}

} // namespace

LogicalResult BatchFetchOp::verify() {
  if (std::optional<StringRef> split = getSplit())
    if (auto data = getDataset().getDefiningOp<LoadDataOp>(); data && !data.hasSplit(*split))
      return emitOpError() << "data '" << data.getName() << "' has no split '" << *split << "'";
  if (!getGenericDuplicates())
    return success();
  // A generic duplicate is a user row relabelled as user 0: without user ids there is nothing to relabel.
  // Data whose config lists no columns (hand-written IR) is not checked here; the runtime checks the file.
  for (LoadDataOp data : loadedSources(getDataset()))
    if (auto columns = data.getConfig().getAs<DictionaryAttr>("columns"); columns && !columns.get("user"))
      return emitOpError() << "duplicates rows as the generic user, but data '" << data.getName()
                           << "' has no 'user' column";
  // Only the P-RLHF losses read the duplicates (their (1 - alpha) share); any other loss would silently
  // train on every user row twice.
  auto loop = (*this)->getParentOfType<StepLoopOp>();
  bool mixing = loop && llvm::any_of(loop.getBody()->getOps<LossOp>(),
                                     [](LossOp loss) { return LossOp::mixesUsers(loss.getKind()); });
  if (!mixing)
    return emitOpError() << "duplicates rows as the generic user, but no loss of its step loop mixes users "
                            "(" << mixingLosses() << ")";
  return success();
}

LogicalResult ForwardOp::verify() { return success(requireStage(*this) != nullptr); }

LogicalResult SequenceLogprobsOp::verify() {
  StageOp stage = requireStage(*this);
  if (!stage)
    return failure();
  if (getFused() != getChunk().has_value())
    return emitOpError() << (getFused() ? "is fused but has no chunk size" : "has a chunk size but is not fused");
  if (getChunkAttr() && getChunkAttr().getValue().getSExtValue() < 1)
    return emitOpError() << "chunk must be >= 1";
  // The LM head applied here must be the one of the model whose forward made the hidden states.
  if (auto forward = getHidden().getDefiningOp<ForwardOp>()) {
    if (forward.getModel() != getModel())
      return emitOpError() << "applies a different model's LM head than the forward that made its hidden states";
    if (forward.getBatch() != getBatch())
      return emitOpError() << "reads a different batch than the forward that made its hidden states";
  }
  return success();
}

LogicalResult ReferenceLogprobsOp::verify() {
  StageOp stage = requireStage(*this);
  if (!stage)
    return failure();
  if (getCached() && stage.getReference() == ReferenceStrategy::online)
    return emitOpError() << "is cached, but stage @" << stage.getSymName() << "'s recipe asked for reference: online";
  // A cached or frozen reference must not be the model whose weights this loop updates.
  if (Value trained = optimizedModel(*this); trained && trained == getModel())
    return emitOpError() << "scores with the model the step loop optimizes; a reference is frozen";
  return success();
}

// A loss's traits are the registry's (registry/include/align/registry/Objectives.def): LossKind is generated
// from the same table, in the same order.
static const align::registry::Objective &objectiveOf(LossKind kind) {
  return align::registry::objectives()[static_cast<size_t>(kind)];
}

bool LossOp::needsReference(LossKind kind) { return objectiveOf(kind).has(align::registry::NeedsReference); }

bool LossOp::takesScores(LossKind kind) { return objectiveOf(kind).has(align::registry::TakesScores); }

bool LossOp::mixesUsers(LossKind kind) { return objectiveOf(kind).has(align::registry::MixesUsers); }

bool LossOp::isPairwise(LossKind kind) { return objectiveOf(kind).has(align::registry::Pairwise); }

bool LossOp::isListwise(LossKind kind) { return objectiveOf(kind).has(align::registry::Listwise); }

bool LossOp::typeWeighted(LossKind kind) { return objectiveOf(kind).has(align::registry::TypeWeighted); }

LogicalResult LossOp::verify() {
  LossKind kind = getKind();
  StringRef name = stringifyLossKind(kind);
  bool scores = isa<ScoresType>(getInput().getType());
  if (takesScores(kind) != scores)
    return emitOpError() << "'" << name << "' takes " << (takesScores(kind) ? "reward scores" : "log-probs")
                         << ", not " << (scores ? "scores" : "log-probs");
  if (needsReference(kind) && !getReference())
    return emitOpError() << "'" << name << "' needs reference log-probs";
  if (!needsReference(kind) && getReference())
    return emitOpError() << "'" << name << "' takes no reference log-probs";
  if (mixesUsers(kind) != getAlpha().has_value())
    return emitOpError() << "'" << name << "' "
                         << (mixesUsers(kind) ? "mixes user and generic rows and needs alpha" : "takes no alpha");
  if (getAlpha()) {
    double alpha = getAlpha()->convertToDouble();
    if (!(alpha >= 0 && alpha <= 1))
      return emitOpError() << "alpha must lie in [0, 1]";
  }
  if (auto beta = getParams().getAs<FloatAttr>("beta"); beta && !(beta.getValueAsDouble() > 0))
    return emitOpError() << "beta must be > 0";
  bool hasWeights = getWeighted() || typeWeighted(kind);
  if (hasWeights && !getWeightNorm())
    return emitOpError() << "'" << name << "' weights its examples but does not say how (weight_norm <sum> or <mean>)";
  if (!hasWeights && getWeightNorm())
    return emitOpError() << "'" << name << "' has no per-example weights to normalise";
  return success();
}

LogicalResult LossSumOp::verify() {
  if (getTerms().empty())
    return emitOpError() << "sums no losses";
  if (getWeights().size() != getTerms().size())
    return emitOpError() << "has " << getTerms().size() << " losses but " << getWeights().size() << " weights";
  for (auto [index, weight] : llvm::enumerate(getWeights()))
    if (!std::isfinite(weight))
      return emitOpError() << "weight #" << index << " is not finite";
  return success();
}

OpFoldResult LossSumOp::fold(FoldAdaptor) {
  if (getTerms().size() == 1 && getWeights().size() == 1 && getWeights()[0] == 1.0)
    return getTerms().front();
  return {};
}

LogicalResult OptimizerStepOp::verify() {
  // Gradients exist only for a model that some forward or scoring in this step ran.
  Block *body = (*this)->getBlock();
  bool used = llvm::any_of(*body, [&](Operation &op) {
    if (auto forward = dyn_cast<ForwardOp>(op))
      return forward.getModel() == getModel();
    if (auto score = dyn_cast<ScoreOp>(op))
      return score.getModel() == getModel();
    return false;
  });
  if (!used)
    return emitOpError() << "optimizes a model that no 'train.forward' or 'train.score' in this step runs";
  return success();
}
