// concat-pairs: in a step with a pairwise loss, every forward and score runs chosen and rejected as one batch;
// the decision is recorded on those ops only. Steps without a pairwise loss (NLL, imitation, ranking) are left
// alone.
// RUN: align-opt %s -concat-pairs | FileCheck %s
// The result still verifies and is a fixed point.
// RUN: align-opt %s -concat-pairs > %t.mlir && align-opt %t.mlir -concat-pairs > %t.again.mlir && diff %t.mlir %t.again.mlir

// CHECK-LABEL: train.program @p {
train.program @p {
  %lm = train.load_model "lm" from "llama" {}
  %frozen = train.load_model "ref" from "llama" {}
  %rm = train.attach "reward_head" "scalar" to %lm {}
  %d = train.load_data "d" from "pairwise" {} splits ["train"]
  // CHECK-LABEL: train.stage @dpo
  // CHECK-NOT: concat_pairs
  // CHECK: train.forward %{{.*}}, %{{.*}} concat_pairs
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

  // SimPO needs no reference but is pairwise.
  // CHECK-LABEL: train.stage @simpo
  // CHECK-NOT: concat_pairs
  // CHECK: train.forward %{{.*}}, %{{.*}} concat_pairs
  train.stage @simpo attributes {optimizer = #train.optimizer<adamw>, lr = 1.0e-4, optimizer_params = {}, lr_schedule = #train.lr_schedule<constant>, lr_final = 0.0, warmup = 0 : i64, batch = 8 : i64, micro_batch = 8 : i64, epochs = 1.0, precision = #train.precision<auto>, max_length = 64 : i64, max_prompt_length = 32 : i64, truncation = #train.truncation<right>, clip = 1.0, seed = 0 : i64, log_every = 10 : i64} {
    train.step_loop {
      %b = train.batch_fetch %d split "train"
      %h = train.forward %lm, %b
      %lp = train.sequence_logprobs %lm, %h, %b
      %l = train.loss simpo %lp {beta = 2.0 : f64, gamma = 0.5 : f64} : !train.logprobs
      train.backward %l
      train.optimizer_step %lm
    }
  }

  // CHECK-LABEL: train.stage @sft
  // CHECK: train.forward %{{[^ ]*}}, %{{[^ ]*}}{{$}}
  train.stage @sft attributes {optimizer = #train.optimizer<adamw>, lr = 1.0e-4, optimizer_params = {}, lr_schedule = #train.lr_schedule<constant>, lr_final = 0.0, warmup = 0 : i64, batch = 8 : i64, micro_batch = 8 : i64, epochs = 1.0, precision = #train.precision<auto>, max_length = 64 : i64, max_prompt_length = 32 : i64, truncation = #train.truncation<right>, clip = 1.0, seed = 0 : i64, log_every = 10 : i64} {
    train.step_loop {
      %b = train.batch_fetch %d split "train"
      %h = train.forward %lm, %b
      %lp = train.sequence_logprobs %lm, %h, %b
      %l = train.loss nll %lp {} : !train.logprobs
      train.backward %l
      train.optimizer_step %lm
    }
  }

  // A reward model with an imitation term: ranking runs on scores, imitation is not pairwise.
  // CHECK-LABEL: train.stage @reward
  // CHECK: train.score %{{[^ ]*}}, %{{[^ ]*}} : !train.batch
  // CHECK: train.forward %{{[^ ]*}}, %{{[^ ]*}}{{$}}
  train.stage @reward attributes {optimizer = #train.optimizer<adamw>, lr = 1.0e-4, optimizer_params = {}, lr_schedule = #train.lr_schedule<constant>, lr_final = 0.0, warmup = 0 : i64, batch = 8 : i64, micro_batch = 8 : i64, epochs = 1.0, precision = #train.precision<auto>, max_length = 64 : i64, max_prompt_length = 32 : i64, truncation = #train.truncation<right>, clip = 1.0, seed = 0 : i64, log_every = 10 : i64} {
    train.step_loop {
      %b = train.batch_fetch %d split "train"
      %s = train.score %rm, %b : !train.batch
      %h = train.forward %rm, %b
      %lp = train.sequence_logprobs %rm, %h, %b
      %r = train.loss rank_loss %s {} : !train.scores
      %i = train.loss imitation %lp {threshold = 0.85 : f64} : !train.logprobs
      %sum = train.loss_sum %r, %i weights [1.0, 0.1]
      train.backward %sum
      train.optimizer_step %rm
    }
  }

  // A Bradley-Terry reward model compares pairs: its scores are concatenated.
  // CHECK-LABEL: train.stage @bt
  // CHECK: train.score %{{[^ ]*}}, %{{[^ ]*}} concat_pairs : !train.batch
  train.stage @bt attributes {optimizer = #train.optimizer<adamw>, lr = 1.0e-4, optimizer_params = {}, lr_schedule = #train.lr_schedule<constant>, lr_final = 0.0, warmup = 0 : i64, batch = 8 : i64, micro_batch = 8 : i64, epochs = 1.0, precision = #train.precision<auto>, max_length = 64 : i64, max_prompt_length = 32 : i64, truncation = #train.truncation<right>, clip = 1.0, seed = 0 : i64, log_every = 10 : i64} {
    train.step_loop {
      %b = train.batch_fetch %d split "train"
      %s = train.score %rm, %b : !train.batch
      %l = train.loss bt %s {} : !train.scores
      train.backward %l
      train.optimizer_step %rm
    }
  }
}
