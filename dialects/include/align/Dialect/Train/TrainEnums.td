//===- TrainEnums.td - Schedule and loss enumerations ------*- tablegen -*-===//
//
// Attribute forms of the registry's enums (the enums are generated: see below).
//
//===----------------------------------------------------------------------===//
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

// The enums themselves — every closed set of registry/include/align/registry/Enums.def, and LossKind from
// Objectives.def — are generated from the registry by align-registry-td into the build tree.
include "align/Dialect/Train/RegistryEnums.td"

def Train_OptimizerKindAttr : Train_EnumAttr<Train_OptimizerKind, "optimizer">;
def Train_LRScheduleKindAttr : Train_EnumAttr<Train_LRScheduleKind, "lr_schedule">;
def Train_PrecisionAttr : Train_EnumAttr<Train_Precision, "precision">;
def Train_ActivationsAttr : Train_EnumAttr<Train_Activations, "activations">;
def Train_TruncationAttr : Train_EnumAttr<Train_Truncation, "truncation">;
def Train_ReferenceStrategyAttr : Train_EnumAttr<Train_ReferenceStrategy, "reference">;
def Train_ShardStrategyAttr : Train_EnumAttr<Train_ShardStrategy, "shard">;
def Train_WeightNormAttr : Train_EnumAttr<Train_WeightNorm, "weight_norm">;
def Train_RankingLikelihoodAttr : Train_EnumAttr<Train_RankingLikelihood, "likelihood">;
def Train_EStepKindAttr : Train_EnumAttr<Train_EStepKind, "e_step">;
def Train_TypePoliciesAttr : Train_EnumAttr<Train_TypePolicies, "policies">;

#endif // ALIGN_DIALECT_TRAIN_TRAINENUMS_TD
