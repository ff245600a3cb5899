// eliminate-dead-declarations: loads and attachments nothing uses are removed, to a fixed point (a model
// whose only user was a dead attachment goes too); everything a stage or evaluation reads stays.
// RUN: align-opt %s -eliminate-dead-declarations | FileCheck %s

// CHECK-LABEL: train.program @p {
// CHECK-NEXT: %[[LM:.*]] = train.load_model "lm"
// CHECK-NEXT: %[[D:.*]] = train.load_data "d"
// CHECK-NEXT: %[[E:.*]] = train.load_data "e"
// CHECK-NEXT: train.stage @s
// CHECK-NOT: train.load_model
// CHECK-NOT: train.attach
// CHECK: train.evaluate "accuracy" %{{.*}} on %[[E]]
train.program @p {
  %lm = train.load_model "lm" from "llama" {}
  %unused = train.load_model "unused" from "llama" {}
  %base = train.load_model "base" from "llama" {}
  %head = train.attach "reward_head" "scalar" to %base {}
  %users = train.attach "users" "individual" to %head {}
  %d = train.load_data "d" from "sft" {} splits ["train"]
  %never = train.load_data "never" from "sft" {} splits ["train"]
  %e = train.load_data "e" from "pairwise" {} splits ["eval"]
  train.stage @s attributes {optimizer = #train.optimizer<adamw>, lr = 1.0e-4, optimizer_params = {}, lr_schedule = #train.lr_schedule<constant>, lr_final = 0.0, warmup = 0 : i64, batch = 8 : i64, micro_batch = 8 : i64, epochs = 1.0, precision = #train.precision<auto>, max_length = 64 : i64, max_prompt_length = 32 : i64, truncation = #train.truncation<right>, clip = 1.0, seed = 0 : i64, log_every = 10 : i64} {
    train.step_loop {
      %b = train.batch_fetch %d split "train"
      %h = train.forward %lm, %b
      %lp = train.sequence_logprobs %lm, %h, %b
      %l = train.loss nll %lp {} : !train.logprobs
      train.backward %l
      train.optimizer_step %lm
    }
  }

  %final = train.stage_result @s
  train.evaluate "accuracy" %final on %e split "eval" {}
}
