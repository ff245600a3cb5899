// lower-recipe-to-train: every declaration becomes a load/attach op carrying what the runtime needs, every
// stage a train.stage with its schedule typed and a step loop built from its objective; nothing is
// optimised yet (reference online, no concatenation, no fusion). Recipes the train dialect cannot express
// yet fail with an error at the recipe op.
// RUN: align-opt %s -split-input-file -lower-recipe-to-train -verify-diagnostics | FileCheck %s
// Locations: every generated op keeps the recipe op's location.
// RUN: align-opt %s -split-input-file -lower-recipe-to-train -verify-diagnostics -mlir-print-debuginfo | FileCheck %s --check-prefix=LOC

// CHECK-LABEL: train.program @dpo {
// CHECK-NOT: recipe.
// CHECK: %[[LM:.*]] = train.load_model "lm" from "llama" {preset = "tiny", seed = 0 : i64, tokenizer = "tok", tokenizer_kind = "bytes", tokenizer_spec = "bytes"}
// CHECK-NEXT: %[[HH:.*]] = train.load_data "hh" from "scored" {columns = {scores = "score", texts = "text"}, on_error = "error", path = "dsp/helpful.json", shuffle_seed = 0 : i64, split_rules = [{fraction = 5.000000e-02 : f64, kind = "percent", name = "eval"}, {kind = "remainder", name = "train"}]} splits ["eval", "train"]
// CHECK-LABEL: train.stage @sft attributes
// CHECK-SAME: batch = 16 : i64, clip = 1.000000e+00 : f64, epochs = 1.000000e+00 : f64, log_every = 10 : i64, lr = 1.000000e-03 : f64, lr_final = 0.000000e+00 : f64, lr_schedule = #train.lr_schedule<cosine>, max_length = 512 : i64, max_prompt_length = 256 : i64, micro_batch = 16 : i64, optimizer = #train.optimizer<adamw>, optimizer_params = {betas = [9.000000e-01, {{.*}}], eps = 1.000000e-08 : f64, weight_decay = 0.000000e+00 : f64}, precision = #train.precision<auto>, seed = 42 : i64, truncation = #train.truncation<left>, warmup = 20 : i64} {
// CHECK-NEXT: train.step_loop {
// CHECK-NEXT: %[[B:.*]] = train.batch_fetch %[[HH]] split "train"
// CHECK-NEXT: %[[H:.*]] = train.forward %[[LM]], %[[B]]{{$}}
// CHECK-NEXT: %[[LP:.*]] = train.sequence_logprobs %[[LM]], %[[H]], %[[B]]{{$}}
// CHECK-NEXT: %[[L:.*]] = train.loss imitation %[[LP]] {threshold = 8.500000e-01 : f64} : !train.logprobs
// CHECK-NEXT: train.backward %[[L]]
// CHECK-NEXT: train.optimizer_step %[[LM]]
// CHECK-NEXT: }
// CHECK-NEXT: train.save_checkpoint %[[LM]]{{$}}
// CHECK-LABEL: train.stage @align init_from @sft attributes
// CHECK-SAME: batch = 32 : i64
// CHECK-SAME: micro_batch = 8 : i64
// CHECK-SAME: reference = #train.reference<precompute>
// CHECK-NEXT: %[[REF:.*]] = train.stage_result @sft
// CHECK-NEXT: train.step_loop {
// CHECK-NEXT: %[[B2:.*]] = train.batch_fetch %[[HH]] split "train"
// CHECK-NEXT: %[[H2:.*]] = train.forward %[[LM]], %[[B2]]{{$}}
// CHECK-NEXT: %[[LP2:.*]] = train.sequence_logprobs %[[LM]], %[[H2]], %[[B2]]{{$}}
// CHECK-NEXT: %[[RLP:.*]] = train.reference_logprobs %[[REF]], %[[B2]]{{$}}
// CHECK-NEXT: %[[L2:.*]] = train.loss dpo %[[LP2]] against %[[RLP]] {beta = 1.000000e-01 : f64, label_smoothing = 0.000000e+00 : f64} : !train.logprobs
// CHECK-NEXT: train.backward %[[L2]]
// CHECK-NEXT: train.optimizer_step %[[LM]]
// CHECK-NEXT: }
// CHECK-NEXT: train.save_checkpoint %[[LM]] every_steps 200
// CHECK-NEXT: }
// CHECK-NEXT: %[[FINAL:.*]] = train.stage_result @align
// CHECK-NEXT: train.evaluate "accuracy" %[[FINAL]] on %[[HH]] split "eval" {}
// CHECK-NEXT: train.evaluate "margin" by "dataset" %[[FINAL]] on %[[HH]] split "eval" {}

