// Every train op prints in its custom form and parses back to the same IR; the generic form parses back
// too. The programs are the shapes the recipes lower to: SFT then DPO with a cached reference and fused
// log-probs, a reward model with a weighted loss sum, EM over latent types, and RSF.
// RUN: align-opt %s | align-opt | FileCheck %s
// RUN: align-opt %s --mlir-print-op-generic | align-opt | FileCheck %s
// The printed form is a fixed point: printing it again changes nothing.
// RUN: align-opt %s > %t.mlir && align-opt %t.mlir > %t.again.mlir && diff %t.mlir %t.again.mlir

// CHECK-LABEL: train.program @dpo {
train.program @dpo {
  // CHECK-NEXT: %[[LM:.*]] = train.load_model "lm" from "llama" {preset = "tiny", seed = 0 : i64, tokenizer = "bytes"}
  %lm = train.load_model "lm" from "llama" {preset = "tiny", seed = 0 : i64, tokenizer = "bytes"}
  // CHECK-NEXT: %[[HH:.*]] = train.load_data "hh" from "scored" {path = "dsp/helpful.json"} splits ["eval", "train"]
  %hh = train.load_data "hh" from "scored" {path = "dsp/helpful.json"} splits ["eval", "train"]

  // CHECK: train.stage @sft attributes {
  // CHECK-SAME: epochs = 1.000000e+00 : f64
  // CHECK-SAME: optimizer = #train.optimizer<adamw>
  // CHECK-SAME: precision = #train.precision<auto>
  // CHECK-SAME: truncation = #train.truncation<left>
  train.stage @sft attributes {
      optimizer = #train.optimizer<adamw>, lr = 1.0e-3, optimizer_params = {betas = [0.9, 0.999], eps = 1.0e-8, weight_decay = 0.0},
      lr_schedule = #train.lr_schedule<cosine>, lr_final = 0.0, warmup = 20 : i64,
      batch = 16 : i64, micro_batch = 16 : i64, epochs = 1.0,
      precision = #train.precision<auto>, max_length = 512 : i64, max_prompt_length = 256 : i64,
      truncation = #train.truncation<left>, clip = 1.0, seed = 42 : i64,
      log_every = 10 : i64} {
    // CHECK: train.step_loop {
    train.step_loop {
      // CHECK-NEXT: %[[B:.*]] = train.batch_fetch %[[HH]] split "train"
      %b = train.batch_fetch %hh split "train"
      // CHECK-NEXT: %[[H:.*]] = train.forward %[[LM]], %[[B]]
      %h = train.forward %lm, %b
      // CHECK-NEXT: %[[LP:.*]] = train.sequence_logprobs %[[LM]], %[[H]], %[[B]]
      %lp = train.sequence_logprobs %lm, %h, %b
      // CHECK-NEXT: %[[L:.*]] = train.loss imitation %[[LP]] {threshold = 8.500000e-01 : f64} : !train.logprobs
      %l = train.loss imitation %lp {threshold = 0.85 : f64} : !train.logprobs
      // CHECK-NEXT: train.backward %[[L]]
      train.backward %l
      // CHECK-NEXT: train.optimizer_step %[[LM]]
      train.optimizer_step %lm
    }
    // CHECK: train.save_checkpoint %[[LM]]
    train.save_checkpoint %lm
  }

  // The frozen reference: the checkpoint stage @sft wrote.
  %sft_copy = train.load_model "ref" from "checkpoint" {stage = "sft"}
  // CHECK: train.stage @align init_from @sft attributes {
  train.stage @align init_from @sft attributes {
      optimizer = #train.optimizer<adamw>, lr = 5.0e-5, optimizer_params = {},
      lr_schedule = #train.lr_schedule<linear>, lr_final = 0.0, warmup = 10 : i64,
      batch = 32 : i64, micro_batch = 8 : i64, steps = 200 : i64,
      precision = #train.precision<bf16>, max_length = 512 : i64, max_prompt_length = 256 : i64,
      truncation = #train.truncation<left>, clip = 1.0, seed = 42 : i64, reference = #train.reference<auto>,
      log_every = 10 : i64,
      time_limit = 7200.0} {
    // CHECK: train.step_loop {
    train.step_loop {
      %b = train.batch_fetch %hh split "train"
      // CHECK: %[[H2:.*]] = train.forward %[[LM]], %[[B2:.*]] concat_pairs
      %h = train.forward %lm, %b concat_pairs
      // CHECK-NEXT: %[[LP2:.*]] = train.sequence_logprobs %[[LM]], %[[H2]], %[[B2]] fused chunk 4096
      %lp = train.sequence_logprobs %lm, %h, %b fused chunk 4096
      // CHECK-NEXT: %[[REF:.*]] = train.reference_logprobs %[[SFT:.*]], %[[B2]] cached
      %ref = train.reference_logprobs %sft_copy, %b cached
      // CHECK-NEXT: %[[L2:.*]] = train.loss dpo %[[LP2]] against %[[REF]] {beta = 1.000000e-01 : f64} weighted weight_norm <mean> : !train.logprobs
      %l = train.loss dpo %lp against %ref {beta = 0.1 : f64} weighted weight_norm <mean> : !train.logprobs
      train.backward %l
      train.optimizer_step %lm
    }
    // CHECK: train.evaluate "accuracy" %[[LM]] on %[[HH]] split "eval" every_steps 100 {}
    train.evaluate "accuracy" %lm on %hh split "eval" every_steps 100 {}
    // CHECK-NEXT: train.save_checkpoint %[[LM]] every_steps 200
    train.save_checkpoint %lm every_steps 200
  }
  // CHECK: train.evaluate "margin" by "dataset" %[[LM]] on %[[HH]] split "eval" {}
  train.evaluate "margin" by "dataset" %lm on %hh split "eval" {}
}

