//===- RuntimeSupport.h - What the runtime's Trainer executes ---*- C++ -*-===//
//
// What of the train dialect the runtime's Trainer (runtime/include/align/rt/Trainer.h) executes, answered
// from the registry (registry/include/align/registry/*.def), and the C++ names the registry gives the
// runtime API's enums and parameter structs. Everything else the train dialect can say (EM and RSF loops,
// directions, personalized reward models, the EM loss, aggregation, ...) is reported at its op's recipe
// location as "'<construct>' is not executed by the runtime yet": a trainer never silently does something
// other than what the recipe says.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "mlir/IR/Attributes.h"
#include "mlir/IR/Location.h"
#include "mlir/Support/LogicalResult.h"

#include "llvm/ADT/StringRef.h"

#include <string>

namespace align::registry {
struct Param;
}

namespace align::emit {

/// Emits `'<construct>' is not executed by the runtime yet` at `loc` and returns failure.
mlir::LogicalResult notExecuted(mlir::Location loc, const llvm::Twine &construct);

/// Objectives and metrics the runtime executes (the registry's YES entries).
bool isExecutedLoss(llvm::StringRef kind);
bool isExecutedMetric(llvm::StringRef metric);

/// How a parameter of an objective or metric reaches the runtime.
enum class ParamUse {
  Field,   ///< a field of the parameter struct (`DpoParams::beta`)
  Dropped, ///< the runtime does only this value, the registry's default (regression's normalize = false)
  Rejected ///< the runtime cannot do what the value asks, or the parameter is unknown
};
ParamUse lossParamUse(llvm::StringRef kind, llvm::StringRef name, mlir::Attribute value);
ParamUse metricParamUse(llvm::StringRef metric, llvm::StringRef name, mlir::Attribute value);

/// Whether the runtime executes member `spelling` of the registry's closed set `set` ("DataKind", "By", ...).
bool isExecutedMember(llvm::StringRef set, llvm::StringRef spelling);
/// `align::rt::Precision::automatic` for ("Precision", "auto"); "" for a word the set lacks.
std::string enumMember(llvm::StringRef set, llvm::StringRef spelling);
/// The registry's Id of an objective or metric (`rank_loss` → `RankLoss`): its struct is `align::rt::<Id>Params`;
/// "" for a name the registry lacks.
std::string registryId(llvm::StringRef name);

/// The parameters of a users model that UserModelSpec has fields for.
bool isExecutedUserModelParam(llvm::StringRef name);

} // namespace align::emit
