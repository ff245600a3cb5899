// hoist-reference-logprobs: a reference whose weights the stage never changes is scored once and cached
// (the op becomes `cached`; the stage's `reference` stays the recipe's request), unless the recipe asked for
// `reference: online`, or the examples only exist
// during training (RSF samples). `enable=false` keeps every reference online.
// RUN: align-opt %s -hoist-reference-logprobs | FileCheck %s
// RUN: align-opt %s -hoist-reference-logprobs=enable=false | FileCheck %s --check-prefix=OFF

// CHECK-LABEL: train.program @p {
// OFF-LABEL: train.program @p {
// OFF-NOT: cached
train.program @p {
  %lm = train.load_model "lm" from "llama" {}
  %frozen = train.load_model "ref" from "llama" {}
  %pi = train.attach "users" "individual" to %lm {}
  %d = train.load_data "d" from "pairwise" {} splits ["train"]
  %q = train.load_data "q" from "prompts" {} splits ["train"]

  // A declared model the stage does not optimize: frozen.
  // CHECK-LABEL: train.stage @from_model
  // CHECK-SAME: reference = #train.reference<precompute>
  // CHECK: train.reference_logprobs %{{.*}}, %{{.*}} cached
  train.stage @from_model attributes {optimizer = #train.optimizer<adamw>, lr = 1.0e-4, optimizer_params = {}, lr_schedule = #train.lr_schedule<constant>, lr_final = 0.0, warmup = 0 : i64, batch = 8 : i64, micro_batch = 8 : i64, epochs = 1.0, precision = #train.precision<auto>, max_length = 64 : i64, max_prompt_length = 32 : i64, truncation = #train.truncation<right>, clip = 1.0, seed = 0 : i64, reference = #train.reference<precompute>, log_every = 10 : i64} {
    train.step_loop {
      %b = train.batch_fetch %d split "train"
      %h = train.forward %pi, %b
      %lp = train.sequence_logprobs %pi, %h, %b
      %r = train.reference_logprobs %frozen, %b
      %l = train.loss dpo %lp against %r {beta = 0.1 : f64} : !train.logprobs
      train.backward %l
      train.optimizer_step %pi
    }
  }

  // An earlier stage's result: frozen.
  // CHECK-LABEL: train.stage @from_stage
  // CHECK-SAME: reference = #train.reference<auto>
  // CHECK: train.reference_logprobs %{{.*}}, %{{.*}} cached
  train.stage @from_stage attributes {optimizer = #train.optimizer<adamw>, lr = 1.0e-4, optimizer_params = {}, lr_schedule = #train.lr_schedule<constant>, lr_final = 0.0, warmup = 0 : i64, batch = 8 : i64, micro_batch = 8 : i64, epochs = 1.0, precision = #train.precision<auto>, max_length = 64 : i64, max_prompt_length = 32 : i64, truncation = #train.truncation<right>, clip = 1.0, seed = 0 : i64, reference = #train.reference<auto>, log_every = 10 : i64} {
    %res = train.stage_result @from_model
    train.step_loop {
      %b = train.batch_fetch %d split "train"
      %h = train.forward %pi, %b
      %lp = train.sequence_logprobs %pi, %h, %b
      %r = train.reference_logprobs %res, %b
      %l = train.loss dpo %lp against %r {beta = 0.1 : f64} : !train.logprobs
      train.backward %l
      train.optimizer_step %pi
    }
  }

  // The recipe asked for an online reference.
  // CHECK-LABEL: train.stage @asked_online
  // CHECK-SAME: reference = #train.reference<online>
  // CHECK: train.reference_logprobs %{{[^ ]*}}, %{{[^ ]*}}{{$}}
  train.stage @asked_online attributes {optimizer = #train.optimizer<adamw>, lr = 1.0e-4, optimizer_params = {}, lr_schedule = #train.lr_schedule<constant>, lr_final = 0.0, warmup = 0 : i64, batch = 8 : i64, micro_batch = 8 : i64, epochs = 1.0, precision = #train.precision<auto>, max_length = 64 : i64, max_prompt_length = 32 : i64, truncation = #train.truncation<right>, clip = 1.0, seed = 0 : i64, reference = #train.reference<online>, log_every = 10 : i64} {
    train.step_loop {
      %b = train.batch_fetch %d split "train"
      %h = train.forward %pi, %b
      %lp = train.sequence_logprobs %pi, %h, %b
      %r = train.reference_logprobs %frozen, %b
      %l = train.loss dpo %lp against %r {beta = 0.1 : f64} : !train.logprobs
      train.backward %l
      train.optimizer_step %pi
    }
  }

  // The reference is the model under the trained policy's users: the stage updates the policy's copy,
  // %lm itself stays as declared.
  // CHECK-LABEL: train.stage @base_of_policy
  // CHECK-SAME: reference = #train.reference<auto>
  // CHECK: train.reference_logprobs %{{.*}}, %{{.*}} cached
  train.stage @base_of_policy attributes {optimizer = #train.optimizer<adamw>, lr = 1.0e-4, optimizer_params = {}, lr_schedule = #train.lr_schedule<constant>, lr_final = 0.0, warmup = 0 : i64, batch = 8 : i64, micro_batch = 8 : i64, epochs = 1.0, precision = #train.precision<auto>, max_length = 64 : i64, max_prompt_length = 32 : i64, truncation = #train.truncation<right>, clip = 1.0, seed = 0 : i64, reference = #train.reference<auto>, log_every = 10 : i64} {
    train.step_loop {
      %b = train.batch_fetch %d split "train"
      %h = train.forward %pi, %b
      %lp = train.sequence_logprobs %pi, %h, %b
      %r = train.reference_logprobs %lm, %b
      %l = train.loss dpo %lp against %r {beta = 0.1 : f64} : !train.logprobs
      train.backward %l
      train.optimizer_step %pi
    }
  }

  // The examples are RSF samples generated during the stage: nothing to cache before it.
  // CHECK-LABEL: train.stage @rsf
  // CHECK-SAME: reference = #train.reference<auto>
  // CHECK: train.reference_logprobs %{{[^ ]*}}, %{{[^ ]*}}{{$}}
  train.stage @rsf attributes {optimizer = #train.optimizer<adamw>, lr = 1.0e-4, optimizer_params = {}, lr_schedule = #train.lr_schedule<constant>, lr_final = 0.0, warmup = 0 : i64, batch = 8 : i64, micro_batch = 8 : i64, epochs = 1.0, precision = #train.precision<auto>, max_length = 64 : i64, max_prompt_length = 32 : i64, truncation = #train.truncation<right>, clip = 1.0, seed = 0 : i64, reference = #train.reference<auto>, log_every = 10 : i64} {
    train.rsf_loop attributes {iterations = 2 : i64} {
      %p = train.batch_fetch %q split "train"
      %g = train.generate %pi, %p {samples = 4 : i64, temperature = 0.7, max_new_tokens = 16 : i64}
      %s = train.score %frozen, %g : !train.samples
      %best = train.select_best %g, %s
      train.step_loop {
        %b = train.batch_fetch %best
        %h = train.forward %pi, %b
        %lp = train.sequence_logprobs %pi, %h, %b
        %r = train.reference_logprobs %frozen, %b
        %l = train.loss dpo %lp against %r {beta = 0.1 : f64} : !train.logprobs
        train.backward %l
        train.optimizer_step %pi
      }
    }
  }
}