// CHECK-LABEL: train.program @shapes {
train.program @shapes {
  %lm = train.load_model "lm" from "llama" {}
  // CHECK: %[[RM:.*]] = train.attach "reward_head" "scalar" to %{{.*}} {pooling = "last"}
  %rm = train.attach "reward_head" "scalar" to %lm {pooling = "last"}
  // CHECK-NEXT: %[[PI:.*]] = train.attach "users" "individual" to %{{.*}} {tokens = 10 : i64}
  %pi = train.attach "users" "individual" to %lm {tokens = 10 : i64}
  %prefs = train.load_data "prefs" from "ranking" {path = "r.jsonl"} splits ["test", "train"]
  %prompts = train.load_data "q" from "prompts" {path = "q.jsonl"} splits ["train"]

  // CHECK: train.stage @general
  train.stage @general attributes {
      optimizer = #train.optimizer<sgd>, lr = 1.0e-2, optimizer_params = {momentum = 0.0},
      lr_schedule = #train.lr_schedule<constant>, lr_final = 0.0, warmup = 0 : i64,
      batch = 64 : i64, micro_batch = 32 : i64, epochs = 1.0,
      precision = #train.precision<fp32>, max_length = 512 : i64, max_prompt_length = 256 : i64,
      truncation = #train.truncation<right>, clip = 1.0, seed = 0 : i64,
      log_every = 10 : i64} {
    train.step_loop {
      %b = train.batch_fetch %prefs split "train"
      // CHECK: %[[S:.*]] = train.score %[[RM]], %{{.*}} : !train.batch
      %s = train.score %rm, %b : !train.batch
      // CHECK-NEXT: %[[R:.*]] = train.loss rank_loss %[[S]] {} : !train.scores
      %r = train.loss rank_loss %s {} : !train.scores
      %h = train.forward %rm, %b
      %lp = train.sequence_logprobs %rm, %h, %b
      %i = train.loss imitation %lp {threshold = 0.85 : f64} : !train.logprobs
      // CHECK: %[[SUM:.*]] = train.loss_sum %[[R]], %{{.*}} weights [1.000000e+00, 1.000000e-01]
      %sum = train.loss_sum %r, %i weights [1.0, 0.1]
      train.backward %sum
      train.optimizer_step %rm
    }
  }

  // CHECK: train.stage @mixture init_from @general
  train.stage @mixture init_from @general attributes {
      optimizer = #train.optimizer<rmsprop>, lr = 5.0e-7, optimizer_params = {alpha = 0.99},
      lr_schedule = #train.lr_schedule<constant>, lr_final = 0.0, warmup = 150 : i64,
      batch = 256 : i64, micro_batch = 32 : i64, epochs = 1.0,
      precision = #train.precision<auto>, max_length = 512 : i64, max_prompt_length = 256 : i64,
      truncation = #train.truncation<right>, clip = 10.0, seed = 0 : i64, reference = #train.reference<auto>,
      log_every = 10 : i64} {
    // CHECK: train.em_loop attributes {e_step = #train.e_step<cross_fit>, folds = 2 : i64, iterations = 5 : i64, policies = #train.policies<lora>, restart = true, types = 4 : i64} {
    train.em_loop attributes {iterations = 5 : i64, types = 4 : i64, restart = true, e_step = #train.e_step<cross_fit>, folds = 2 : i64, policies = #train.policies<lora>} {
      train.step_loop {
        %b = train.batch_fetch %prefs split "train"
        %h = train.forward %pi, %b
        %lp = train.sequence_logprobs %pi, %h, %b
        // CHECK: train.reference_logprobs %{{.*}}, %{{.*}}{{$}}
        %ref = train.reference_logprobs %lm, %b
        // CHECK: train.loss em_dpo
        %l = train.loss em_dpo %lp against %ref {beta = 0.1 : f64} weight_norm <sum> : !train.logprobs
        train.backward %l
        train.optimizer_step %pi
      }
    }
    // CHECK: train.evaluate "regret" by "type" %[[PI]] on %{{.*}} split "test" {samples = 128 : i64}
    train.evaluate "regret" by "type" %pi on %prefs split "test" {samples = 128 : i64}
  }

  // CHECK: train.stage @rsf init_from @mixture
  train.stage @rsf init_from @mixture attributes {
      optimizer = #train.optimizer<adamw>, lr = 2.0e-5, optimizer_params = {},
      lr_schedule = #train.lr_schedule<cosine>, lr_final = 0.0, warmup = 0 : i64,
      batch = 32 : i64, micro_batch = 32 : i64, epochs = 1.0,
      precision = #train.precision<fp16>, max_length = 512 : i64, max_prompt_length = 256 : i64,
      truncation = #train.truncation<right>, clip = 1.0, seed = 3 : i64,
      log_every = 10 : i64} {
    // CHECK: train.rsf_loop attributes {iterations = 4 : i64, prompts_per_iteration = 64 : i64} {
    train.rsf_loop attributes {iterations = 4 : i64, prompts_per_iteration = 64 : i64} {
      %p = train.batch_fetch %prompts split "train"
      // CHECK: %[[G:.*]] = train.generate %{{.*}}, %{{.*}} {max_new_tokens = 256 : i64, samples = 8 : i64, temperature = 5.000000e-01 : f64}
      %g = train.generate %lm, %p {samples = 8 : i64, temperature = 0.5, max_new_tokens = 256 : i64}
      // CHECK-NEXT: %[[GS:.*]] = train.score %[[RM]], %[[G]] : !train.samples
      %gs = train.score %rm, %g : !train.samples
      // CHECK-NEXT: %[[BEST:.*]] = train.select_best %[[G]], %[[GS]]
      %best = train.select_best %g, %gs
      train.step_loop {
        // CHECK: train.batch_fetch %[[BEST]]{{$}}
        %b = train.batch_fetch %best
        %h = train.forward %lm, %b
        %lp = train.sequence_logprobs %lm, %h, %b
        %l = train.loss nll %lp {} : !train.logprobs
        train.backward %l
        train.optimizer_step %lm
      }
    }
    // CHECK: train.save_checkpoint %{{.*}} every_seconds 6.000000e+02
    train.save_checkpoint %lm every_seconds 600.0
  }
}

