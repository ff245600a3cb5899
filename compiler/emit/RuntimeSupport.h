//===- RuntimeSupport.h - What the runtime's Trainer executes ---*- C++ -*-===//
//
// The one list of train-dialect constructs that the runtime's Trainer (runtime/include/align/rt/api.h,
// section "Trainers") executes. Everything else the train dialect can say (EM and RSF loops, directions,
// textual user information, personalized reward models, the EM loss, aggregation, ...) is reported at its
// op's recipe location as "'<construct>' is not executed by the runtime yet": a trainer never silently
// does something other than what the recipe says. Grow these lists as the runtime grows.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "mlir/IR/Attributes.h"
#include "mlir/IR/Location.h"
#include "mlir/Support/LogicalResult.h"

#include "llvm/ADT/StringRef.h"

namespace align::emit {

/// Emits `'<construct>' is not executed by the runtime yet` at `loc` and returns failure.
mlir::LogicalResult notExecuted(mlir::Location loc, const llvm::Twine &construct);

/// Loss kinds the runtime's TermSpec executes.
bool isExecutedLoss(llvm::StringRef kind);
/// The loss kinds that train a reward head (they take scores).
bool isRewardLoss(llvm::StringRef kind);

/// How a loss parameter reaches the runtime.
enum class ParamUse {
  Number,  ///< TermSpec.params[name] = the value (bools as 0/1)
  Dropped, ///< the runtime's behaviour already is this value (regression's normalize = false)
  Rejected ///< the runtime cannot do what the value asks
};
/// What to do with parameter `name` = `value` of a `kind` loss.
ParamUse lossParamUse(llvm::StringRef kind, llvm::StringRef name, mlir::Attribute value);

/// Metrics the runtime's EvalSpec executes, and the columns it breaks them down by.
bool isExecutedMetric(llvm::StringRef metric);
bool isExecutedBreakdown(llvm::StringRef by);

/// User models UserModelSpec builds (a users attach's constructor), and the parameters it takes.
bool isExecutedUserModel(llvm::StringRef constructor);
bool isExecutedUserModelParam(llvm::StringRef name);

/// Model families ModelSpec loads (load_model's `from`).
bool isExecutedModelFamily(llvm::StringRef family);
/// Data kinds DataSpec reads (load_data's `from`).
bool isExecutedDataKind(llvm::StringRef kind);
/// Split rule kinds SplitRule expresses (`remainder` is the implicit train split, not a rule).
bool isExecutedSplitKind(llvm::StringRef kind);

} // namespace align::emit
