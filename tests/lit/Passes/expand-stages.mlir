// expand-stages: `init_from` becomes a weight hand-off at the top of the stage (reusing the stage's own
// read of that result), and every step loop carries its stage's steps or epochs. Running it twice changes
// nothing more.
// RUN: align-opt %s -expand-stages | FileCheck %s
// RUN: align-opt %s -expand-stages > %t.mlir && align-opt %t.mlir -expand-stages > %t.again.mlir && diff %t.mlir %t.again.mlir

// CHECK-LABEL: train.program @chain {
train.program @chain {
  // CHECK: %[[LM:.*]] = train.load_model "lm"
  %lm = train.load_model "lm" from "llama" {}
  // CHECK: %[[PI:.*]] = train.attach "users"
  %pi = train.attach "users" "individual" to %lm {}
  %d = train.load_data "d" from "pairwise" {} splits ["train"]
  // CHECK-LABEL: train.stage @base attributes
  // CHECK-NEXT: train.step_loop attributes {steps = 30 : i64} {
  train.stage @base attributes {optimizer = #train.optimizer<adamw>, lr = 1.0e-4, optimizer_params = {}, lr_schedule = #train.lr_schedule<constant>, lr_final = 0.0, warmup = 0 : i64, batch = 8 : i64, micro_batch = 8 : i64, steps = 30 : i64, precision = #train.precision<auto>, max_length = 64 : i64, max_prompt_length = 32 : i64, truncation = #train.truncation<right>, clip = 1.0, seed = 0 : i64, log_every = 10 : i64} {
    train.step_loop {
      %b = train.batch_fetch %d split "train"
      %h = train.forward %lm, %b
      %lp = train.sequence_logprobs %lm, %h, %b
      %l = train.loss nll %lp {} : !train.logprobs
      train.backward %l
      train.optimizer_step %lm
    }
  }
  // The frozen reference already reads @base's result: the hand-off reuses it, first in the stage.
  // CHECK-LABEL: train.stage @dpo init_from @base attributes
  // CHECK-NEXT: %[[START:.*]] = train.stage_result @base
  // CHECK-NEXT: train.load_weights %[[LM]] from %[[START]]
  // CHECK-NEXT: train.step_loop attributes {epochs = 2.000000e+00 : f64} {
  // CHECK: train.reference_logprobs %[[START]]
  train.stage @dpo init_from @base attributes {optimizer = #train.optimizer<adamw>, lr = 1.0e-4, optimizer_params = {}, lr_schedule = #train.lr_schedule<constant>, lr_final = 0.0, warmup = 0 : i64, batch = 8 : i64, micro_batch = 8 : i64, epochs = 2.0, precision = #train.precision<auto>, max_length = 64 : i64, max_prompt_length = 32 : i64, truncation = #train.truncation<right>, clip = 1.0, seed = 0 : i64, reference = #train.reference<auto>, log_every = 10 : i64} {
    %ref = train.stage_result @base
    train.step_loop {
      %b = train.batch_fetch %d split "train"
      %h = train.forward %lm, %b
      %lp = train.sequence_logprobs %lm, %h, %b
      %r = train.reference_logprobs %ref, %b
      %l = train.loss dpo %lp against %r {beta = 0.1 : f64} : !train.logprobs
      train.backward %l
      train.optimizer_step %lm
    }
  }
  // A chain: @users starts from @dpo (which started from @base); the policy with users gets @dpo's
  // weights. The EM M-step loop gets the stage's length too.
  // CHECK-LABEL: train.stage @users init_from @dpo attributes
  // CHECK-NEXT: %[[START2:.*]] = train.stage_result @dpo
  // CHECK-NEXT: train.load_weights %[[PI]] from %[[START2]]
  // CHECK-NEXT: train.em_loop
  // CHECK-NEXT: train.step_loop attributes {epochs = 1.000000e+00 : f64} {
  train.stage @users init_from @dpo attributes {optimizer = #train.optimizer<adamw>, lr = 1.0e-4, optimizer_params = {}, lr_schedule = #train.lr_schedule<constant>, lr_final = 0.0, warmup = 0 : i64, batch = 8 : i64, micro_batch = 8 : i64, epochs = 1.0, precision = #train.precision<auto>, max_length = 64 : i64, max_prompt_length = 32 : i64, truncation = #train.truncation<right>, clip = 1.0, seed = 0 : i64, log_every = 10 : i64} {
    train.em_loop attributes {iterations = 2 : i64, types = 2 : i64, restart = true, e_step = #train.e_step<full>, folds = 2 : i64, policies = #train.policies<lora>} {
      train.step_loop {
        %b = train.batch_fetch %d split "train"
        %h = train.forward %pi, %b
        %lp = train.sequence_logprobs %pi, %h, %b
        %l = train.loss nll %lp {} : !train.logprobs
        train.backward %l
        train.optimizer_step %pi
      }
    }
  }
  // A stage without init_from starts from the declaration: nothing to load.
  // CHECK-LABEL: train.stage @fresh attributes
  // CHECK-NOT: train.load_weights
  // CHECK: train.step_loop attributes {epochs = 1.000000e+00 : f64}
  train.stage @fresh attributes {optimizer = #train.optimizer<adamw>, lr = 1.0e-4, optimizer_params = {}, lr_schedule = #train.lr_schedule<constant>, lr_final = 0.0, warmup = 0 : i64, batch = 8 : i64, micro_batch = 8 : i64, epochs = 1.0, precision = #train.precision<auto>, max_length = 64 : i64, max_prompt_length = 32 : i64, truncation = #train.truncation<right>, clip = 1.0, seed = 0 : i64, log_every = 10 : i64} {
    train.step_loop {
      %b = train.batch_fetch %d split "train"
      %h = train.forward %lm, %b
      %lp = train.sequence_logprobs %lm, %h, %b
      %l = train.loss nll %lp {} : !train.logprobs
      train.backward %l
      train.optimizer_step %lm
    }
  }
}
