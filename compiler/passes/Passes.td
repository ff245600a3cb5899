//===- Passes.td - Passes from the recipe to the train dialect --*- tablegen -*-===//
//
// The lowering of a recipe to its step program, then the schedule decisions the compiler makes on the
// program: reference hoisting, pair concatenation, fused log-probs, explicit stage starts, dead
// declarations. Pipelines (compiler/pipelines) run them in order.
//
//===----------------------------------------------------------------------===//
#ifndef ALIGN_PASSES_TD
#define ALIGN_PASSES_TD

include "mlir/Pass/PassBase.td"

def LowerRecipeToTrainPass : Pass<"lower-recipe-to-train", "mlir::ModuleOp"> {
  let summary = "Lower each `recipe.recipe` to a `train.program`";
  let description = [{
    One `train.program` per recipe, replacing it. Declarations become program-level ops carrying every
    parameter the runtime needs: `train.load_model` (family, preset or checkpoint, seed, the tokenizer's
    name, kind and spec), `train.load_data` (kind, path, column mapping, template text, error policy,
    limit, shuffle seed, one rule per split), `train.attach` for reward heads, users, adapters and
    directions. Each stage becomes a `train.stage` with its schedule as typed attributes and a
    `train.step_loop` (batch fetch, forward, sequence log-probs or scores, reference log-probs, losses,
    their weighted sum, backward, optimizer step), inside a `train.em_loop` or `train.rsf_loop` when the
    recipe loops; then its `train.evaluate`s and one `train.save_checkpoint`. A frozen reference to a
    stage is a `train.stage_result`; recipe-level evaluations measure the last stage's result.

    Nothing is optimised yet: `reference` is `online` (or `none`), pairs are not concatenated and
    log-probs are not fused. What the train dialect cannot express yet is an error at the recipe op.

    ```mlir
    recipe.stage @sft schedule {batch = 16 : i64, ...} {
      recipe.train @lm on [@hh::@train]
      %0 = recipe.objective.term "nll" {example_weights = false, prompt_loss = false}
      recipe.objective %0
    }
    // becomes
    train.stage @sft attributes {batch = 16 : i64, ..., reference = #train.reference<none>} {
      train.step_loop {
        %b = train.batch_fetch %hh split "train"
        %h = train.forward %lm, %b
        %lp = train.sequence_logprobs %lm, %h, %b
        %l = train.loss nll %lp {prompt_loss = false} : !train.logprobs
        train.backward %l
        train.optimizer_step %lm
      }
      train.save_checkpoint %lm
    }
    ```
  }];
  let dependentDialects = ["::align::train::TrainDialect"];
}

