// Train IR the runtime cannot execute yet: each construct is an error at its op's location and no C++
// is printed. One program per split; --leading-lines keeps the line numbers of this file.
// RUN: rm -rf %t && split-file --leading-lines %s %t
// RUN: not alignc --emit=cpp %t/two-programs.mlir 2>&1 | FileCheck %s --check-prefix=TWO
// RUN: not alignc --emit=cpp %t/reward.mlir 2>&1 | FileCheck %s --check-prefix=REWARD
// RUN: not alignc --emit=cpp %t/reward.mlir 2>&1 | not grep "regression normalize"
// RUN: not alignc --emit=cpp %t/reads.mlir 2>&1 | FileCheck %s --check-prefix=READS
// RUN: not alignc --emit=cpp %t/declarations.mlir 2>&1 | FileCheck %s --check-prefix=DECLS
// RUN: not alignc --emit=cpp %t/reward.mlir 2>/dev/null | count 0

//--- two-programs.mlir
// TWO: two-programs.mlir: error: a trainer is built from one recipe; this input has 2 train programs
// TWO: two-programs.mlir:[[@LINE+1]]:1: note: recipe a
train.program @a {
}
// TWO: two-programs.mlir:[[@LINE+1]]:1: note: recipe b
train.program @b {
}

//--- reward.mlir
train.program @reward {
  %lm = train.load_model "lm" from "llama" {preset = "tiny", seed = 0 : i64, tokenizer = "tok", tokenizer_kind = "bytes", tokenizer_spec = "bytes"}
  %data = train.load_data "r" from "rated" {path = "r.jsonl", ratings = ["a"]} splits ["train"]
  // A reward head with a bias: the runtime's heads have none.
  // REWARD-DAG: reward.mlir:[[@LINE+1]]:9: error: 'reward head bias' is not executed by the runtime yet
  %rm = train.attach "reward_head" "regression" to %lm {bias = true, objectives = ["a"], outputs = 1 : i64, pooling = "last"}
  train.stage @fit attributes {optimizer = #train.optimizer<adamw>, lr = 1.0e-3, optimizer_params = {nesterov = true},
      lr_schedule = #train.lr_schedule<cosine>, lr_final = 0.0, warmup = 0 : i64, batch = 4 : i64, micro_batch = 4 : i64, 
      epochs = 1.0, precision = #train.precision<auto>, max_length = 64 : i64, max_prompt_length = 32 : i64, truncation = #train.truncation<right>,
      clip = 1.0, seed = 0 : i64, log_every = 1 : i64} {
    // REWARD-DAG: reward.mlir:[[@LINE-4]]:3: error: 'adamw nesterov' is not executed by the runtime yet
    train.step_loop {
      %b = train.batch_fetch %data split "train"
      %s = train.score %rm, %b : !train.batch
      // A parameter the runtime's regression does not take (it is MSE on the targets; `normalize`, standardised
      // targets, is executed and no error).
      // REWARD-DAG: reward.mlir:[[@LINE+1]]:12: error: 'regression huber' is not executed by the runtime yet
      %l = train.loss regression %s {normalize = true, huber = 1.0 : f64} : !train.scores
      train.backward %l
      train.optimizer_step %rm
    }
  }
}

//--- reads.mlir
train.program @reads {
  %lm = train.load_model "lm" from "llama" {preset = "tiny", seed = 0 : i64, tokenizer = "tok", tokenizer_kind = "bytes", tokenizer_spec = "bytes"}
  %ref = train.load_model "ref" from "llama" {preset = "tiny", seed = 0 : i64, tokenizer = "tok", tokenizer_kind = "bytes", tokenizer_spec = "bytes"}
  %pairs = train.load_data "pairs" from "pairwise" {path = "p.jsonl"} splits ["eval", "train"]
  train.stage @align attributes {optimizer = #train.optimizer<adamw>, lr = 1.0e-3, optimizer_params = {},
      lr_schedule = #train.lr_schedule<cosine>, lr_final = 0.0, warmup = 0 : i64, batch = 4 : i64, micro_batch = 4 : i64, 
      epochs = 1.0, precision = #train.precision<auto>, max_length = 64 : i64, max_prompt_length = 32 : i64, truncation = #train.truncation<right>,
      clip = 1.0, seed = 0 : i64, reference = #train.reference<auto>, log_every = 1 : i64} {
    train.step_loop {
      // Every split of a source with an eval split: StageSpec reads one split.
      // READS: reads.mlir:[[@LINE+1]]:12: error: 'training of every split of a data source' is not executed by the runtime yet
      %b = train.batch_fetch %pairs
      %h = train.forward %lm, %b
      %lp = train.sequence_logprobs %lm, %h, %b
      %r = train.reference_logprobs %ref, %b
      // A parameter the runtime's dpo does not take.
      // READS: reads.mlir:[[@LINE+1]]:12: error: 'dpo gamma' is not executed by the runtime yet
      %l = train.loss dpo %lp against %r {beta = 0.1 : f64, gamma = 0.5 : f64} : !train.logprobs
      train.backward %l
      train.optimizer_step %lm
    }
    // An evaluation on a cadence of its own: EvalSpec has none.
    // READS: reads.mlir:[[@LINE+1]]:5: error: 'accuracy every_steps' is not executed by the runtime yet
    train.evaluate "accuracy" %lm on %pairs split "eval" every_steps 10 {}
  }
  // READS-NOT: by type
  train.evaluate "margin" by "type" %lm on %pairs split "eval" {}
  // READS: reads.mlir:[[@LINE+1]]:3: error: 'evaluation of every split of a data source' is not executed by the runtime yet
  train.evaluate "accuracy" %lm on %pairs {}
}

