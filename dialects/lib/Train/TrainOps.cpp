//===- TrainOps.cpp - Program- and stage-level verifiers of train ---------===//
//
// The emitter trusts these: a stage's schedule is self-consistent (batch = micro_batch × accumulation,
// steps or epochs, lengths that fit, a chunk size exactly when log-probs are fused), stages start from
// earlier stages, outer loops have the shape the runtime expects. Step-level ops are in TrainStepOps.cpp.
//
//===----------------------------------------------------------------------===//

#include "align/Dialect/Train/TrainOps.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/OpImplementation.h"
#include "llvm/ADT/StringSet.h"

#include <cmath>

using namespace mlir;
using namespace align::train;

#define GET_OP_CLASSES
#include "align/Dialect/Train/TrainOps.cpp.inc"

namespace {

bool positiveFinite(double value) { return std::isfinite(value) && value > 0; }

/// ODS returns I64Attr values as uint64_t; schedule checks need the signed value (-1 must fail `>= 0`).
int64_t signedValue(IntegerAttr attr) { return attr.getInt(); }

template <typename OpTy>
unsigned countOps(Block &block) {
  return static_cast<unsigned>(llvm::count_if(block, [](Operation &op) { return isa<OpTy>(op); }));
}

} // namespace

//===----------------------------------------------------------------------===//
// Program level
//===----------------------------------------------------------------------===//

LogicalResult AttachOp::verify() {
  if (!llvm::is_contained(ArrayRef<StringRef>{"reward_head", "users", "adapter", "direction"}, getRole()))
    return emitOpError() << "role '" << getRole() << "' is not one of: reward_head, users, adapter, direction";
  return success();
}

bool LoadDataOp::hasSplit(StringRef split) {
  return llvm::any_of(getSplits().getAsValueRange<StringAttr>(), [&](StringRef s) { return s == split; });
}

LogicalResult LoadDataOp::verify() {
  llvm::StringSet<> seen;
  for (StringRef split : getSplits().getAsValueRange<StringAttr>()) {
    if (split.empty())
      return emitOpError() << "has a split with an empty name";
    if (!seen.insert(split).second)
      return emitOpError() << "lists split '" << split << "' twice";
  }
  return success();
}

//===----------------------------------------------------------------------===//
// StageOp
//===----------------------------------------------------------------------===//

LogicalResult StageOp::verify() {
  if (!positiveFinite(getLr().convertToDouble()))
    return emitOpError() << "lr must be a finite number > 0";
  double lrFinal = getLrFinal().convertToDouble();
  if (!(lrFinal >= 0 && lrFinal <= 1))
    return emitOpError() << "lr_final must lie in [0, 1] (a fraction of lr)";
  if (signedValue(getWarmupAttr()) < 0)
    return emitOpError() << "warmup must be >= 0";
  int64_t batch = signedValue(getBatchAttr()), micro = signedValue(getMicroBatchAttr());
  if (batch < 1 || micro < 1)
    return emitOpError() << "batch and micro_batch must be >= 1";
  if (batch % micro != 0)
    return emitOpError() << "batch (" << batch << ") must be a multiple of micro_batch (" << micro << ")";
  if (getSteps().has_value() == getEpochs().has_value())
    return emitOpError() << "must set exactly one of steps and epochs";
  if (getStepsAttr() && signedValue(getStepsAttr()) < 1)
    return emitOpError() << "steps must be >= 1";
  if (getEpochs() && !positiveFinite(getEpochs()->convertToDouble()))
    return emitOpError() << "epochs must be a finite number > 0";
  int64_t maxLength = signedValue(getMaxLengthAttr()), maxPrompt = signedValue(getMaxPromptLengthAttr());
  if (maxLength < 2)
    return emitOpError() << "max_length must be >= 2 (a prompt token and a response token)";
  if (maxPrompt < 1 || maxPrompt >= maxLength)
    return emitOpError() << "max_prompt_length (" << maxPrompt << ") must lie in [1, max_length (" << maxLength
                         << "))";
  if (!positiveFinite(getClip().convertToDouble()))
    return emitOpError() << "clip must be a finite number > 0";
  if (signedValue(getSeedAttr()) < 0)
    return emitOpError() << "seed must be >= 0";
  if (signedValue(getLogEveryAttr()) < 1)
    return emitOpError() << "log_every must be >= 1";
  if (getTimeLimit() && !positiveFinite(getTimeLimit()->convertToDouble()))
    return emitOpError() << "time_limit must be a finite number of seconds > 0";
  // `none` is no request: a stage without a reference model has no `reference` attribute.
  if (getReference() == ReferenceStrategy::none)
    return emitOpError() << "reference 'none' is not a request; leave the attribute out";
  if (getEvalEveryStepsAttr() && getEvalEverySecondsAttr())
    return emitOpError() << "sets both eval_every_steps and eval_every_seconds";
  if (getEvalEveryStepsAttr() && signedValue(getEvalEveryStepsAttr()) < 1)
    return emitOpError() << "eval_every_steps must be >= 1";
  if (getEvalEverySeconds() && !positiveFinite(getEvalEverySeconds()->convertToDouble()))
    return emitOpError() << "eval_every_seconds must be a finite number > 0";

  unsigned loops = countOps<StepLoopOp>(*getBody()) + countOps<EmLoopOp>(*getBody()) +
                   countOps<RsfLoopOp>(*getBody());
  if (loops != 1)
    return emitOpError() << "must hold exactly one 'train.step_loop', 'train.em_loop' or 'train.rsf_loop', found "
                         << loops;
  return success();
}

