// Canonicalisation in the recipe-to-train pipeline: a sum of one loss with weight 1 folds to that loss,
// and pure ops nothing reads (a stage result, a data union) disappear; a weighted single loss stays.
// RUN: align-opt %s -canonicalize | FileCheck %s

// CHECK-LABEL: train.program @p {
train.program @p {
  %lm = train.load_model "lm" from "llama" {}
  %d = train.load_data "d" from "sft" {} splits ["train"]
  // The first stage's trivial sum is gone: backward takes the loss itself.
  // CHECK-LABEL: train.stage @a
  // CHECK: %[[L1:.*]] = train.loss nll
  // CHECK-NEXT: train.backward %[[L1]]
  train.stage @a attributes {optimizer = #train.optimizer<adamw>, lr = 1.0e-4, optimizer_params = {}, lr_schedule = #train.lr_schedule<constant>, lr_final = 0.0, warmup = 0 : i64, batch = 8 : i64, micro_batch = 8 : i64, epochs = 1.0, precision = #train.precision<auto>, max_length = 64 : i64, max_prompt_length = 32 : i64, truncation = #train.truncation<right>, clip = 1.0, seed = 0 : i64, log_every = 10 : i64} {
    train.step_loop {
      %b = train.batch_fetch %d split "train"
      %h = train.forward %lm, %b
      %lp = train.sequence_logprobs %lm, %h, %b
      %l = train.loss nll %lp {} : !train.logprobs
      %sum = train.loss_sum %l weights [1.0]
      train.backward %sum
      train.optimizer_step %lm
    }
  }
  // CHECK-LABEL: train.stage @b
  // CHECK-NOT: train.stage_result
  // CHECK-NOT: train.union_data
  // CHECK: %[[L:.*]] = train.loss nll
  // CHECK-NEXT: %[[S:.*]] = train.loss_sum %[[L]] weights [5.000000e-01]
  // CHECK-NEXT: train.backward %[[S]]
  train.stage @b attributes {optimizer = #train.optimizer<adamw>, lr = 1.0e-4, optimizer_params = {}, lr_schedule = #train.lr_schedule<constant>, lr_final = 0.0, warmup = 0 : i64, batch = 8 : i64, micro_batch = 8 : i64, epochs = 1.0, precision = #train.precision<auto>, max_length = 64 : i64, max_prompt_length = 32 : i64, truncation = #train.truncation<right>, clip = 1.0, seed = 0 : i64, log_every = 10 : i64} {
    %unused = train.stage_result @a
    %both = train.union_data %d, %d splits ["train", "train"]
    train.step_loop {
      %b = train.batch_fetch %d split "train"
      %h = train.forward %lm, %b
      %lp = train.sequence_logprobs %lm, %h, %b
      %l = train.loss nll %lp {} : !train.logprobs
      %sum = train.loss_sum %l weights [0.5]
      train.backward %sum
      train.optimizer_step %lm
    }
  }
}
