//===- TrainOps.td - Ops of the train dialect --------------*- tablegen -*-===//
//
// The step program. Program level: load models and data, attach heads/users/adapters. Stage level: the
// schedule as attributes, a step loop, evaluation and checkpoints. Step level: batch fetch, forward,
// log-probs (fused or not), reference log-probs (cached or online), losses, backward, optimizer step.
// Outer loops: EM over latent types and rejection-sampling fine-tuning.
//
//===----------------------------------------------------------------------===//
#ifndef ALIGN_DIALECT_TRAIN_TRAINOPS_TD
#define ALIGN_DIALECT_TRAIN_TRAINOPS_TD

include "align/Dialect/Train/TrainDialect.td"
include "align/Dialect/Train/TrainEnums.td"
include "align/Dialect/Train/TrainTypes.td"
include "mlir/IR/SymbolInterfaces.td"
include "mlir/Interfaces/SideEffectInterfaces.td"

//===----------------------------------------------------------------------===//
// Program level
//===----------------------------------------------------------------------===//

def Train_ProgramOp : Train_Op<"program", [Symbol, SymbolTable, SingleBlock, NoTerminator,
    IsolatedFromAbove]> {
  let summary = "a training program: loaded models and data, then stages in run order";
  let arguments = (ins SymbolNameAttr:$sym_name);
  let regions = (region SizedRegion<1>:$bodyRegion);
  let assemblyFormat = "$sym_name attr-dict-with-keyword $bodyRegion";
}

def Train_LoadModelOp : Train_Op<"load_model", [HasParent<"ProgramOp">]> {
  let summary = "builds a model from a preset or loads a Hugging Face checkpoint";
  let description = [{
    `name` is the model declaration's name, `source` its family (`llama`, `qwen2`, `mistral`, `hf`).
    The config lower-recipe-to-train writes: `preset` (absent for `hf`), `checkpoint` (a Hugging Face
    directory, when given; it replaces the preset), `seed`, and the tokenizer the model reads:
    `tokenizer` (its declaration's name), `tokenizer_kind` (`bytes`, `hf`) and `tokenizer_spec` (what
    the runtime opens: `"bytes"` or the tokenizer.json path).
    ```mlir
    %lm = train.load_model "lm" from "llama" {preset = "tiny", seed = 0 : i64, tokenizer = "tok",
                                              tokenizer_kind = "bytes", tokenizer_spec = "bytes"}
    ```
    A frozen reference to a model declaration (`reference ref = frozen(lm)`) is a second load of the
    same config under the reference's name, which no stage trains.
  }];
  let arguments = (ins StrAttr:$name, StrAttr:$source, DictionaryAttr:$config);
  let results = (outs Train_ModelType:$model);
  let assemblyFormat = "$name `from` $source $config attr-dict-with-keyword";
}

def Train_AttachOp : Train_Op<"attach", [HasParent<"ProgramOp">]> {
  let summary = "a model with something attached: a reward head, users, an adapter or a direction";
  let description = [{
    `role` is one of `reward_head` (`scalar`, `regression`), `users` (`individual`, `cluster`),
    `adapter` (`lora`) or `direction` (a DPA preference rendered into the prompt). The config holds the
    declaration's parameters, defaults included, with nested calls as `{kind = ..., args...}`:
    reward heads `pooling`, `bias`, `objectives` (regression) and `outputs` (the number of head outputs:
    1, or one per objective); users `tokens`, `generic`, `unseen`, `k`, `text`, `init = {kind, seed,
    ...}`; lora `r`, `alpha`, `dropout`, `targets`; directions `objectives`, `angle` (degrees), `sample`,
    `scale`, `render` (the template's text) and `reward` (the reward declaration's name). The
    declaration's name is the discardable attribute `name`.
    ```mlir
    %rm = train.attach "reward_head" "scalar" to %lm {outputs = 1 : i64, pooling = "last"} attributes {name = "rm"}
    ```
  }];
  let arguments = (ins StrAttr:$role, StrAttr:$constructor, Train_ModelType:$base, DictionaryAttr:$config);
  let results = (outs Train_ModelType:$model);
  let assemblyFormat = "$role $constructor `to` $base $config attr-dict-with-keyword";
  let hasVerifier = 1;
}

