// fuse-logprobs: every sequence_logprobs of a stage becomes `fused chunk N` (default 1024, option
// `chunk`); the decision is recorded on those ops only. A stage without log-probs (reward scores
// only) is left alone. A chunk below 1 is an error.
// RUN: align-opt %s -fuse-logprobs | FileCheck %s
// RUN: align-opt %s -fuse-logprobs=chunk=4096 | FileCheck %s --check-prefix=CHUNK
// RUN: not align-opt %s -fuse-logprobs=chunk=0 2>&1 | FileCheck %s --check-prefix=ERR
// ERR: error: fuse-logprobs: chunk must be >= 1, got 0

// CHECK-LABEL: train.program @p {
train.program @p {
  %lm = train.load_model "lm" from "llama" {}
  %rm = train.attach "reward_head" "scalar" to %lm {}
  %d = train.load_data "d" from "pairwise" {} splits ["train"]
  // CHECK-LABEL: train.stage @sft
  // CHECK-NOT: fused_logprobs
  // CHECK: train.sequence_logprobs %{{.*}}, %{{.*}}, %{{.*}} fused chunk 1024
  // CHECK: train.sequence_logprobs %{{.*}}, %{{.*}}, %{{.*}} fused chunk 1024
  // CHECK-LABEL: train.stage @scores
  // CHECK-NOT: fused
  // CHECK: train.loss bt
  // CHUNK-LABEL: train.stage @sft
  // CHUNK: fused chunk 4096
  train.stage @sft attributes {optimizer = #train.optimizer<adamw>, lr = 1.0e-4, optimizer_params = {}, lr_schedule = #train.lr_schedule<constant>, lr_final = 0.0, warmup = 0 : i64, batch = 8 : i64, micro_batch = 8 : i64, epochs = 1.0, precision = #train.precision<auto>, max_length = 64 : i64, max_prompt_length = 32 : i64, truncation = #train.truncation<right>, clip = 1.0, seed = 0 : i64, log_every = 10 : i64} {
    train.step_loop {
      %b = train.batch_fetch %d split "train"
      %h = train.forward %lm, %b
      %lp = train.sequence_logprobs %lm, %h, %b
      %h2 = train.forward %lm, %b
      %lp2 = train.sequence_logprobs %lm, %h2, %b
      %l = train.loss nll %lp {} : !train.logprobs
      %l2 = train.loss imitation %lp2 {threshold = 0.85 : f64} : !train.logprobs
      %sum = train.loss_sum %l, %l2 weights [1.0, 1.0]
      train.backward %sum
      train.optimizer_step %lm
    }
  }

  train.stage @scores attributes {optimizer = #train.optimizer<adamw>, lr = 1.0e-4, optimizer_params = {}, lr_schedule = #train.lr_schedule<constant>, lr_final = 0.0, warmup = 0 : i64, batch = 8 : i64, micro_batch = 8 : i64, epochs = 1.0, precision = #train.precision<auto>, max_length = 64 : i64, max_prompt_length = 32 : i64, truncation = #train.truncation<right>, clip = 1.0, seed = 0 : i64, log_every = 10 : i64} {
    train.step_loop {
      %b = train.batch_fetch %d split "train"
      %s = train.score %rm, %b : !train.batch
      %l = train.loss bt %s {} : !train.scores
      train.backward %l
      train.optimizer_step %rm
    }
  }

}
