//===- RuntimeSupport.cpp - What the runtime's Trainer executes -----------===//
//
// Every answer comes from the registry (registry/include/align/registry/*.def): an objective, metric or
// member of a closed set is executed when its entry says YES, which is also what gives it a place in the
// runtime API (runtime/include/align/rt/Trainer.h). Nothing here lists names.
//
//===----------------------------------------------------------------------===//

#include "RuntimeSupport.h"

#include "CppText.h"

#include "align/registry/Registry.h"

#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/Diagnostics.h"

#include <cstdlib>

namespace align::emit {

mlir::LogicalResult notExecuted(mlir::Location loc, const llvm::Twine &construct) {
  return mlir::emitError(loc) << "'" << construct << "' is not executed by the runtime yet";
}

bool isExecutedLoss(llvm::StringRef kind) {
  const registry::Objective *objective = registry::objective(kind.str());
  return objective && objective->executed;
}

namespace {

/// Whether `value` is what the runtime does for a parameter it does not take: the registry's default.
bool isDefaultValue(const registry::Param &param, mlir::Attribute value) {
  if (param.presence != registry::Presence::Default)
    return false;
  std::string text = param.defaultText;
  if (auto flag = value.dyn_cast<mlir::BoolAttr>())
    return text == (flag.getValue() ? "true" : "false");
  if (std::optional<double> number = numericValue(value))
    return std::strtod(text.c_str(), nullptr) == *number;
  return false;
}

} // namespace

ParamUse paramUse(const registry::Param *param, mlir::Attribute value) {
  if (!param)
    return ParamUse::Rejected;
  if (param->executed)
    return ParamUse::Field;
  return isDefaultValue(*param, value) ? ParamUse::Dropped : ParamUse::Rejected;
}

ParamUse lossParamUse(llvm::StringRef kind, llvm::StringRef name, mlir::Attribute value) {
  const registry::Objective *objective = registry::objective(kind.str());
  return paramUse(objective ? objective->param(name.str()) : nullptr, value);
}

ParamUse metricParamUse(llvm::StringRef metric, llvm::StringRef name, mlir::Attribute value) {
  const registry::Metric *m = registry::metric(metric.str());
  return paramUse(m ? m->param(name.str()) : nullptr, value);
}

bool isExecutedMetric(llvm::StringRef metric) {
  const registry::Metric *m = registry::metric(metric.str());
  return m && m->executed;
}

bool isExecutedMember(llvm::StringRef set, llvm::StringRef spelling) {
  return registry::executes(set.str(), spelling.str());
}

std::string registryId(llvm::StringRef name) {
  if (const registry::Objective *objective = registry::objective(name.str()))
    return objective->id;
  if (const registry::Metric *m = registry::metric(name.str()))
    return m->id;
  return "";
}

std::string enumMember(llvm::StringRef set, llvm::StringRef spelling) {
  if (const registry::Enum *e = registry::enumNamed(set.str()))
    for (const registry::Case &c : e->cases)
      if (spelling == c.spelling)
        return "align::rt::" + set.str() + "::" + c.name;
  return "";
}

bool isExecutedUserModelParam(llvm::StringRef name) {
  // The fields of UserModelSpec: tokens, generic, clusters (`k`), unseen, init (+ its seed, common, range),
  // textColumn (`text: "column"`), weightLr (`weight_lr`), weightStd (`weight_std`).
  return name == "tokens" || name == "generic" || name == "k" || name == "unseen" || name == "init" ||
         name == "text" || name == "weight_lr" || name == "weight_std";
}

} // namespace align::emit