// CHECK-LABEL: train.program @personalized
train.program @personalized {
  %lm = train.load_model "lm" from "llama" {}
  %pi = train.attach "users" "individual" to %lm {}
  %prefs = train.load_data "prefs" from "pairwise" {columns = {user = "user_id"}} splits ["train"]
  train.stage @p attributes {
      optimizer = #train.optimizer<adamw>, lr = 5.0e-4, optimizer_params = {},
      lr_schedule = #train.lr_schedule<cosine>, lr_final = 0.0, warmup = 15 : i64,
      batch = 32 : i64, micro_batch = 32 : i64, epochs = 2.0,
      precision = #train.precision<auto>, max_length = 96 : i64, max_prompt_length = 48 : i64,
      truncation = #train.truncation<right>, clip = 1.0, seed = 7 : i64, reference = #train.reference<auto>,
      log_every = 10 : i64} {
    train.step_loop {
      // CHECK: train.batch_fetch %{{.*}} split "train" with_generic_duplicates{{$}}
      %b = train.batch_fetch %prefs split "train" with_generic_duplicates
      %h = train.forward %pi, %b
      %lp = train.sequence_logprobs %pi, %h, %b
      %ref = train.reference_logprobs %lm, %b cached
      // CHECK: train.loss pdpo %{{.*}} against %{{.*}} {beta = 5.000000e-01 : f64} alpha 5.000000e-01 : !train.logprobs
      %l = train.loss pdpo %lp against %ref {beta = 0.5 : f64} alpha 0.5 : !train.logprobs
      train.backward %l
      train.optimizer_step %pi
    }
  }
}