// LOC-LABEL: train.program @dpo {
// LOC: train.load_model "lm" {{.*}} loc(#[[MODEL:.*]])
// LOC: train.stage @align
// LOC: train.forward {{.*}} loc(#[[OBJ:.*]])
// LOC: train.reference_logprobs {{.*}} loc(#[[REFLOC:.*]])
// LOC: train.loss dpo {{.*}} loc(#[[TERM:.*]])
// LOC-DAG: #[[MODEL]] = loc("dpo.align":3:3)
// LOC-DAG: #[[OBJ]] = loc("dpo.align":21:5)
// LOC-DAG: #[[REFLOC]] = loc("dpo.align":18:5)
// LOC-DAG: #[[TERM]] = loc("dpo.align":20:15)
recipe.recipe @dpo {
  recipe.tokenizer @tok = "bytes" {} loc("dpo.align":2:3)
  recipe.model @lm = "llama" tokenizer @tok {preset = "tiny", seed = 0 : i64} loc("dpo.align":3:3)
  recipe.data @hh = "scored" {on_error = "error", path = "dsp/helpful.json", scores = "score", shuffle_seed = 0 : i64, texts = "text"} {
    recipe.split @eval = #recipe.percent<5.0>
    recipe.split @train remainder
  } loc("dpo.align":4:3)
  recipe.stage @sft schedule {batch = 16 : i64, checkpoint_every = 0 : i64, clip = 1.0 : f64, epochs = 1.0 : f64, eval_every = 0 : i64, log_every = 10 : i64, lr_schedule = #recipe.call<"cosine", {final = 0.0 : f64}>, max_length = 512 : i64, max_prompt_length = 256 : i64, optimizer = #recipe.call<"adamw", {betas = [0.9, 0.999], eps = 1.0e-08 : f64, lr = 1.0e-03 : f64, weight_decay = 0.0 : f64}>, precision = "auto", reference = "auto", seed = 42 : i64, truncation = "left", warmup = 20 : i64} {
    recipe.train @lm on [@hh::@train] loc("dpo.align":10:5)
    %0 = recipe.objective.term "imitation" {example_weights = false, threshold = 0.85 : f64} loc("dpo.align":11:15)
    recipe.objective %0 loc("dpo.align":11:5)
  } loc("dpo.align":9:3)
  recipe.stage @align init_from @sft schedule {batch = 32 : i64, checkpoint_every = 200 : i64, clip = 1.0 : f64, epochs = 1.0 : f64, eval_every = 0 : i64, log_every = 10 : i64, lr_schedule = #recipe.call<"linear", {final = 0.0 : f64}>, max_length = 512 : i64, max_prompt_length = 256 : i64, micro_batch = 8 : i64, optimizer = #recipe.call<"adamw", {betas = [0.9, 0.999], eps = 1.0e-08 : f64, lr = 5.0e-05 : f64, weight_decay = 0.0 : f64}>, precision = "auto", reference = "precompute", seed = 42 : i64, truncation = "left", warmup = 10 : i64} {
    recipe.policy @pi = @lm loc("dpo.align":17:5)
    recipe.reference @ref = "frozen" @sft loc("dpo.align":18:5)
    recipe.train @pi on [@hh::@train] loc("dpo.align":19:5)
    %0 = recipe.objective.term "dpo" {beta = 0.1 : f64, example_weights = false, label_smoothing = 0.0 : f64} loc("dpo.align":20:15)
    recipe.objective %0 loc("dpo.align":21:5)
  } loc("dpo.align":15:3)
  recipe.eval "accuracy" on [@hh::@eval] {} loc("dpo.align":24:5)
  recipe.eval "margin" by "dataset" on [@hh::@eval] {} loc("dpo.align":25:5)
} loc("dpo.align":1:1)