LogicalResult StageOp::verifySymbolUses(SymbolTableCollection &symbols) {
  FlatSymbolRefAttr init = getInitFromAttr();
  if (!init)
    return success();
  auto source = symbols.lookupNearestSymbolFrom<StageOp>(*this, init);
  if (!source)
    return emitOpError() << "init_from " << init << " is not a stage of this program";
  if (source == *this)
    return emitOpError() << "init_from " << init << " names the stage itself";
  if (!source->isBeforeInBlock(*this))
    return emitOpError() << "init_from " << init << " is not an earlier stage";
  return success();
}

//===----------------------------------------------------------------------===//
// Loops and stage-level ops
//===----------------------------------------------------------------------===//

LogicalResult StepLoopOp::verify() {
  if (getStepsAttr() && getEpochsAttr())
    return emitOpError() << "sets both steps and epochs";
  if (getStepsAttr() && signedValue(getStepsAttr()) < 1)
    return emitOpError() << "steps must be >= 1";
  if (getEpochs() && !positiveFinite(getEpochs()->convertToDouble()))
    return emitOpError() << "epochs must be a finite number > 0";
  return success();
}

LogicalResult StepLoopOp::verifyRegions() {
  unsigned backwards = countOps<BackwardOp>(*getBody());
  if (backwards != 1)
    return emitOpError() << "must run exactly one 'train.backward' per micro-batch, found " << backwards;
  return success();
}

LogicalResult EvaluateOp::verify() {
  static const StringRef metrics[] = {"accuracy", "margin",   "length_baseline", "loss",
                                      "generated_length", "pareto", "regret"};
  if (!llvm::is_contained(metrics, getMetric()))
    return emitOpError() << "metric '" << getMetric() << "' is unknown";
  if (std::optional<StringRef> by = getBy())
    if (!llvm::is_contained(ArrayRef<StringRef>{"user", "type", "domain", "dataset", "group", "direction"}, *by))
      return emitOpError() << "cannot break a metric down by '" << *by << "'";
  if (std::optional<StringRef> split = getSplit())
    if (auto data = getDataset().getDefiningOp<LoadDataOp>(); data && !data.hasSplit(*split))
      return emitOpError() << "data '" << data.getName() << "' has no split '" << *split << "'";
  if (getEveryStepsAttr() && signedValue(getEveryStepsAttr()) < 1)
    return emitOpError() << "every_steps must be >= 1";
  return success();
}

LogicalResult SaveCheckpointOp::verify() {
  if (getEverySteps() && getEverySeconds())
    return emitOpError() << "sets both every_steps and every_seconds";
  if (getEveryStepsAttr() && signedValue(getEveryStepsAttr()) < 1)
    return emitOpError() << "every_steps must be >= 1";
  if (getEverySeconds() && !positiveFinite(getEverySeconds()->convertToDouble()))
    return emitOpError() << "every_seconds must be a finite number > 0";
  return success();
}

LogicalResult GenerateOp::verify() {
  if (signedValue(getSamplesAttr()) < 1)
    return emitOpError() << "samples must be >= 1";
  if (!positiveFinite(getTemperature().convertToDouble()))
    return emitOpError() << "temperature must be a finite number > 0";
  if (signedValue(getMaxNewTokensAttr()) < 1)
    return emitOpError() << "max_new_tokens must be >= 1";
  return success();
}

LogicalResult EmLoopOp::verify() {
  if (signedValue(getIterationsAttr()) < 1 || signedValue(getTypesAttr()) < 1)
    return emitOpError() << "iterations and types must be >= 1";
  if (signedValue(getFoldsAttr()) < 2)
    return emitOpError() << "folds must be >= 2";
  // Restarting each M-step needs a starting point to restart from.
  if (getRestart() && !(*this)->getParentOfType<StageOp>().getInitFrom())
    return emitOpError() << "restarts each M-step, but its stage has no init_from";
  return success();
}

LogicalResult EmLoopOp::verifyRegions() {
  if (countOps<StepLoopOp>(*getBody()) != 1)
    return emitOpError() << "must hold exactly one 'train.step_loop' (the M-step)";
  return success();
}

LogicalResult RsfLoopOp::verify() {
  if (signedValue(getIterationsAttr()) < 1)
    return emitOpError() << "iterations must be >= 1";
  if (getPromptsPerIterationAttr() && signedValue(getPromptsPerIterationAttr()) < 1)
    return emitOpError() << "prompts_per_iteration must be >= 1";
  return success();
}

LogicalResult RsfLoopOp::verifyRegions() {
  GenerateOp generate;
  StepLoopOp steps;
  for (Operation &op : *getBody()) {
    if (auto g = dyn_cast<GenerateOp>(op)) {
      if (generate)
        return emitOpError() << "generates more than once per iteration";
      generate = g;
    }
    if (auto s = dyn_cast<StepLoopOp>(op)) {
      if (steps)
        return emitOpError() << "holds more than one 'train.step_loop'";
      steps = s;
    }
  }
  if (!generate || !steps)
    return emitOpError() << "must generate samples and then fine-tune on them in a 'train.step_loop'";
  if (!generate->isBeforeInBlock(steps))
    return emitOpError() << "must generate before its 'train.step_loop'";
  return success();
}
