//===- RuntimeSupport.cpp - What the runtime's Trainer executes -----------===//

#include "RuntimeSupport.h"

#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/Diagnostics.h"

#include "llvm/ADT/STLExtras.h"

namespace align::emit {

namespace {

bool among(llvm::StringRef value, llvm::ArrayRef<llvm::StringRef> set) { return llvm::is_contained(set, value); }

} // namespace

mlir::LogicalResult notExecuted(mlir::Location loc, const llvm::Twine &construct) {
  return mlir::emitError(loc) << "'" << construct << "' is not executed by the runtime yet";
}

bool isExecutedLoss(llvm::StringRef kind) {
  // api.h TermSpec: dpo, ipo, hinge, simpo, pdpo, pipo, psimpo, nll, imitation, bt, rank_loss, regression.
  // pbt (a personalized reward model) is not: the runtime's reward models take no user tokens.
  return among(kind, {"dpo", "ipo", "hinge", "simpo", "pdpo", "pipo", "psimpo", "nll", "imitation", "bt",
                      "rank_loss", "regression"});
}

bool isRewardLoss(llvm::StringRef kind) { return among(kind, {"bt", "rank_loss", "regression"}); }

ParamUse lossParamUse(llvm::StringRef kind, llvm::StringRef name, mlir::Attribute value) {
  // TermSpec.params: beta, label_smoothing, gamma, threshold; flags prompt_loss (and example_weights, which
  // the emitter sets from the loss's `weighted`; alpha, which it sets from a mixing loss's `alpha`).
  if ((kind == "dpo" || kind == "simpo") && name == "label_smoothing")
    return ParamUse::Number;
  if (among(kind, {"dpo", "ipo", "hinge", "simpo", "pdpo", "pipo", "psimpo"}) && name == "beta")
    return ParamUse::Number;
  if ((kind == "simpo" || kind == "psimpo") && name == "gamma")
    return ParamUse::Number;
  if (kind == "imitation" && name == "threshold")
    return ParamUse::Number;
  if (kind == "nll" && name == "prompt_loss")
    return ParamUse::Number;
  // Standardising ratings is not in the runtime's regression loss; plain MSE is what it does.
  if (kind == "regression" && name == "normalize") {
    auto flag = value.dyn_cast<mlir::BoolAttr>();
    return flag && !flag.getValue() ? ParamUse::Dropped : ParamUse::Rejected;
  }
  return ParamUse::Rejected;
}

bool isExecutedMetric(llvm::StringRef metric) {
  // generated_length samples with the stage's model (and each user's tokens); EvalSpec.params carries
  // max_new_tokens, samples and temperature.
  return among(metric, {"accuracy", "margin", "length_baseline", "loss", "generated_length"});
}

bool isExecutedBreakdown(llvm::StringRef by) {
  // EvalSpec.by: user, group, domain, type or dataset. `type` needs EM's posterior, which no executed
  // stage produces.
  return among(by, {"user", "group", "domain", "dataset"});
}

bool isExecutedUserModel(llvm::StringRef constructor) { return among(constructor, {"individual", "cluster"}); }

bool isExecutedUserModelParam(llvm::StringRef name) {
  // UserModelSpec: tokens, generic, clusters (`k`), unseen, init, textColumn (`text: "column"`).
  return among(name, {"tokens", "generic", "k", "unseen", "init", "text"});
}

bool isExecutedModelFamily(llvm::StringRef family) { return among(family, {"llama", "qwen2", "mistral", "hf"}); }

bool isExecutedDataKind(llvm::StringRef kind) {
  return among(kind, {"pairwise", "ranking", "scored", "rated", "sft", "prompts", "domain_pairs"});
}

bool isExecutedSplitKind(llvm::StringRef kind) { return among(kind, {"percent", "where", "file"}); }

} // namespace align::emit