// -----

// Policies with users and an adapter, a frozen copy of a declared model, a weighted sum over a union of
// splits, an HF tokenizer, `where`/`file` splits, durations and a step count.
// CHECK-LABEL: train.program @shapes {
// CHECK: %[[LM:.*]] = train.load_model "lm" from "qwen2" {checkpoint = "ckpt/qwen", preset = "tiny", seed = 3 : i64, tokenizer = "tok", tokenizer_kind = "hf", tokenizer_spec = "tok/tokenizer.json"}
// CHECK: %[[A:.*]] = train.load_data "a" from "pairwise" {columns = {chosen = "chosen", prompt = "prompt", rejected = "rejected", user = "uid", weight = "w"}, limit = 100 : i64, on_error = "skip", path = "a.jsonl", shuffle_seed = 5 : i64, split_rules = [{column = "seen", equals = "false", kind = "where", name = "unseen"}, {kind = "file", name = "test", path = "a-test.jsonl"}, {by = "user", fraction = 1.000000e-01 : f64, kind = "percent", name = "eval"}, {kind = "remainder", name = "train"}], template = "Q: {prompt}\0AA: {response}"} splits ["unseen", "test", "eval", "train"]
// CHECK: %[[B:.*]] = train.load_data "b" from "pairwise"
// CHECK: %[[U:.*]] = train.attach "users" "individual" to %[[LM]] {generic = true, init = {kind = "vocab", seed = 123 : i64}, tokens = 4 : i64, unseen = "generic"} attributes {name = "people"}
// CHECK-NEXT: %[[PI:.*]] = train.attach "adapter" "lora" to %[[U]] {alpha = 1.600000e+01 : f64, dropout = 5.000000e-02 : f64, r = 8 : i64, targets = ["q_proj", "v_proj"]} attributes {name = "lora8"}
// CHECK-NEXT: %[[REFLM:.*]] = train.load_model "ref" from "qwen2" {checkpoint = "ckpt/qwen", preset = "tiny", seed = 3 : i64, tokenizer = "tok", tokenizer_kind = "hf", tokenizer_spec = "tok/tokenizer.json"}
// CHECK-LABEL: train.stage @p attributes
// CHECK-SAME: eval_every_seconds = 6.000000e+02 : f64
// CHECK-SAME: max_prompt_length = 64 : i64
// CHECK-SAME: reference = #train.reference<online>
// CHECK-SAME: steps = 50 : i64
// CHECK-SAME: time_limit = 7.200000e+03 : f64
// CHECK-NEXT: %[[BOTH:.*]] = train.union_data %[[A]], %[[B]] splits ["train", "train"]
// CHECK-NEXT: train.step_loop {
// CHECK-NEXT: %[[BATCH:.*]] = train.batch_fetch %[[BOTH]]{{$}}
// CHECK-NEXT: %[[H:.*]] = train.forward %[[PI]], %[[BATCH]]
// CHECK-NEXT: %[[LP:.*]] = train.sequence_logprobs %[[PI]], %[[H]], %[[BATCH]]
// CHECK-NEXT: %[[R:.*]] = train.reference_logprobs %[[REFLM]], %[[BATCH]]
// CHECK-NEXT: %[[P:.*]] = train.loss pdpo %[[LP]] against %[[R]] {beta = 5.000000e-01 : f64} weighted weight_norm <sum> alpha 2.500000e-01 : !train.logprobs
// CHECK-NEXT: %[[N:.*]] = train.loss nll %[[LP]] {prompt_loss = false} : !train.logprobs
// CHECK-NEXT: %[[SUM:.*]] = train.loss_sum %[[P]], %[[N]] weights [1.000000e+00, 2.000000e-01]
// CHECK-NEXT: train.backward %[[SUM]]
// CHECK-NEXT: train.optimizer_step %[[PI]]
// CHECK-NEXT: }
// CHECK-NEXT: train.evaluate "accuracy" by "user" %[[PI]] on %[[A]] split "unseen" {}
// CHECK-NEXT: train.save_checkpoint %[[PI]] every_seconds 3.000000e+02
recipe.recipe @shapes {
  recipe.tokenizer @tok = "hf" {path = "tok/tokenizer.json"}
  recipe.model @lm = "qwen2" tokenizer @tok {checkpoint = "ckpt/qwen", preset = "tiny", seed = 3 : i64}
  recipe.template @fmt = "Q: {prompt}\0AA: {response}"
  recipe.data @a = "pairwise" {chosen = "chosen", limit = 100 : i64, on_error = "skip", path = "a.jsonl", prompt = "prompt", rejected = "rejected", shuffle_seed = 5 : i64, template = @fmt, user = "uid", weight = "w"} {
    recipe.split @unseen = #recipe.call<"where", {column = "seen", equals = false}>
    recipe.split @test = #recipe.call<"file", {path = "a-test.jsonl"}>
    recipe.split @eval = #recipe.percent<10.0> by "user"
    recipe.split @train remainder
  }
  recipe.data @b = "pairwise" {chosen = "chosen", on_error = "error", path = "b.jsonl", prompt = "prompt", rejected = "rejected", shuffle_seed = 0 : i64, user = "uid"} {
    recipe.split @train remainder
  }
  recipe.users @people = "individual" {generic = true, init = #recipe.call<"vocab", {seed = 123 : i64}>, tokens = 4 : i64, unseen = "generic"}
  recipe.adapter @lora8 = "lora" {alpha = 16.0 : f64, dropout = 0.05 : f64, r = 8 : i64, targets = ["q_proj", "v_proj"]}
  recipe.stage @p schedule {batch = 8 : i64, checkpoint_every = #recipe.duration<300.0>, clip = 1.0 : f64, eval_every = #recipe.duration<600.0>, log_every = 10 : i64, lr_schedule = #recipe.call<"constant", {}>, max_length = 128 : i64, optimizer = #recipe.call<"sgd", {lr = 1.0e-02 : f64, momentum = 0.0 : f64}>, precision = "fp32", reference = "online", seed = 1 : i64, steps = 50 : i64, time_limit = #recipe.duration<7200.0>, truncation = "right", warmup = 0 : i64} {
    recipe.policy @pi = @lm with [@people, @lora8]
    recipe.reference @ref = "frozen" @lm
    recipe.train @pi on [@a::@train, @b::@train]
    %0 = recipe.objective.term "pdpo" {alpha = 0.25 : f64, beta = 0.5 : f64, example_weights = true}
    %1 = recipe.objective.term "nll" {example_weights = false, prompt_loss = false}
    %2 = recipe.objective.sum %0, %1 weights [1.0, 0.2]
    recipe.objective %2
    recipe.eval "accuracy" by "user" on [@a::@unseen] {}
  }
}

// -----

recipe.recipe @reward_on_stage {
  recipe.tokenizer @tok = "bytes" {}
  recipe.model @lm = "llama" tokenizer @tok {preset = "tiny", seed = 0 : i64}
  recipe.data @d = "sft" {on_error = "error", path = "d.jsonl", shuffle_seed = 0 : i64, text = "text"} {
    recipe.split @train remainder
  }
  recipe.stage @sft schedule {batch = 8 : i64, checkpoint_every = 0 : i64, clip = 1.0 : f64, epochs = 1.0 : f64, eval_every = 0 : i64, log_every = 10 : i64, lr_schedule = #recipe.call<"constant", {}>, max_length = 64 : i64, optimizer = #recipe.call<"sgd", {lr = 1.0e-02 : f64, momentum = 0.0 : f64}>, precision = "auto", reference = "auto", seed = 1 : i64, truncation = "right", warmup = 0 : i64} {
    recipe.train @lm on [@d]
    %0 = recipe.objective.term "nll" {example_weights = false, prompt_loss = false}
    recipe.objective %0
  }
  recipe.stage @rm schedule {batch = 8 : i64, checkpoint_every = 0 : i64, clip = 1.0 : f64, epochs = 1.0 : f64, eval_every = 0 : i64, log_every = 10 : i64, lr_schedule = #recipe.call<"constant", {}>, max_length = 64 : i64, optimizer = #recipe.call<"sgd", {lr = 1.0e-02 : f64, momentum = 0.0 : f64}>, precision = "auto", reference = "auto", seed = 1 : i64, truncation = "right", warmup = 0 : i64} {
    // expected-error @+1 {{'recipe.reward' op a reward head on the result of stage @sft cannot be expressed in the train dialect yet}}
    recipe.reward @head = "scalar" base @sft {bias = false, pooling = "last"}
    recipe.train @head on [@d]
    %0 = recipe.objective.term "bt" {example_weights = false}
    recipe.objective %0
  }
}

// -----

recipe.recipe @unknown_objective {
  recipe.tokenizer @tok = "bytes" {}
  recipe.model @lm = "llama" tokenizer @tok {preset = "tiny", seed = 0 : i64}
  recipe.data @d = "sft" {on_error = "error", path = "d.jsonl", shuffle_seed = 0 : i64, text = "text"} {
    recipe.split @train remainder
  }
  recipe.stage @s schedule {batch = 8 : i64, checkpoint_every = 0 : i64, clip = 1.0 : f64, epochs = 1.0 : f64, eval_every = 0 : i64, log_every = 10 : i64, lr_schedule = #recipe.call<"constant", {}>, max_length = 64 : i64, optimizer = #recipe.call<"sgd", {lr = 1.0e-02 : f64, momentum = 0.0 : f64}>, precision = "auto", reference = "auto", seed = 1 : i64, truncation = "right", warmup = 0 : i64} {
    recipe.train @lm on [@d]
    // expected-error @+1 {{'recipe.objective.term' op objective 'kto' cannot be expressed in the train dialect yet}}
    %0 = recipe.objective.term "kto" {beta = 0.1 : f64}
    recipe.objective %0
  }
}

// -----

recipe.recipe @unknown_data_parameter {
  recipe.tokenizer @tok = "bytes" {}
  recipe.model @lm = "llama" tokenizer @tok {preset = "tiny", seed = 0 : i64}
  // expected-error @+1 {{'recipe.data' op parameter 'cache' cannot be expressed in the train dialect yet}}
  recipe.data @d = "sft" {cache = true, on_error = "error", path = "d.jsonl", shuffle_seed = 0 : i64, text = "text"} {
    recipe.split @train remainder
  }
}

// -----

recipe.recipe @whole_data_in_union {
  recipe.tokenizer @tok = "bytes" {}
  recipe.model @lm = "llama" tokenizer @tok {preset = "tiny", seed = 0 : i64}
  recipe.data @d = "sft" {on_error = "error", path = "d.jsonl", shuffle_seed = 0 : i64, text = "text"} {
    recipe.split @train remainder
  }
  recipe.data @e = "sft" {on_error = "error", path = "e.jsonl", shuffle_seed = 0 : i64, text = "text"} {
    recipe.split @train remainder
  }
  recipe.stage @s schedule {batch = 8 : i64, checkpoint_every = 0 : i64, clip = 1.0 : f64, epochs = 1.0 : f64, eval_every = 0 : i64, log_every = 10 : i64, lr_schedule = #recipe.call<"constant", {}>, max_length = 64 : i64, optimizer = #recipe.call<"sgd", {lr = 1.0e-02 : f64, momentum = 0.0 : f64}>, precision = "auto", reference = "auto", seed = 1 : i64, truncation = "right", warmup = 0 : i64} {
    // expected-error @+1 {{'recipe.train' op training on a whole data source together with others cannot be expressed in the train dialect yet; name a split of each}}
    recipe.train @lm on [@d, @e::@train]
    %0 = recipe.objective.term "nll" {example_weights = false, prompt_loss = false}
    recipe.objective %0
  }
}