def ExpandStagesPass : Pass<"expand-stages", "mlir::ModuleOp"> {
  let summary = "Make where each stage's model starts, and how long its loops run, explicit";
  let description = [{
    A stage with `init_from @s` gets, at the top of its body, `%start = train.stage_result @s` and
    `train.load_weights %model from %start` for the model its step loop optimizes, so the hand-off
    between stages is an op rather than an attribute to interpret (chains resolve stage by stage:
    `@s`'s own result already started from its `init_from`). Every `train.step_loop` gets its
    stage's `steps` or `epochs`. EM and RSF loops keep their shape.
  }];
  let dependentDialects = ["::align::train::TrainDialect"];
}

def DuplicateGenericRowsPass : Pass<"duplicate-generic-rows", "mlir::ModuleOp"> {
  let summary = "Train every user's rows a second time as the generic user for P-RLHF losses";
  let description = [{
    A step loop whose loss mixes users (`pdpo`, `pipo`, `psimpo`, `pbt`: α · mean over rows of users
    i != 0 + (1 − α) · mean over rows of the generic user 0) needs generic rows; P-RLHF makes them by
    duplicating every comparison of a user i != 0 with user id 0 (docs/methods.md §1.3). The compiler makes
    that duplication, not a data script: the `train.batch_fetch` the loss reads gets
    `with_generic_duplicates`, and the trainer adds the copies to the rows it shuffles and batches.

    ```mlir
    %b = train.batch_fetch %prefs split "train"
    %l = train.loss pdpo %lp against %ref {beta = 5.0e-01 : f64} alpha 5.0e-01 : !train.logprobs
    // becomes
    %b = train.batch_fetch %prefs split "train" with_generic_duplicates
    ```
  }];
}

def HoistReferenceLogprobsPass : Pass<"hoist-reference-logprobs", "mlir::ModuleOp"> {
  let summary = "Compute a frozen reference's log-probs once before the stage and cache them";
  let description = [{
    A `train.reference_logprobs` whose model no loop of the stage updates (a `train.stage_result`, or a
    declared model the stage does not optimize) gives the same numbers every epoch, so the stage scores
    the data once before training and the op reads the cache (`cached`, the one place the decision is
    recorded; the stage's `reference` stays what the recipe asked for).
    A stage whose recipe asked for `reference: online` keeps its online reference; so does a stage
    whose reference could change during the stage (EM loops that restart do not change it).

    ```mlir
    %ref = train.reference_logprobs %sft, %b          // scored every step
    // becomes
    %ref = train.reference_logprobs %sft, %b cached   // scored once before the stage
    ```
  }];
  let options = [
    Option<"enabled", "enable", "bool", /*default=*/"true",
           "Hoist frozen references (false: keep every reference online)">
  ];
}

def ConcatPairsPass : Pass<"concat-pairs", "mlir::ModuleOp"> {
  let summary = "Run chosen and rejected responses through one forward for pairwise objectives";
  let description = [{
    In a step loop with a pairwise loss (an objective with the registry's `Pairwise` trait:
    registry/include/align/registry/Objectives.def), every `train.forward` and `train.score` of a batch
    runs chosen and rejected as one batch of twice the size (`concat_pairs`, recorded on those ops only):
    one pass over the weights instead of two, as TRL's concatenated forward.
  }];
}

def PlanPrecisionPass : Pass<"plan-precision", "mlir::ModuleOp"> {
  let summary = "Choose the precision of stages whose recipe says `auto` (the cost model)";
  let description = [{
    From the shape of the model a stage trains (a preset, or a checkpoint's config.json when it exists at
    compile time), the cost model (compiler/passes/CostModel.h) chooses: below hidden size 256, `fp32` (bf16
    is slower there and costs small models accuracy); otherwise `auto` stays — bf16 where the device has
    native bf16 matrix instructions, decided when the trainer starts. The choice and its reason are recorded
    on the stage (`planned_precision`, `precision_reason`), beside the recipe's `precision`; a recipe that
    names a precision is left alone. The trainer prints the reason, and the choice stays the
    `--set <stage>.schedule.precision` setting.

    ```mlir
    train.stage @sft attributes {precision = #train.precision<auto>, ...}
    // becomes, for a tiny preset
    train.stage @sft attributes {precision = #train.precision<auto>, planned_precision = #train.precision<fp32>,
                                 precision_reason = "hidden size 64 (preset tiny) is below 256: ...", ...}
    ```
  }];
}

def SharePrefixPass : Pass<"share-prefix", "mlir::ModuleOp"> {
  let summary = "Decode the prompt an example's responses share once";
  let description = [{
    In a step whose forwards and scores decode all responses of an example in one pass — a pairwise loss
    with `concat_pairs`, or a listwise loss (the registry's `Listwise` trait, e.g. `rank_loss`) — the
    tokens the responses begin with (their prompt) give the same hidden states in every row, so the pass
    marks those ops `shared_prefix`: the runtime decodes the prefix once and each response attends to it
    and to its own earlier tokens (runtime/src/model/PackedLayout.h). The numbers are those of the
    unshared pass; the prompt's tokens are decoded once instead of once per response.
    `alignc --no-share-prefix` leaves this pass out.

    ```mlir
    %h = train.forward %policy, %b concat_pairs
    // becomes
    %h = train.forward %policy, %b concat_pairs shared_prefix
    ```
  }];
}

def FuseLogprobsPass : Pass<"fuse-logprobs", "mlir::ModuleOp"> {
  let summary = "Fuse LM head, log-softmax and gather into one vocabulary-chunked op";
  let description = [{
    `train.sequence_logprobs` after a `train.forward` becomes `fused chunk N`: the LM head, the
    log-softmax and the gather of the response tokens run in vocabulary slices of N, so batch × sequence
    × vocabulary logits never exist. The decision is recorded on the ops only.
    `alignc --no-fuse` leaves this pass out.
  }];
  let options = [
    Option<"chunk", "chunk", "int64_t", /*default=*/"1024", "Vocabulary entries per chunk (>= 1)">
  ];
}

def PlanMemoryPass : Pass<"plan-memory", "mlir::ModuleOp"> {
  let summary = "Fit each stage's step to its memory budget: micro-batch and activation recomputation";
  let description = [{
    From the trained model's shape, the stage's batch, micro-batch and length bound, and the step the other
    passes shaped (concat-pairs, fuse-logprobs, a frozen reference, adapters), the cost model
    (compiler/passes/CostModel.h) estimates a step's peak memory and chooses the largest micro-batch (a
    divisor of the batch, at most the recipe's) that fits the budget with every layer's activations kept;
    only when one example does not fit do layers recompute their activations in backward. The budget is the
    schedule's `memory:`, else the pass option `memory` (bytes), else the compiling machine's memory. A
    recipe's `activations:` is kept. The plan goes on the stage (`planned_micro_batch`,
    `planned_activations`, `memory_reason`); the trainer prints the reason and both stay `--set` settings.

    ```mlir
    train.stage @sft attributes {batch = 8 : i64, micro_batch = 8 : i64, memory = 2147483648 : i64, ...}
    // becomes, for a step that fits 4 examples of a 134M model in 2 GiB
    train.stage @sft attributes {..., memory_reason = "a step of micro-batch 4 ...",
                                 planned_activations = #train.activations<keep>, planned_micro_batch = 4 : i64}
    ```
  }];
  let options = [Option<"memory", "memory", "int64_t", "0",
                        "the budget in bytes for stages without `memory:` (0: this machine's memory)">];
}

def EliminateDeadDeclarationsPass : Pass<"eliminate-dead-declarations", "mlir::ModuleOp"> {
  let summary = "Remove loaded models, data and attachments that no stage or evaluation uses";
  let description = [{
    A `train.load_model`, `train.load_data` or `train.attach` whose result has no use costs loading
    time and memory in the trainer; it is erased, repeatedly, so a model only a dead attachment used
    goes too. Stage and program ops with effects (evaluations, aggregation) count as uses.
  }];
}

#endif // ALIGN_PASSES_TD
