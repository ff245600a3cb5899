// duplicate-generic-rows: the batch fetch a P-RLHF loss (pdpo, pipo, psimpo, pbt) reads also yields every
// user row as the generic user 0; fetches feeding other losses are left alone.
// RUN: align-opt %s -duplicate-generic-rows | FileCheck %s
// The result still verifies and is a fixed point.
// RUN: align-opt %s -duplicate-generic-rows > %t.mlir && align-opt %t.mlir -duplicate-generic-rows > %t.again.mlir && diff %t.mlir %t.again.mlir

// CHECK-LABEL: train.program @p {
train.program @p {
  %lm = train.load_model "lm" from "llama" {}
  %frozen = train.load_model "ref" from "llama" {}
  %people = train.attach "users" "individual" to %lm {tokens = 10 : i64}
  %d = train.load_data "d" from "pairwise" {columns = {user = "user_id"}} splits ["train"]
  %rm = train.attach "reward_head" "scalar" to %lm {}
  %prm = train.attach "users" "cluster" to %rm {k = 2 : i64}

  // CHECK-LABEL: train.stage @pdpo
  // CHECK: train.batch_fetch %{{.*}} split "train" with_generic_duplicates
  train.stage @pdpo attributes {optimizer = #train.optimizer<adamw>, lr = 1.0e-4, optimizer_params = {}, lr_schedule = #train.lr_schedule<constant>, lr_final = 0.0, warmup = 0 : i64, batch = 8 : i64, micro_batch = 8 : i64, epochs = 1.0, precision = #train.precision<auto>, max_length = 64 : i64, max_prompt_length = 32 : i64, truncation = #train.truncation<right>, clip = 1.0, seed = 0 : i64, reference = #train.reference<auto>, log_every = 10 : i64} {
    train.step_loop {
      %b = train.batch_fetch %d split "train"
      %h = train.forward %people, %b
      %lp = train.sequence_logprobs %people, %h, %b
      %r = train.reference_logprobs %frozen, %b
      %l = train.loss pdpo %lp against %r {beta = 0.5 : f64} alpha 0.5 : !train.logprobs
      train.backward %l
      train.optimizer_step %people
    }
  }

  // P-SimPO in a sum with an NLL term on the same batch: the shared fetch is duplicated once.
  // CHECK-LABEL: train.stage @psimpo
  // CHECK: train.batch_fetch %{{.*}} split "train" with_generic_duplicates
  // CHECK-NOT: batch_fetch
  train.stage @psimpo attributes {optimizer = #train.optimizer<adamw>, lr = 1.0e-4, optimizer_params = {}, lr_schedule = #train.lr_schedule<constant>, lr_final = 0.0, warmup = 0 : i64, batch = 8 : i64, micro_batch = 8 : i64, epochs = 1.0, precision = #train.precision<auto>, max_length = 64 : i64, max_prompt_length = 32 : i64, truncation = #train.truncation<right>, clip = 1.0, seed = 0 : i64, log_every = 10 : i64} {
    train.step_loop {
      %b = train.batch_fetch %d split "train"
      %h = train.forward %people, %b
      %lp = train.sequence_logprobs %people, %h, %b
      %p = train.loss psimpo %lp {beta = 2.0 : f64, gamma = 0.5 : f64} alpha 0.3 : !train.logprobs
      %n = train.loss nll %lp {} : !train.logprobs
      %l = train.loss_sum %p, %n weights [1.0, 0.1]
      train.backward %l
      train.optimizer_step %people
    }
  }

  // A personalized reward model (pbt) reads its batch through scores.
  // CHECK-LABEL: train.stage @prm
  // CHECK: train.batch_fetch %{{.*}} split "train" with_generic_duplicates
  train.stage @prm attributes {optimizer = #train.optimizer<adamw>, lr = 1.0e-4, optimizer_params = {}, lr_schedule = #train.lr_schedule<constant>, lr_final = 0.0, warmup = 0 : i64, batch = 8 : i64, micro_batch = 8 : i64, epochs = 1.0, precision = #train.precision<auto>, max_length = 64 : i64, max_prompt_length = 32 : i64, truncation = #train.truncation<right>, clip = 1.0, seed = 0 : i64, log_every = 10 : i64} {
    train.step_loop {
      %b = train.batch_fetch %d split "train"
      %s = train.score %prm, %b : !train.batch
      %l = train.loss pbt %s {} alpha 0.5 : !train.scores
      train.backward %l
      train.optimizer_step %prm
    }
  }

  // Plain DPO on the same data (the vanilla baseline): no duplicates, even with a user column.
  // CHECK-LABEL: train.stage @dpo
  // CHECK: train.batch_fetch %{{[^ ]*}} split "train"{{$}}
  train.stage @dpo attributes {optimizer = #train.optimizer<adamw>, lr = 1.0e-4, optimizer_params = {}, lr_schedule = #train.lr_schedule<constant>, lr_final = 0.0, warmup = 0 : i64, batch = 8 : i64, micro_batch = 8 : i64, epochs = 1.0, precision = #train.precision<auto>, max_length = 64 : i64, max_prompt_length = 32 : i64, truncation = #train.truncation<right>, clip = 1.0, seed = 0 : i64, reference = #train.reference<auto>, log_every = 10 : i64} {
    train.step_loop {
      %b = train.batch_fetch %d split "train"
      %h = train.forward %lm, %b
      %lp = train.sequence_logprobs %lm, %h, %b
      %r = train.reference_logprobs %frozen, %b
      %l = train.loss dpo %lp against %r {beta = 0.1 : f64} : !train.logprobs
      train.backward %l
      train.optimizer_step %lm
    }
  }
}