// The ops that tie stages together and what expand-stages and lowering add: a stage's frozen result as a
// reference and as where the next stage starts, a union of data splits, loop lengths, EM's likelihood and
// prior, the recipe's requested reference and evaluation cadence, and aggregation after the stages.
// CHECK-LABEL: train.program @handoff
train.program @handoff {
  %lm = train.load_model "lm" from "llama" {preset = "tiny", seed = 0 : i64, tokenizer = "tok", tokenizer_kind = "bytes", tokenizer_spec = "bytes"}
  %a = train.load_data "a" from "ranking" {} splits ["test", "train"]
  %b = train.load_data "b" from "ranking" {} splits ["train"]
  train.stage @sft attributes {
      optimizer = #train.optimizer<adamw>, lr = 1.0e-3, optimizer_params = {}, lr_schedule = #train.lr_schedule<constant>,
      lr_final = 0.0, warmup = 0 : i64, batch = 8 : i64, micro_batch = 8 : i64, steps = 10 : i64,
      precision = #train.precision<auto>, max_length = 64 : i64, max_prompt_length = 32 : i64,
      truncation = #train.truncation<right>, clip = 1.0, seed = 0 : i64,
      eval_every_steps = 5 : i64, 
      log_every = 10 : i64} {
    // CHECK: %[[BOTH:.*]] = train.union_data %{{.*}}, %{{.*}} splits ["train", "train"]
    %both = train.union_data %a, %b splits ["train", "train"]
    // CHECK: train.step_loop attributes {steps = 10 : i64} {
    train.step_loop attributes {steps = 10 : i64} {
      // CHECK-NEXT: train.batch_fetch %[[BOTH]]{{$}}
      %x = train.batch_fetch %both
      %h = train.forward %lm, %x
      %lp = train.sequence_logprobs %lm, %h, %x
      %l = train.loss nll %lp {} : !train.logprobs
      train.backward %l
      train.optimizer_step %lm
    }
  }
  // CHECK: train.stage @types init_from @sft attributes
  // CHECK-SAME: eval_every_seconds = 6.000000e+01 : f64
  // CHECK-SAME: reference = #train.reference<online>
  train.stage @types init_from @sft attributes {
      optimizer = #train.optimizer<rmsprop>, lr = 1.0e-3, optimizer_params = {}, lr_schedule = #train.lr_schedule<constant>,
      lr_final = 0.0, warmup = 0 : i64, batch = 8 : i64, micro_batch = 8 : i64, epochs = 1.0,
      precision = #train.precision<auto>, max_length = 64 : i64, max_prompt_length = 32 : i64,
      truncation = #train.truncation<right>, clip = 1.0, seed = 0 : i64, reference = #train.reference<online>,
      eval_every_seconds = 60.0, 
      log_every = 10 : i64} {
    // CHECK: %[[START:.*]] = train.stage_result @sft
    %start = train.stage_result @sft
    // CHECK-NEXT: train.load_weights %{{.*}} from %[[START]]
    train.load_weights %lm from %start
    // CHECK: train.em_loop attributes {e_step = #train.e_step<full>, folds = 2 : i64, gamma_init = {alpha = 1.000000e+00 : f64, kind = "dirichlet", seed = 0 : i64}, iterations = 2 : i64, likelihood = #train.likelihood<plackett_luce>, policies = #train.policies<lora>, restart = true, types = 3 : i64}
    train.em_loop attributes {iterations = 2 : i64, types = 3 : i64, restart = true, e_step = #train.e_step<full>, folds = 2 : i64, policies = #train.policies<lora>,
                              likelihood = #train.likelihood<plackett_luce>, gamma_init = {kind = "dirichlet", alpha = 1.0 : f64, seed = 0 : i64}} {
      train.step_loop attributes {epochs = 1.0} {
        %x = train.batch_fetch %a split "train"
        %h = train.forward %lm, %x
        %lp = train.sequence_logprobs %lm, %h, %x
        %r = train.reference_logprobs %start, %x
        %l = train.loss em_dpo %lp against %r {beta = 0.1 : f64} weight_norm <sum> : !train.logprobs
        train.backward %l
        train.optimizer_step %lm
      }
    }
  }
  // CHECK: train.aggregate "fair" = "minmax_regret" of @types prompts %{{.*}} split "test" {samples = 16 : i64}
  train.aggregate "fair" = "minmax_regret" of @types prompts %a split "test" {samples = 16 : i64}
  // CHECK-NEXT: %[[FINAL:.*]] = train.stage_result @types
  %final = train.stage_result @types
  // CHECK-NEXT: train.evaluate "regret" by "type" %[[FINAL]] on %{{.*}} split "test" {}
  train.evaluate "regret" by "type" %final on %a split "test" {}
}
