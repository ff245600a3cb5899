//===- TrainTypes.td - Types of the train dialect ----------*- tablegen -*-===//
//
// Opaque handles to runtime objects; the types say what flows where, so a loss cannot be fed hidden
// states and a forward cannot take a dataset.
//
//===----------------------------------------------------------------------===//
#ifndef ALIGN_DIALECT_TRAIN_TRAINTYPES_TD
#define ALIGN_DIALECT_TRAIN_TRAINTYPES_TD

include "align/Dialect/Train/TrainDialect.td"
include "mlir/IR/AttrTypeBase.td"

class Train_Type<string name, string typeMnemonic, string what> : TypeDef<Train_Dialect, name> {
  let mnemonic = typeMnemonic;
  let summary = what;
}

def Train_ModelType : Train_Type<"Model", "model", "a model: weights, heads, attached users or adapters">;
def Train_DatasetType : Train_Type<"Dataset", "dataset", "a loaded data source with named splits">;
def Train_BatchType : Train_Type<"Batch", "batch", "one micro-batch of tokenized examples">;
def Train_HiddenType : Train_Type<"Hidden", "hidden", "final hidden states of a forward pass (before the LM head)">;
def Train_LogprobsType : Train_Type<"Logprobs", "logprobs", "per-sequence log-probabilities of the responses">;
def Train_ScoresType : Train_Type<"Scores", "scores", "reward-model outputs, one (or one per objective) per text">;
def Train_LossType : Train_Type<"Loss", "loss", "a scalar loss">;
def Train_SamplesType : Train_Type<"Samples", "samples", "generated responses with their prompts">;

#endif // ALIGN_DIALECT_TRAIN_TRAINTYPES_TD