def Train_LoadDataOp : Train_Op<"load_data", [HasParent<"ProgramOp">]> {
  let summary = "reads, tokenizes and splits a data source";
  let description = [{
    `source` is the data kind (`pairwise`, `ranking`, `scored`, `rated`, `sft`, `prompts`,
    `domain_pairs`). The config lower-recipe-to-train writes: `path`, `columns` (field → column, every
    column parameter the recipe's normalised call has: `prompt`, `chosen`, `user`, `texts`, ...),
    `on_error` (`error`, `skip`), `shuffle_seed`, and when given `limit`, `ratings`, `preferred`,
    `against`, `template` (the template's text, escapes as written). `split_rules` lists one rule per
    split in `splits` order, the order rows are assigned in: `{name, kind = "percent", fraction (0..1),
    by?}`, `{name, kind = "where", column, equals (the value as JSON text)}`, `{name, kind = "file",
    path}` or `{name, kind = "remainder"}` (the rows no other rule took).
    ```mlir
    %hh = train.load_data "hh" from "scored" {columns = {scores = "score", texts = "text"},
        on_error = "error", path = "dsp/helpful.json", shuffle_seed = 0 : i64,
        split_rules = [{fraction = 5.0e-02 : f64, kind = "percent", name = "eval"},
                       {kind = "remainder", name = "train"} ] } splits ["eval", "train"]
    ```
  }];
  let arguments = (ins StrAttr:$name, StrAttr:$source, DictionaryAttr:$config, StrArrayAttr:$splits);
  let results = (outs Train_DatasetType:$dataset);
  let assemblyFormat = "$name `from` $source $config `splits` $splits attr-dict-with-keyword";
  let hasVerifier = 1;
  let extraClassDeclaration = [{
    bool hasSplit(::llvm::StringRef split);
  }];
}

//===----------------------------------------------------------------------===//
// Stage level
//===----------------------------------------------------------------------===//

def Train_StageOp : Train_Op<"stage", [Symbol, SingleBlock, NoTerminator, HasParent<"ProgramOp">,
    DeclareOpInterfaceMethods<SymbolUserOpInterface>]> {
  let summary = "a stage: the recipe's schedule as attributes, its step program as the body";
  let description = [{
    The attributes are the recipe's schedule, one per schedule key, each a `ScheduleSpec` field of the
    runtime API (runtime/include/align/rt/Trainer.h) and a `--set <stage>.schedule.<key>` setting: the
    optimizer and its parameters, the lr schedule with `warmup` steps and `lr_final` (a fraction of `lr`),
    `batch` examples per optimizer step in micro-batches of `micro_batch` (accumulation = batch /
    micro_batch), `steps` or `epochs`, `precision`, `max_length`/`max_prompt_length` and `truncation`,
    gradient `clip`, `seed`, `shuffle` (absent: true), `log_every`, `time_limit` (seconds) and the `eval_every_*` cadence at which
    the recipe-level evaluations (program-level `train.evaluate`) also run during this stage (absent: at
    the end only). `reference` is what the recipe asked for (`auto`, `precompute`, `online`; absent
    without a reference model).

    `planned_precision` and `precision_reason` are the cost model's choice for a recipe's `precision: auto`
    (the `plan-precision` pass), `planned_for_hidden` the hidden size it assumed (absent: unknown); the
    recipe's `precision` stays what it asked. `activations` (`keep`, `recompute`; absent: `auto`) and `memory` (bytes;
    absent: the machine's) are the recipe's; `planned_activations`, `planned_micro_batch` and
    `memory_reason` are the cost model's memory plan (the `plan-memory` pass): what the backward keeps and
    how many examples a forward takes so that a step fits the budget. `logprobs_reason` says why
    `fuse-logprobs` fused the stage's log-probs or left them unfused.

    The other decisions of the compiler's passes are not attributes of the stage: each is recorded once, on the
    step op it concerns (`train.forward concat_pairs shared_prefix`, `train.sequence_logprobs fused chunk N`,
    `train.reference_logprobs cached`), and the emitter reads them there.

    Models are declarations: a stage trains its own copy of the model its step loop optimizes, starting
    from the declaration's initial weights, or from stage `init_from`'s result. After
    `expand-stages` that start is explicit: a `train.load_weights` of a `train.stage_result` at the top
    of the body.
  }];
  let arguments = (ins
    SymbolNameAttr:$sym_name,
    OptionalAttr<FlatSymbolRefAttr>:$init_from,
    Train_OptimizerKindAttr:$optimizer,
    F64Attr:$lr,
    DictionaryAttr:$optimizer_params,
    Train_LRScheduleKindAttr:$lr_schedule,
    F64Attr:$lr_final,
    I64Attr:$warmup,
    I64Attr:$batch,
    I64Attr:$micro_batch,
    OptionalAttr<I64Attr>:$steps,
    OptionalAttr<F64Attr>:$epochs,
    Train_PrecisionAttr:$precision,
    OptionalAttr<Train_PrecisionAttr>:$planned_precision,
    OptionalAttr<StrAttr>:$precision_reason,
    OptionalAttr<I64Attr>:$planned_for_hidden,
    OptionalAttr<Train_ActivationsAttr>:$activations,
    OptionalAttr<I64Attr>:$memory,
    OptionalAttr<Train_ActivationsAttr>:$planned_activations,
    OptionalAttr<I64Attr>:$planned_micro_batch,
    OptionalAttr<StrAttr>:$memory_reason,
    OptionalAttr<StrAttr>:$logprobs_reason,
    I64Attr:$max_length,
    I64Attr:$max_prompt_length,
    Train_TruncationAttr:$truncation,
    F64Attr:$clip,
    I64Attr:$seed,
    OptionalAttr<Train_ReferenceStrategyAttr>:$reference,
    OptionalAttr<Train_ShardStrategyAttr>:$shard,
    OptionalAttr<BoolAttr>:$shuffle,
    I64Attr:$log_every,
    OptionalAttr<F64Attr>:$time_limit,
    OptionalAttr<I64Attr>:$eval_every_steps,
    OptionalAttr<F64Attr>:$eval_every_seconds);
  let regions = (region SizedRegion<1>:$bodyRegion);
  let assemblyFormat = "$sym_name (`init_from` $init_from^)? attr-dict-with-keyword $bodyRegion";
  let hasVerifier = 1;
}

def Train_StepLoopOp : Train_Op<"step_loop", [SingleBlock, ParentOneOf<["StageOp", "EmLoopOp", "RsfLoopOp"]>]> {
  let summary = "the optimizer steps of a stage";
  let description = [{
    Runs until the stage's `steps` or `epochs` are done. Each iteration is one optimizer step: the body up
    to the terminating `train.optimizer_step` runs once per micro-batch (batch / micro_batch times), each
    `train.backward` adding to the gradients. After `expand-stages` the loop carries its own length,
    `steps` or `epochs` (per run of the loop: per M-step of an EM loop, per RSF iteration), equal to its
    stage's.
  }];
  let arguments = (ins OptionalAttr<I64Attr>:$steps, OptionalAttr<F64Attr>:$epochs);
  let regions = (region SizedRegion<1>:$bodyRegion);
  let assemblyFormat = "attr-dict-with-keyword $bodyRegion";
  let hasVerifier = 1;
  let hasRegionVerifier = 1;
}

def Train_EvaluateOp : Train_Op<"evaluate", [ParentOneOf<["ProgramOp", "StageOp"]>]> {
  let summary = "computes a metric of a model on data, optionally broken down by a column";
  let description = [{
    ```mlir
    train.evaluate "accuracy" by "user" %pi on %prefs split "eval" {}
    ```
    In a stage it runs every `every_steps` steps (at the end when absent); at program level, after the
    last stage, on the model given (lower-recipe-to-train passes the last stage's `train.stage_result`;
    the stages' `eval_every_*` say how often it also runs during training). `params` holds the metric's
    parameters (`samples`, `max_new_tokens`, `temperature`, `grid`). One op per data split: an eval
    item on several splits becomes several ops with the same `by`.
  }];
  let arguments = (ins StrAttr:$metric, OptionalAttr<StrAttr>:$by, Train_ModelType:$model,
                       Train_DatasetType:$dataset, OptionalAttr<StrAttr>:$split,
                       OptionalAttr<I64Attr>:$every_steps, DictionaryAttr:$params);
  let assemblyFormat = [{
    $metric (`by` $by^)? $model `on` $dataset (`split` $split^)? (`every_steps` $every_steps^)? $params
    attr-dict-with-keyword
  }];
  let hasVerifier = 1;
}

def Train_SaveCheckpointOp : Train_Op<"save_checkpoint", [HasParent<"StageOp">]> {
  let summary = "writes the model as a Hugging Face checkpoint at a cadence and at the stage's end";
  let arguments = (ins Train_ModelType:$model, OptionalAttr<I64Attr>:$every_steps,
                       OptionalAttr<F64Attr>:$every_seconds);
  let assemblyFormat = [{
    $model (`every_steps` $every_steps^)? (`every_seconds` $every_seconds^)? attr-dict
  }];
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Step level
//===----------------------------------------------------------------------===//

def Train_BatchFetchOp : Train_Op<"batch_fetch"> {
  let summary = "the next micro-batch of a dataset (or of one of its splits)";
  let description = [{
    `with_generic_duplicates` (written by `duplicate-generic-rows`): the rows fetched are the data's rows
    and, for every row of a user i != 0, a copy of it as the generic user (id 0), shuffled together, so a
    P-RLHF loss (`pdpo`, `pipo`, `psimpo`, `pbt`) trains the generic embedding on everyone's data
    (docs/methods.md §1.3). Only valid in a step loop whose loss mixes users, on data with a `user` column.
    ```mlir
    %b = train.batch_fetch %prefs split "train" with_generic_duplicates
    ```
  }];
  let arguments = (ins Train_DatasetType:$dataset, OptionalAttr<StrAttr>:$split,
                       UnitAttr:$generic_duplicates);
  let results = (outs Train_BatchType:$batch);
  let assemblyFormat = [{
    $dataset (`split` $split^)? (`with_generic_duplicates` $generic_duplicates^)? attr-dict
  }];
  let hasVerifier = 1;
}

def Train_ForwardOp : Train_Op<"forward", [Pure]> {
  let summary = "the decoder's forward pass up to the final hidden states";
  let description = [{
    With `concat_pairs` (the `concat-pairs` pass's decision), all responses of each example in the
    micro-batch, chosen and rejected, go through one decoder pass; without it, each example's first
    response and its other responses go through two. A step's forwards and scores agree on it (one
    decoder pass per micro-batch serves both). With `shared_prefix` (the `share-prefix` pass's decision),
    that one pass decodes the tokens an example's responses begin with — their prompt — once, and each
    response attends to it (a shared-prefix mask).
  }];
  let arguments = (ins Train_ModelType:$model, Train_BatchType:$batch, UnitAttr:$concat_pairs,
                       UnitAttr:$shared_prefix);
  let results = (outs Train_HiddenType:$hidden);
  let assemblyFormat = [{
    $model `,` $batch (`concat_pairs` $concat_pairs^)? (`shared_prefix` $shared_prefix^)? attr-dict
  }];
  let hasVerifier = 1;
}

def Train_SequenceLogprobsOp : Train_Op<"sequence_logprobs", [Pure]> {
  let summary = "per-sequence response log-probabilities from hidden states";
  let description = [{
    Unfused: LM head, full log-softmax, gather. `fused chunk N`: the same in vocabulary chunks of N,
    never materialising batch × sequence × vocabulary logits (the `fuse-logprobs` pass's decision). The
    runtime takes one choice per step: a step's log-prob ops agree on it.
  }];
  let arguments = (ins Train_ModelType:$model, Train_HiddenType:$hidden, Train_BatchType:$batch,
                       UnitAttr:$fused, OptionalAttr<I64Attr>:$chunk);
  let results = (outs Train_LogprobsType:$logprobs);
  let assemblyFormat = [{
    $model `,` $hidden `,` $batch (`fused` $fused^)? (`chunk` $chunk^)? attr-dict
  }];
  let hasVerifier = 1;
}

def Train_ReferenceLogprobsOp : Train_Op<"reference_logprobs"> {
  let summary = "log-probabilities of the frozen reference model, cached or computed online";
  let description = [{
    `cached`: computed once per example before training and looked up (the
    `hoist-reference-logprobs` pass's decision: the stage's reference is precomputed); otherwise a no-grad
    forward every step (online).
  }];
  let arguments = (ins Train_ModelType:$model, Train_BatchType:$batch, UnitAttr:$cached);
  let results = (outs Train_LogprobsType:$logprobs);
  let assemblyFormat = "$model `,` $batch (`cached` $cached^)? attr-dict";
  let hasVerifier = 1;
}

def Train_ScoreOp : Train_Op<"score", [Pure]> {
  let summary = "reward-model scores of a batch or of generated samples";
  let description = [{
    `concat_pairs` and `shared_prefix` as on `train.forward`: the responses of each example are scored in
    one decoder pass, their shared prompt decoded once.
  }];
  let arguments = (ins Train_ModelType:$model, AnyTypeOf<[Train_BatchType, Train_SamplesType]>:$input,
                       UnitAttr:$concat_pairs, UnitAttr:$shared_prefix);
  let results = (outs Train_ScoresType:$scores);
  let assemblyFormat = [{
    $model `,` $input (`concat_pairs` $concat_pairs^)? (`shared_prefix` $shared_prefix^)? attr-dict `:` type($input)
  }];
}

def Train_LossOp : Train_Op<"loss", [Pure]> {
  let summary = "one loss of the objective family, with its parameters";
  let description = [{
    ```mlir
    %l = train.loss pdpo %lp against %ref {beta = 5.0e-01 : f64} alpha 5.0e-01 : !train.logprobs
    ```
    `params` holds the term's remaining parameters (`beta`, `label_smoothing`, `gamma`, `threshold`,
    `prompt_loss`, `normalize`; a `preference` as its constructor name, e.g. `"plackett_luce"`);
    the recipe's `example_weights` is `weighted`, a mixing loss's `alpha` the `alpha` attribute, and
    `em_dpo`'s `types` the enclosing `train.em_loop`'s. A loss with per-example weights (`weighted`, or
    `em_dpo`'s posterior γ) says how Σ w·ℓ over the batch is normalised: `weight_norm <sum>` (by Σ w) or
    `weight_norm <mean>` (by the number of units); a loss without weights has no `weight_norm`.
    Preference losses on log-probs that compare with a reference (`dpo`, `ipo`, `hinge`, `pdpo`, `pipo`,
    `em_dpo`) take it `against` reference log-probs; reward losses (`bt`, `pbt`, `rank_loss`,
    `regression`) take scores. P-RLHF losses (`pdpo`, `pipo`, `psimpo`, `pbt`) mix user-conditioned and
    generic rows with `alpha`. `weighted` multiplies each example by the data's weight column.
  }];
  let arguments = (ins Train_LossKind:$kind, AnyTypeOf<[Train_LogprobsType, Train_ScoresType]>:$input,
                       Optional<Train_LogprobsType>:$reference, DictionaryAttr:$params,
                       UnitAttr:$weighted, OptionalAttr<Train_WeightNormAttr>:$weight_norm,
                       OptionalAttr<F64Attr>:$alpha);
  let results = (outs Train_LossType:$loss);
  let assemblyFormat = [{
    $kind $input (`against` $reference^)? $params (`weighted` $weighted^)? (`weight_norm` $weight_norm^)?
    (`alpha` $alpha^)? attr-dict
    `:` type($input)
  }];
  let hasVerifier = 1;
  let extraClassDeclaration = [{
    // The registry's traits of a loss kind (registry/include/align/registry/Objectives.def).
    static bool needsReference(LossKind kind);
    static bool takesScores(LossKind kind);
    static bool mixesUsers(LossKind kind);
    static bool isPairwise(LossKind kind);
    static bool isListwise(LossKind kind);
    static bool typeWeighted(LossKind kind);
  }];
}

def Train_LossSumOp : Train_Op<"loss_sum", [Pure]> {
  let summary = "a weighted sum of losses";
  let description = [{
    Folds away when it sums one loss with weight 1 (canonicalisation), so the emitter never sees a
    trivial sum.
  }];
  let arguments = (ins Variadic<Train_LossType>:$terms, DenseF64ArrayAttr:$weights);
  let results = (outs Train_LossType:$loss);
  let assemblyFormat = "$terms `weights` $weights attr-dict";
  let hasVerifier = 1;
  let hasFolder = 1;
}

def Train_BackwardOp : Train_Op<"backward", [HasParent<"StepLoopOp">]> {
  let summary = "accumulates the gradients of a loss (scaled by micro_batch / batch)";
  let arguments = (ins Train_LossType:$loss);
  let assemblyFormat = "$loss attr-dict";
}

def Train_OptimizerStepOp : Train_Op<"optimizer_step", [Terminator, HasParent<"StepLoopOp">]> {
  let summary = "clips gradients, applies the stage's optimizer and lr schedule, zeroes gradients";
  let arguments = (ins Train_ModelType:$model);
  let assemblyFormat = "$model attr-dict";
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Generation and outer loops
//===----------------------------------------------------------------------===//

def Train_GenerateOp : Train_Op<"generate"> {
  let summary = "samples responses to a batch of prompts (KV-cached decoding)";
  let arguments = (ins Train_ModelType:$model, Train_BatchType:$prompts, I64Attr:$samples,
                       F64Attr:$temperature, I64Attr:$max_new_tokens);
  let results = (outs Train_SamplesType:$result);
  let assemblyFormat = "$model `,` $prompts attr-dict";
  let hasVerifier = 1;
}

def Train_SelectBestOp : Train_Op<"select_best", [Pure]> {
  let summary = "keeps the best-scoring sample per prompt as a dataset to fine-tune on (RSF)";
  let arguments = (ins Train_SamplesType:$samples, Train_ScoresType:$scores);
  let results = (outs Train_DatasetType:$dataset);
  let assemblyFormat = "$samples `,` $scores attr-dict";
}

def Train_EmLoopOp : Train_Op<"em_loop", [SingleBlock, NoTerminator, HasParent<"StageOp">]> {
  let summary = "EM over latent annotator types around the stage's step loop";
  let description = [{
    Each of `iterations`: the M-step runs the body once per type (the `em_dpo` loss weighted by that
    type's posterior), restarting from the stage's `init_from` when `restart`; then the E-step updates the
    posterior γ (`full`, or `cross_fit` over `folds` held-out folds). `likelihood` is how a ranking is
    scored (`pairwise`, `plackett_luce`); `gamma_init` the initial posterior, the latent preference's
    `init` with its kind as `kind` (`{kind = "dirichlet", alpha = 1.0, seed = 0}`). `policies`: each type's
    policy is a LoRA adapter on the shared start (`lora`; the stage's adapter settings, or the `lora`
    adapter's defaults) or a full copy of the weights (`full`).
  }];
  let arguments = (ins I64Attr:$iterations, I64Attr:$types, BoolAttr:$restart, Train_EStepKindAttr:$e_step,
                       I64Attr:$folds, Train_TypePoliciesAttr:$policies, OptionalAttr<Train_RankingLikelihoodAttr>:$likelihood,
                       OptionalAttr<DictionaryAttr>:$gamma_init);
  let regions = (region SizedRegion<1>:$bodyRegion);
  let assemblyFormat = "attr-dict-with-keyword $bodyRegion";
  let hasVerifier = 1;
  let hasRegionVerifier = 1;
}

def Train_RsfLoopOp : Train_Op<"rsf_loop", [SingleBlock, NoTerminator, HasParent<"StageOp">]> {
  let summary = "rejection-sampling fine-tuning: generate, score, keep the best, fine-tune; repeated";
  let arguments = (ins I64Attr:$iterations, OptionalAttr<I64Attr>:$prompts_per_iteration);
  let regions = (region SizedRegion<1>:$bodyRegion);
  let assemblyFormat = "attr-dict-with-keyword $bodyRegion";
  let hasVerifier = 1;
  let hasRegionVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Stage results, weight hand-off, data unions and aggregation
//===----------------------------------------------------------------------===//

def Train_StageResultOp : Train_Op<"stage_result", [Pure, ParentOneOf<["ProgramOp", "StageOp"]>,
    DeclareOpInterfaceMethods<SymbolUserOpInterface>]> {
  let summary = "the frozen final model of an earlier stage";
  let description = [{
    The model stage `@stage` ended with (its last optimizer step, as its final checkpoint holds it). Its
    weights never change, so it serves as a frozen reference, as an RSF scorer, as what recipe-level
    evaluations measure, and as the source of a `train.load_weights`. The stage must come before the
    op (before the stage holding it).
    ```mlir
    %ref = train.stage_result @sft
    ```
  }];
  let arguments = (ins FlatSymbolRefAttr:$stage);
  let results = (outs Train_ModelType:$model);
  let assemblyFormat = "$stage attr-dict";
}

def Train_LoadWeightsOp : Train_Op<"load_weights", [HasParent<"StageOp">]> {
  let summary = "the stage's copy of a model starts from another model's weights";
  let description = [{
    Where a stage's model starts (written by `expand-stages` from the stage's `init_from`): the weights
    of `source` (usually a `train.stage_result`) are copied into the stage's copy of `model`, matched by
    parameter name; parts `source` lacks (a fresh reward head, user embeddings, adapters) keep their
    declared initial values. Must come before the stage's loop.
    ```mlir
    %start = train.stage_result @sft
    train.load_weights %lm from %start
    ```
  }];
  let arguments = (ins Train_ModelType:$model, Train_ModelType:$source);
  let assemblyFormat = "$model `from` $source attr-dict";
  let hasVerifier = 1;
}

def Train_UnionDataOp : Train_Op<"union_data", [Pure]> {
  let summary = "several data splits read as one dataset (a stage trained on more than one source)";
  let description = [{
    `train rm on helpful.train, harmless.train;` reads the rows of every listed split, each source keeping
    its kind and columns; batches mix sources in the deterministic shuffle. The result has no named
    splits: `train.batch_fetch` reads it whole. One split name per source.
    ```mlir
    %both = train.union_data %helpful, %harmless splits ["train", "train"]
    ```
  }];
  let arguments = (ins Variadic<Train_DatasetType>:$sources, StrArrayAttr:$splits);
  let results = (outs Train_DatasetType:$dataset);
  let assemblyFormat = "$sources `splits` $splits attr-dict";
  let hasVerifier = 1;
}

def Train_AggregateOp : Train_Op<"aggregate", [HasParent<"ProgramOp">,
    DeclareOpInterfaceMethods<SymbolUserOpInterface>]> {
  let summary = "one policy from the per-type policies of a latent-type stage";
  let description = [{
    `kind` is `minmax_regret` (MMRA: mixture weights minimising the worst type's regret, estimated on
    `prompts`), `mean`, `weighted` (`weights` in `params`) or `conditioned` (`preference` in `params`).
    `params` carries the rest (`solver = {kind = "optimistic_hedge", steps, eta}`, `samples`,
    `max_new_tokens`, `dummy`, `regret_weights`). Runs after stage `@policies`, which must come
    earlier in the program.
    ```mlir
    train.aggregate "fair" = "minmax_regret" of @mixture prompts %opinions split "test" {samples = 128 : i64}
    ```
    `name` is the recipe's (`aggregate fair = ...`): where the mixture is written and its `--set` keys.
    `params.baseline`, when present, names an earlier stage whose policy's regrets are reported too.
  }];
  let arguments = (ins StrAttr:$name, StrAttr:$kind, FlatSymbolRefAttr:$policies,
                       Optional<Train_DatasetType>:$prompts, OptionalAttr<StrAttr>:$split, DictionaryAttr:$params);
  let assemblyFormat = [{
    $name `=` $kind `of` $policies (`prompts` $prompts^)? (`split` $split^)? $params attr-dict-with-keyword
  }];
  let hasVerifier = 1;
}

#endif // ALIGN_DIALECT_TRAIN_TRAINOPS_TD
