// share-prefix: a step that decodes all responses of an example in one pass (a pairwise loss with
// concat_pairs, or a listwise loss) decodes the prompt they share once; the decision is recorded on the
// forward and score ops. Steps that decode one response per example, or pairs in two passes, are left alone.
// RUN: align-opt %s -share-prefix | FileCheck %s
// After concat-pairs, as the pipeline runs them:
// RUN: align-opt %s -concat-pairs -share-prefix | FileCheck %s --check-prefix=PIPE
// The result still verifies and is a fixed point.
// RUN: align-opt %s -concat-pairs -share-prefix > %t.mlir && align-opt %t.mlir -share-prefix > %t.again.mlir && diff %t.mlir %t.again.mlir

train.program @p {
  %lm = train.load_model "lm" from "llama" {}
  %frozen = train.load_model "ref" from "llama" {}
  %rm = train.attach "reward_head" "scalar" to %lm {}
  %d = train.load_data "d" from "pairwise" {} splits ["train"]

  // A pairwise step whose pairs go through two passes cannot share (share-prefix alone, before concat-pairs);
  // after concat-pairs it does.
  // CHECK-LABEL: train.stage @dpo
  // CHECK: train.forward %{{[^ ]*}}, %{{[^ ]*}}{{$}}
  // PIPE-LABEL: train.stage @dpo
  // PIPE: train.forward %{{[^ ]*}}, %{{[^ ]*}} concat_pairs shared_prefix{{$}}
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

  // A pairwise step already concatenated shares.
  // CHECK-LABEL: train.stage @simpo
  // CHECK: train.forward %{{[^ ]*}}, %{{[^ ]*}} concat_pairs shared_prefix{{$}}
  train.stage @simpo attributes {optimizer = #train.optimizer<adamw>, lr = 1.0e-4, optimizer_params = {}, lr_schedule = #train.lr_schedule<constant>, lr_final = 0.0, warmup = 0 : i64, batch = 8 : i64, micro_batch = 8 : i64, epochs = 1.0, precision = #train.precision<auto>, max_length = 64 : i64, max_prompt_length = 32 : i64, truncation = #train.truncation<right>, clip = 1.0, seed = 0 : i64, log_every = 10 : i64} {
    train.step_loop {
      %b = train.batch_fetch %d split "train"
      %h = train.forward %lm, %b concat_pairs
      %lp = train.sequence_logprobs %lm, %h, %b
      %l = train.loss simpo %lp {beta = 2.0 : f64, gamma = 0.5 : f64} : !train.logprobs
      train.backward %l
      train.optimizer_step %lm
    }
  }

  // NLL alone reads one response per example: nothing to share.
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

  // A listwise ranking loss reads every response of an example in one pass: its score and the imitation
  // term's forward share (one decoder pass serves both).
  // CHECK-LABEL: train.stage @reward
  // CHECK: train.score %{{[^ ]*}}, %{{[^ ]*}} shared_prefix : !train.batch
  // CHECK: train.forward %{{[^ ]*}}, %{{[^ ]*}} shared_prefix{{$}}
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

  // A Bradley-Terry reward model after concat-pairs.
  // PIPE-LABEL: train.stage @bt
  // PIPE: train.score %{{[^ ]*}}, %{{[^ ]*}} concat_pairs shared_prefix : !train.batch
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
