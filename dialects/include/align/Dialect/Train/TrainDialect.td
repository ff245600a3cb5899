//===- TrainDialect.td - The train dialect -----------------*- tablegen -*-===//
//
// `train` is the scheduled step program a recipe lowers to: models and data loaded once, then per stage
// a step loop (batch fetch, forward, log-probs, loss, backward, optimizer step) with the schedule
// decisions as attributes. The C++ emitter prints it as calls into the runtime.
//
//===----------------------------------------------------------------------===//
#ifndef ALIGN_DIALECT_TRAIN_TRAINDIALECT_TD
#define ALIGN_DIALECT_TRAIN_TRAINDIALECT_TD

include "mlir/IR/OpBase.td"

def Train_Dialect : Dialect {
  let name = "train";
  let cppNamespace = "::align::train";
  let summary = "The scheduled training program: step loops over batches with schedule attributes.";
  let description = [{
    A `train.program` holds `train.load_model`/`train.attach`/`train.load_data` ops, whose SSA values
    (`!train.model`, `!train.dataset`) every stage uses, and one `train.stage` per stage, in run order.
    A stage carries its whole schedule (optimizer, lr schedule, batch and accumulation, precision,
    lengths, reference strategy, pair concatenation, fused log-probs) as attributes; its body holds a
    `train.step_loop` (one optimizer step per iteration, its body run once per micro-batch), optionally
    inside a `train.em_loop` or `train.rsf_loop`, plus evaluation and checkpoint ops.
  }];
  let useDefaultTypePrinterParser = 1;
  let useDefaultAttributePrinterParser = 1;
  let useFoldAPI = kEmitFoldAdaptorFolder; // remove on LLVM >= 17 (the only fold API there)
  let extraClassDeclaration = [{
    void registerTypes();
    void registerAttributes();
  }];
}

class Train_Op<string mnemonic, list<Trait> traits = []> : Op<Train_Dialect, mnemonic, traits>;

#endif // ALIGN_DIALECT_TRAIN_TRAINDIALECT_TD