//--- declarations.mlir
train.program @declarations {
  // A model loaded from a checkpoint family the runtime does not know.
  // DECLS: declarations.mlir:[[@LINE+1]]:8: error: 'model checkpoint' is not executed by the runtime yet
  %c = train.load_model "c" from "checkpoint" {stage = "sft"}
  // DECLS: declarations.mlir:[[@LINE+1]]:8: error: 'data csv' is not executed by the runtime yet
  %d = train.load_data "d" from "csv" {path = "d.csv"} splits ["train"]
  // DECLS: declarations.mlir:[[@LINE+1]]:8: error: 'data parameter encoding' is not executed by the runtime yet
  %e = train.load_data "e" from "sft" {path = "e.jsonl", encoding = "latin1"} splits ["train"]
  %lm = train.load_model "lm" from "llama" {preset = "tiny", seed = 0 : i64, tokenizer = "tok", tokenizer_kind = "bytes", tokenizer_spec = "bytes"}
  // Explicit user information must name a column (the model itself is executed: Emit/users.mlir).
  // DECLS: declarations.mlir:[[@LINE+1]]:9: error: 'users text that is not a column name' is not executed by the runtime yet
  %pu = train.attach "users" "cluster" to %lm {k = 4 : i64, text = 3 : i64}
}

//--- frozen-scorer.mlir
// A step that scores with a frozen reward model while training the policy: StageSpec trains one model
// and computes the objective with it.
// RUN: not alignc --emit=cpp %t/frozen-scorer.mlir 2>&1 | FileCheck %s --check-prefix=SCORER
train.program @frozen_scorer {
  %lm = train.load_model "lm" from "llama" {preset = "tiny", seed = 0 : i64, tokenizer = "tok", tokenizer_kind = "bytes", tokenizer_spec = "bytes"}
  %judge = train.load_model "judge" from "llama" {preset = "tiny", seed = 1 : i64, tokenizer = "tok", tokenizer_kind = "bytes", tokenizer_spec = "bytes"}
  %rm = train.attach "reward_head" "scalar" to %judge {outputs = 1 : i64, pooling = "last"}
  %pairs = train.load_data "pairs" from "pairwise" {path = "p.jsonl"} splits ["train"]
  train.stage @s attributes {optimizer = #train.optimizer<adamw>, lr = 1.0e-3, optimizer_params = {},
      lr_schedule = #train.lr_schedule<cosine>, lr_final = 0.0, warmup = 0 : i64, batch = 4 : i64, micro_batch = 4 : i64, 
      epochs = 1.0, precision = #train.precision<auto>, max_length = 64 : i64, max_prompt_length = 32 : i64, truncation = #train.truncation<right>,
      clip = 1.0, seed = 0 : i64, log_every = 1 : i64} {
    train.step_loop {
      %b = train.batch_fetch %pairs split "train"
      %h = train.forward %lm, %b
      %lp = train.sequence_logprobs %lm, %h, %b
      %n = train.loss nll %lp {} : !train.logprobs
      // SCORER: frozen-scorer.mlir:[[@LINE+1]]:12: error: 'a step computing with a model it does not train' is not executed by the runtime yet
      %s = train.score %rm, %b : !train.batch
      %l = train.loss bt %s {} : !train.scores
      %sum = train.loss_sum %n, %l weights [1.0, 1.0]
      train.backward %sum
      train.optimizer_step %lm
    }
  }
}
