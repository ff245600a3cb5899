//===- TrainEnums.td - Schedule and loss enumerations ------*- tablegen -*-===//
#ifndef ALIGN_DIALECT_TRAIN_TRAINENUMS_TD
#define ALIGN_DIALECT_TRAIN_TRAINENUMS_TD

include "align/Dialect/Train/TrainDialect.td"
include "mlir/IR/EnumAttr.td"

class Train_Enum<string name, string summary, list<I32EnumAttrCase> cases>
    : I32EnumAttr<name, summary, cases> {
  let cppNamespace = "::align::train";
  let genSpecializedAttr = 0;
}

// Printed `#train.optimizer<adamw>` in attribute dictionaries.
class Train_EnumAttr<Train_Enum enum, string attrMnemonic> : EnumAttr<Train_Dialect, enum, attrMnemonic> {
  let assemblyFormat = "`<` $value `>`";
}

def Train_OptimizerKind : Train_Enum<"OptimizerKind", "optimizer", [
    I32EnumAttrCase<"adamw", 0>, I32EnumAttrCase<"rmsprop", 1>, I32EnumAttrCase<"sgd", 2>]>;
def Train_OptimizerKindAttr : Train_EnumAttr<Train_OptimizerKind, "optimizer">;

def Train_LRScheduleKind : Train_Enum<"LRScheduleKind", "learning-rate schedule after warmup", [
    I32EnumAttrCase<"constant", 0>, I32EnumAttrCase<"linear", 1>, I32EnumAttrCase<"cosine", 2>]>;
def Train_LRScheduleKindAttr : Train_EnumAttr<Train_LRScheduleKind, "lr_schedule">;

def Train_Precision : Train_Enum<"Precision", "compute precision (auto: bf16 on GPU, fp32 on CPU)", [
    I32EnumAttrCase<"automatic", 0, "auto">, I32EnumAttrCase<"fp32", 1>, I32EnumAttrCase<"bf16", 2>,
    I32EnumAttrCase<"fp16", 3>]>;
def Train_PrecisionAttr : Train_EnumAttr<Train_Precision, "precision">;

def Train_Truncation : Train_Enum<"Truncation", "which end of a too-long prompt is cut", [
    I32EnumAttrCase<"left", 0>, I32EnumAttrCase<"right", 1>]>;
def Train_TruncationAttr : Train_EnumAttr<Train_Truncation, "truncation">;

def Train_ReferenceStrategy : Train_Enum<"ReferenceStrategy", "how reference log-probs are obtained", [
    I32EnumAttrCase<"none", 0>, I32EnumAttrCase<"precompute", 1>, I32EnumAttrCase<"online", 2>]>;
def Train_ReferenceStrategyAttr : Train_EnumAttr<Train_ReferenceStrategy, "reference">;

// A specialised integer attribute, so the op's syntax prints it as a bare keyword (`train.loss dpo ...`).
def Train_LossKind : Train_Enum<"LossKind", "loss", [
    I32EnumAttrCase<"dpo", 0>, I32EnumAttrCase<"ipo", 1>, I32EnumAttrCase<"hinge", 2>,
    I32EnumAttrCase<"simpo", 3>, I32EnumAttrCase<"pdpo", 4>, I32EnumAttrCase<"pipo", 5>,
    I32EnumAttrCase<"psimpo", 6>, I32EnumAttrCase<"em_dpo", 7>, I32EnumAttrCase<"bt", 8>,
    I32EnumAttrCase<"pbt", 9>, I32EnumAttrCase<"rank_loss", 10>, I32EnumAttrCase<"regression", 11>,
    I32EnumAttrCase<"nll", 12>, I32EnumAttrCase<"imitation", 13>]> {
  let genSpecializedAttr = 1;
}

#endif // ALIGN_DIALECT_TRAIN_TRAINENUMS_TD
