// Verifier errors of the ops that tie stages together (stage results, weight hand-off, aggregation), data
// unions, step-loop lengths and the stage's requested reference and evaluation cadence.
// RUN: align-opt %s -split-input-file -verify-diagnostics

train.program @p {
  %lm = train.load_model "lm" from "llama" {}
  %d = train.load_data "d" from "pairwise" {} splits ["eval", "train"]
  train.stage @a attributes {optimizer = #train.optimizer<adamw>, lr = 1.0e-4, optimizer_params = {}, lr_schedule = #train.lr_schedule<constant>, lr_final = 0.0, warmup = 0 : i64, batch = 8 : i64, micro_batch = 8 : i64, epochs = 1.0, precision = #train.precision<auto>, max_length = 64 : i64, max_prompt_length = 32 : i64, truncation = #train.truncation<right>, clip = 1.0, seed = 0 : i64, log_every = 10 : i64} {
    // expected-error @+1 {{'train.stage_result' op stage @a is the stage it is in; a stage's result exists only after the stage}}
    %r = train.stage_result @a
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

// -----

train.program @p {
  %lm = train.load_model "lm" from "llama" {}
  %d = train.load_data "d" from "pairwise" {} splits ["eval", "train"]
  train.stage @a attributes {optimizer = #train.optimizer<adamw>, lr = 1.0e-4, optimizer_params = {}, lr_schedule = #train.lr_schedule<constant>, lr_final = 0.0, warmup = 0 : i64, batch = 8 : i64, micro_batch = 8 : i64, epochs = 1.0, precision = #train.precision<auto>, max_length = 64 : i64, max_prompt_length = 32 : i64, truncation = #train.truncation<right>, clip = 1.0, seed = 0 : i64, log_every = 10 : i64} {
    // expected-error @+1 {{'train.stage_result' op stage @b is not an earlier stage}}
    %r = train.stage_result @b
    train.step_loop {
      %b = train.batch_fetch %d split "train"
      %h = train.forward %lm, %b
      %lp = train.sequence_logprobs %lm, %h, %b
      %l = train.loss nll %lp {} : !train.logprobs
      train.backward %l
      train.optimizer_step %lm
    }
  }
  train.stage @b attributes {optimizer = #train.optimizer<adamw>, lr = 1.0e-4, optimizer_params = {}, lr_schedule = #train.lr_schedule<constant>, lr_final = 0.0, warmup = 0 : i64, batch = 8 : i64, micro_batch = 8 : i64, epochs = 1.0, precision = #train.precision<auto>, max_length = 64 : i64, max_prompt_length = 32 : i64, truncation = #train.truncation<right>, clip = 1.0, seed = 0 : i64, log_every = 10 : i64} {
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

// -----

train.program @p {
  %lm = train.load_model "lm" from "llama" {}
  %d = train.load_data "d" from "pairwise" {} splits ["eval", "train"]
  train.stage @a attributes {optimizer = #train.optimizer<adamw>, lr = 1.0e-4, optimizer_params = {}, lr_schedule = #train.lr_schedule<constant>, lr_final = 0.0, warmup = 0 : i64, batch = 8 : i64, micro_batch = 8 : i64, epochs = 1.0, precision = #train.precision<auto>, max_length = 64 : i64, max_prompt_length = 32 : i64, truncation = #train.truncation<right>, clip = 1.0, seed = 0 : i64, log_every = 10 : i64} {
    // expected-error @+1 {{'train.stage_result' op stage @nowhere is not a stage of this program}}
    %r = train.stage_result @nowhere
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

// -----

train.program @p {
  %lm = train.load_model "lm" from "llama" {}
  %d = train.load_data "d" from "pairwise" {} splits ["eval", "train"]
  train.stage @a attributes {optimizer = #train.optimizer<adamw>, lr = 1.0e-4, optimizer_params = {}, lr_schedule = #train.lr_schedule<constant>, lr_final = 0.0, warmup = 0 : i64, batch = 8 : i64, micro_batch = 8 : i64, epochs = 1.0, precision = #train.precision<auto>, max_length = 64 : i64, max_prompt_length = 32 : i64, truncation = #train.truncation<right>, clip = 1.0, seed = 0 : i64, log_every = 10 : i64} {
    train.step_loop {
      %b = train.batch_fetch %d split "train"
      %h = train.forward %lm, %b
      %lp = train.sequence_logprobs %lm, %h, %b
      %l = train.loss nll %lp {} : !train.logprobs
      train.backward %l
      train.optimizer_step %lm
    }
  }
  train.stage @b init_from @a attributes {optimizer = #train.optimizer<adamw>, lr = 1.0e-4, optimizer_params = {}, lr_schedule = #train.lr_schedule<constant>, lr_final = 0.0, warmup = 0 : i64, batch = 8 : i64, micro_batch = 8 : i64, epochs = 1.0, precision = #train.precision<auto>, max_length = 64 : i64, max_prompt_length = 32 : i64, truncation = #train.truncation<right>, clip = 1.0, seed = 0 : i64, log_every = 10 : i64} {
    %r = train.stage_result @a
    // expected-error @+1 {{'train.load_weights' op loads weights into a stage result, which is frozen}}
    train.load_weights %r from %lm
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

// -----

train.program @p {
  %lm = train.load_model "lm" from "llama" {}
  %d = train.load_data "d" from "pairwise" {} splits ["eval", "train"]
  train.stage @a attributes {optimizer = #train.optimizer<adamw>, lr = 1.0e-4, optimizer_params = {}, lr_schedule = #train.lr_schedule<constant>, lr_final = 0.0, warmup = 0 : i64, batch = 8 : i64, micro_batch = 8 : i64, epochs = 1.0, precision = #train.precision<auto>, max_length = 64 : i64, max_prompt_length = 32 : i64, truncation = #train.truncation<right>, clip = 1.0, seed = 0 : i64, log_every = 10 : i64} {
    train.step_loop {
      %b = train.batch_fetch %d split "train"
      %h = train.forward %lm, %b
      %lp = train.sequence_logprobs %lm, %h, %b
      %l = train.loss nll %lp {} : !train.logprobs
      train.backward %l
      train.optimizer_step %lm
    }
  }
  train.stage @b init_from @a attributes {optimizer = #train.optimizer<adamw>, lr = 1.0e-4, optimizer_params = {}, lr_schedule = #train.lr_schedule<constant>, lr_final = 0.0, warmup = 0 : i64, batch = 8 : i64, micro_batch = 8 : i64, epochs = 1.0, precision = #train.precision<auto>, max_length = 64 : i64, max_prompt_length = 32 : i64, truncation = #train.truncation<right>, clip = 1.0, seed = 0 : i64, log_every = 10 : i64} {
    // expected-error @+1 {{'train.load_weights' op loads a model's weights into itself}}
    train.load_weights %lm from %lm
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

// -----

train.program @p {
  %lm = train.load_model "lm" from "llama" {}
  %d = train.load_data "d" from "pairwise" {} splits ["eval", "train"]
  train.stage @a attributes {optimizer = #train.optimizer<adamw>, lr = 1.0e-4, optimizer_params = {}, lr_schedule = #train.lr_schedule<constant>, lr_final = 0.0, warmup = 0 : i64, batch = 8 : i64, micro_batch = 8 : i64, epochs = 1.0, precision = #train.precision<auto>, max_length = 64 : i64, max_prompt_length = 32 : i64, truncation = #train.truncation<right>, clip = 1.0, seed = 0 : i64, log_every = 10 : i64} {
    train.step_loop {
      %b = train.batch_fetch %d split "train"
      %h = train.forward %lm, %b
      %lp = train.sequence_logprobs %lm, %h, %b
      %l = train.loss nll %lp {} : !train.logprobs
      train.backward %l
      train.optimizer_step %lm
    }
  }
  train.stage @b init_from @a attributes {optimizer = #train.optimizer<adamw>, lr = 1.0e-4, optimizer_params = {}, lr_schedule = #train.lr_schedule<constant>, lr_final = 0.0, warmup = 0 : i64, batch = 8 : i64, micro_batch = 8 : i64, epochs = 1.0, precision = #train.precision<auto>, max_length = 64 : i64, max_prompt_length = 32 : i64, truncation = #train.truncation<right>, clip = 1.0, seed = 0 : i64, log_every = 10 : i64} {
    %r = train.stage_result @a
    train.step_loop {
      %b = train.batch_fetch %d split "train"
      %h = train.forward %lm, %b
      %lp = train.sequence_logprobs %lm, %h, %b
      %l = train.loss nll %lp {} : !train.logprobs
      train.backward %l
      train.optimizer_step %lm
    }
    // expected-error @+1 {{'train.load_weights' op must come before the stage's loop}}
    train.load_weights %lm from %r
  }
}

// -----

train.program @p {
  %lm = train.load_model "lm" from "llama" {}
  %d = train.load_data "d" from "pairwise" {} splits ["eval", "train"]
  train.stage @a attributes {optimizer = #train.optimizer<adamw>, lr = 1.0e-4, optimizer_params = {}, lr_schedule = #train.lr_schedule<constant>, lr_final = 0.0, warmup = 0 : i64, batch = 8 : i64, micro_batch = 8 : i64, epochs = 1.0, precision = #train.precision<auto>, max_length = 64 : i64, max_prompt_length = 32 : i64, truncation = #train.truncation<right>, clip = 1.0, seed = 0 : i64, log_every = 10 : i64} {
    // expected-error @+1 {{'train.union_data' op unites fewer than two sources}}
    %u = train.union_data %d splits ["train"]
    train.step_loop {
      %b = train.batch_fetch %u
      %h = train.forward %lm, %b
      %lp = train.sequence_logprobs %lm, %h, %b
      %l = train.loss nll %lp {} : !train.logprobs
      train.backward %l
      train.optimizer_step %lm
    }
  }
}

// -----

train.program @p {
  %lm = train.load_model "lm" from "llama" {}
  %d = train.load_data "d" from "pairwise" {} splits ["eval", "train"]
  train.stage @a attributes {optimizer = #train.optimizer<adamw>, lr = 1.0e-4, optimizer_params = {}, lr_schedule = #train.lr_schedule<constant>, lr_final = 0.0, warmup = 0 : i64, batch = 8 : i64, micro_batch = 8 : i64, epochs = 1.0, precision = #train.precision<auto>, max_length = 64 : i64, max_prompt_length = 32 : i64, truncation = #train.truncation<right>, clip = 1.0, seed = 0 : i64, log_every = 10 : i64} {
    // expected-error @+1 {{'train.union_data' op data 'd' has no split 'test'}}
    %u = train.union_data %d, %d splits ["train", "test"]
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

// -----

train.program @p {
  %lm = train.load_model "lm" from "llama" {}
  %d = train.load_data "d" from "pairwise" {} splits ["eval", "train"]
  train.stage @a attributes {optimizer = #train.optimizer<adamw>, lr = 1.0e-4, optimizer_params = {}, lr_schedule = #train.lr_schedule<constant>, lr_final = 0.0, warmup = 0 : i64, batch = 8 : i64, micro_batch = 8 : i64, epochs = 1.0, precision = #train.precision<auto>, max_length = 64 : i64, max_prompt_length = 32 : i64, truncation = #train.truncation<right>, clip = 1.0, seed = 0 : i64, log_every = 10 : i64} {
    // expected-error @+1 {{'train.union_data' op has 2 sources but 1 split names}}
    %u = train.union_data %d, %d splits ["train"]
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

// -----

train.program @p {
  %lm = train.load_model "lm" from "llama" {}
  %d = train.load_data "d" from "pairwise" {} splits ["eval", "train"]
  train.stage @a attributes {optimizer = #train.optimizer<adamw>, lr = 1.0e-4, optimizer_params = {}, lr_schedule = #train.lr_schedule<constant>, lr_final = 0.0, warmup = 0 : i64, batch = 8 : i64, micro_batch = 8 : i64, epochs = 1.0, precision = #train.precision<auto>, max_length = 64 : i64, max_prompt_length = 32 : i64, truncation = #train.truncation<right>, clip = 1.0, seed = 0 : i64, log_every = 10 : i64} {
    train.step_loop {
      %b = train.batch_fetch %d split "train"
      %h = train.forward %lm, %b
      %lp = train.sequence_logprobs %lm, %h, %b
      %l = train.loss nll %lp {} : !train.logprobs
      train.backward %l
      train.optimizer_step %lm
    }
  }
  // expected-error @+1 {{'train.aggregate' op 'minmax_regret' estimates regrets on prompts, but has none}}
  train.aggregate "x" = "minmax_regret" of @a {}
}

// -----

train.program @p {
  %lm = train.load_model "lm" from "llama" {}
  %d = train.load_data "d" from "pairwise" {} splits ["eval", "train"]
  train.stage @a attributes {optimizer = #train.optimizer<adamw>, lr = 1.0e-4, optimizer_params = {}, lr_schedule = #train.lr_schedule<constant>, lr_final = 0.0, warmup = 0 : i64, batch = 8 : i64, micro_batch = 8 : i64, epochs = 1.0, precision = #train.precision<auto>, max_length = 64 : i64, max_prompt_length = 32 : i64, truncation = #train.truncation<right>, clip = 1.0, seed = 0 : i64, log_every = 10 : i64} {
    train.step_loop {
      %b = train.batch_fetch %d split "train"
      %h = train.forward %lm, %b
      %lp = train.sequence_logprobs %lm, %h, %b
      %l = train.loss nll %lp {} : !train.logprobs
      train.backward %l
      train.optimizer_step %lm
    }
  }
  // expected-error @+1 {{'train.aggregate' op kind 'median' is not one of: minmax_regret, mean, weighted, conditioned}}
  train.aggregate "x" = "median" of @a {}
}

// -----

train.program @p {
  %lm = train.load_model "lm" from "llama" {}
  %d = train.load_data "d" from "pairwise" {} splits ["eval", "train"]
  // expected-error @+1 {{'train.aggregate' op policies @a is not an earlier stage}}
  train.aggregate "x" = "mean" of @a {}
  train.stage @a attributes {optimizer = #train.optimizer<adamw>, lr = 1.0e-4, optimizer_params = {}, lr_schedule = #train.lr_schedule<constant>, lr_final = 0.0, warmup = 0 : i64, batch = 8 : i64, micro_batch = 8 : i64, epochs = 1.0, precision = #train.precision<auto>, max_length = 64 : i64, max_prompt_length = 32 : i64, truncation = #train.truncation<right>, clip = 1.0, seed = 0 : i64, log_every = 10 : i64} {
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

// -----

train.program @p {
  %lm = train.load_model "lm" from "llama" {}
  %d = train.load_data "d" from "pairwise" {} splits ["eval", "train"]
  train.stage @a attributes {optimizer = #train.optimizer<adamw>, lr = 1.0e-4, optimizer_params = {}, lr_schedule = #train.lr_schedule<constant>, lr_final = 0.0, warmup = 0 : i64, batch = 8 : i64, micro_batch = 8 : i64, epochs = 1.0, precision = #train.precision<auto>, max_length = 64 : i64, max_prompt_length = 32 : i64, truncation = #train.truncation<right>, clip = 1.0, seed = 0 : i64, log_every = 10 : i64} {
    // expected-error @+1 {{'train.step_loop' op sets both steps and epochs}}
    train.step_loop attributes {steps = 3 : i64, epochs = 1.0} {
      %b = train.batch_fetch %d split "train"
      %h = train.forward %lm, %b
      %lp = train.sequence_logprobs %lm, %h, %b
      %l = train.loss nll %lp {} : !train.logprobs
      train.backward %l
      train.optimizer_step %lm
    }
  }
}

// -----

train.program @p {
  %lm = train.load_model "lm" from "llama" {}
  %d = train.load_data "d" from "pairwise" {} splits ["eval", "train"]
  train.stage @a attributes {optimizer = #train.optimizer<adamw>, lr = 1.0e-4, optimizer_params = {}, lr_schedule = #train.lr_schedule<constant>, lr_final = 0.0, warmup = 0 : i64, batch = 8 : i64, micro_batch = 8 : i64, epochs = 1.0, precision = #train.precision<auto>, max_length = 64 : i64, max_prompt_length = 32 : i64, truncation = #train.truncation<right>, clip = 1.0, seed = 0 : i64, log_every = 10 : i64} {
    // expected-error @+1 {{'train.step_loop' op steps must be >= 1}}
    train.step_loop attributes {steps = 0 : i64} {
      %b = train.batch_fetch %d split "train"
      %h = train.forward %lm, %b
      %lp = train.sequence_logprobs %lm, %h, %b
      %l = train.loss nll %lp {} : !train.logprobs
      train.backward %l
      train.optimizer_step %lm
    }
  }
}

// -----

train.program @p {
  %lm = train.load_model "lm" from "llama" {}
  %ref = train.load_model "ref" from "llama" {}
  %d = train.load_data "d" from "pairwise" {} splits ["eval", "train"]
  train.stage @a attributes {optimizer = #train.optimizer<adamw>, lr = 1.0e-4, optimizer_params = {}, lr_schedule = #train.lr_schedule<constant>, lr_final = 0.0, warmup = 0 : i64, batch = 8 : i64, micro_batch = 8 : i64, epochs = 1.0, precision = #train.precision<auto>, max_length = 64 : i64, max_prompt_length = 32 : i64, truncation = #train.truncation<right>, clip = 1.0, seed = 0 : i64, reference = #train.reference<online>, log_every = 10 : i64} {
    train.step_loop {
      %b = train.batch_fetch %d split "train"
      %h = train.forward %lm, %b
      %lp = train.sequence_logprobs %lm, %h, %b
      // expected-error @+1 {{'train.reference_logprobs' op is cached, but stage @a's recipe asked for reference: online}}
      %r = train.reference_logprobs %ref, %b cached
      %l = train.loss dpo %lp against %r {beta = 1.0e-01 : f64} : !train.logprobs
      train.backward %l
      train.optimizer_step %lm
    }
  }
}

// -----

train.program @p {
  %lm = train.load_model "lm" from "llama" {}
  %d = train.load_data "d" from "pairwise" {} splits ["eval", "train"]
  // expected-error @+1 {{'train.stage' op sets both eval_every_steps and eval_every_seconds}}
  train.stage @a attributes {optimizer = #train.optimizer<adamw>, lr = 1.0e-4, optimizer_params = {}, lr_schedule = #train.lr_schedule<constant>, lr_final = 0.0, warmup = 0 : i64, batch = 8 : i64, micro_batch = 8 : i64, epochs = 1.0, precision = #train.precision<auto>, max_length = 64 : i64, max_prompt_length = 32 : i64, truncation = #train.truncation<right>, clip = 1.0, seed = 0 : i64, log_every = 10 : i64, eval_every_steps = 5 : i64, eval_every_seconds = 60.0} {
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
