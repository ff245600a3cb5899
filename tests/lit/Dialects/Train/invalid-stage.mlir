// Verifier errors of train's program- and stage-level ops: schedule consistency, stage order, outer
// loops, evaluation, checkpoints, generation.
// RUN: align-opt %s -split-input-file -verify-diagnostics

train.program @p {
  %lm = train.load_model "lm" from "llama" {}
  %ref = train.load_model "ref" from "llama" {}
  %rm = train.attach "reward_head" "scalar" to %lm {}
  %d = train.load_data "d" from "pairwise" {} splits ["eval", "train"]
  // expected-error @+1 {{'train.stage' op lr must be a finite number > 0}}
  train.stage @s attributes {
      optimizer = #train.optimizer<adamw>, lr = 0.0, optimizer_params = {},
      lr_schedule = #train.lr_schedule<cosine>, lr_final = 0.0, warmup = 0 : i64, batch = 32 : i64,
      micro_batch = 8 : i64, epochs = 1.0, precision = #train.precision<auto>,
      max_length = 512 : i64, max_prompt_length = 256 : i64, truncation = #train.truncation<right>,
      clip = 1.0, seed = 0 : i64, reference = #train.reference<auto>, 
      log_every = 10 : i64} {
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
  %ref = train.load_model "ref" from "llama" {}
  %rm = train.attach "reward_head" "scalar" to %lm {}
  %d = train.load_data "d" from "pairwise" {} splits ["eval", "train"]
  // expected-error @+1 {{'train.stage' op lr_final must lie in [0, 1] (a fraction of lr)}}
  train.stage @s attributes {
      optimizer = #train.optimizer<adamw>, lr = 1.0e-3, optimizer_params = {},
      lr_schedule = #train.lr_schedule<cosine>, lr_final = 1.5, warmup = 0 : i64, batch = 32 : i64,
      micro_batch = 8 : i64, epochs = 1.0, precision = #train.precision<auto>,
      max_length = 512 : i64, max_prompt_length = 256 : i64, truncation = #train.truncation<right>,
      clip = 1.0, seed = 0 : i64, reference = #train.reference<auto>, 
      log_every = 10 : i64} {
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
  %ref = train.load_model "ref" from "llama" {}
  %rm = train.attach "reward_head" "scalar" to %lm {}
  %d = train.load_data "d" from "pairwise" {} splits ["eval", "train"]
  // expected-error @+1 {{'train.stage' op warmup must be >= 0}}
  train.stage @s attributes {
      optimizer = #train.optimizer<adamw>, lr = 1.0e-3, optimizer_params = {},
      lr_schedule = #train.lr_schedule<cosine>, lr_final = 0.0, warmup = -1 : i64, batch = 32 : i64,
      micro_batch = 8 : i64, epochs = 1.0, precision = #train.precision<auto>,
      max_length = 512 : i64, max_prompt_length = 256 : i64, truncation = #train.truncation<right>,
      clip = 1.0, seed = 0 : i64, reference = #train.reference<auto>, 
      log_every = 10 : i64} {
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
  %ref = train.load_model "ref" from "llama" {}
  %rm = train.attach "reward_head" "scalar" to %lm {}
  %d = train.load_data "d" from "pairwise" {} splits ["eval", "train"]
  // expected-error @+1 {{'train.stage' op batch and micro_batch must be >= 1}}
  train.stage @s attributes {
      optimizer = #train.optimizer<adamw>, lr = 1.0e-3, optimizer_params = {},
      lr_schedule = #train.lr_schedule<cosine>, lr_final = 0.0, warmup = 0 : i64, batch = 32 : i64,
      micro_batch = 0 : i64, epochs = 1.0, precision = #train.precision<auto>,
      max_length = 512 : i64, max_prompt_length = 256 : i64, truncation = #train.truncation<right>,
      clip = 1.0, seed = 0 : i64, reference = #train.reference<auto>, 
      log_every = 10 : i64} {
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
  %ref = train.load_model "ref" from "llama" {}
  %rm = train.attach "reward_head" "scalar" to %lm {}
  %d = train.load_data "d" from "pairwise" {} splits ["eval", "train"]
  // expected-error @+1 {{'train.stage' op batch (32) must be a multiple of micro_batch (12)}}
  train.stage @s attributes {
      optimizer = #train.optimizer<adamw>, lr = 1.0e-3, optimizer_params = {},
      lr_schedule = #train.lr_schedule<cosine>, lr_final = 0.0, warmup = 0 : i64, batch = 32 : i64,
      micro_batch = 12 : i64, epochs = 1.0, precision = #train.precision<auto>,
      max_length = 512 : i64, max_prompt_length = 256 : i64, truncation = #train.truncation<right>,
      clip = 1.0, seed = 0 : i64, reference = #train.reference<auto>, 
      log_every = 10 : i64} {
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
  %ref = train.load_model "ref" from "llama" {}
  %rm = train.attach "reward_head" "scalar" to %lm {}
  %d = train.load_data "d" from "pairwise" {} splits ["eval", "train"]
  // expected-error @+1 {{'train.stage' op must set exactly one of steps and epochs}}
  train.stage @s attributes {
      optimizer = #train.optimizer<adamw>, lr = 1.0e-3, optimizer_params = {},
      lr_schedule = #train.lr_schedule<cosine>, lr_final = 0.0, warmup = 0 : i64, batch = 32 : i64,
      micro_batch = 8 : i64, steps = 100 : i64, epochs = 1.0,
      precision = #train.precision<auto>, max_length = 512 : i64, max_prompt_length = 256 : i64,
      truncation = #train.truncation<right>, clip = 1.0, seed = 0 : i64,
      reference = #train.reference<auto>, 
      log_every = 10 : i64} {
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
  %ref = train.load_model "ref" from "llama" {}
  %rm = train.attach "reward_head" "scalar" to %lm {}
  %d = train.load_data "d" from "pairwise" {} splits ["eval", "train"]
  // expected-error @+1 {{'train.stage' op must set exactly one of steps and epochs}}
  train.stage @s attributes {
      optimizer = #train.optimizer<adamw>, lr = 1.0e-3, optimizer_params = {},
      lr_schedule = #train.lr_schedule<cosine>, lr_final = 0.0, warmup = 0 : i64, batch = 32 : i64,
      micro_batch = 8 : i64, precision = #train.precision<auto>,
      max_length = 512 : i64, max_prompt_length = 256 : i64, truncation = #train.truncation<right>,
      clip = 1.0, seed = 0 : i64, reference = #train.reference<auto>, 
      log_every = 10 : i64} {
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
  %ref = train.load_model "ref" from "llama" {}
  %rm = train.attach "reward_head" "scalar" to %lm {}
  %d = train.load_data "d" from "pairwise" {} splits ["eval", "train"]
  // expected-error @+1 {{'train.stage' op steps must be >= 1}}
  train.stage @s attributes {
      optimizer = #train.optimizer<adamw>, lr = 1.0e-3, optimizer_params = {},
      lr_schedule = #train.lr_schedule<cosine>, lr_final = 0.0, warmup = 0 : i64, batch = 32 : i64,
      micro_batch = 8 : i64, steps = 0 : i64,
      precision = #train.precision<auto>, max_length = 512 : i64, max_prompt_length = 256 : i64,
      truncation = #train.truncation<right>, clip = 1.0, seed = 0 : i64,
      reference = #train.reference<auto>, 
      log_every = 10 : i64} {
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
  %ref = train.load_model "ref" from "llama" {}
  %rm = train.attach "reward_head" "scalar" to %lm {}
  %d = train.load_data "d" from "pairwise" {} splits ["eval", "train"]
  // expected-error @+1 {{'train.stage' op epochs must be a finite number > 0}}
  train.stage @s attributes {
      optimizer = #train.optimizer<adamw>, lr = 1.0e-3, optimizer_params = {},
      lr_schedule = #train.lr_schedule<cosine>, lr_final = 0.0, warmup = 0 : i64, batch = 32 : i64,
      micro_batch = 8 : i64, epochs = 0.0, precision = #train.precision<auto>,
      max_length = 512 : i64, max_prompt_length = 256 : i64, truncation = #train.truncation<right>,
      clip = 1.0, seed = 0 : i64, reference = #train.reference<auto>, 
      log_every = 10 : i64} {
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
  %ref = train.load_model "ref" from "llama" {}
  %rm = train.attach "reward_head" "scalar" to %lm {}
  %d = train.load_data "d" from "pairwise" {} splits ["eval", "train"]
  // expected-error @+1 {{'train.stage' op max_length must be >= 2 (a prompt token and a response token)}}
  train.stage @s attributes {
      optimizer = #train.optimizer<adamw>, lr = 1.0e-3, optimizer_params = {},
      lr_schedule = #train.lr_schedule<cosine>, lr_final = 0.0, warmup = 0 : i64, batch = 32 : i64,
      micro_batch = 8 : i64, epochs = 1.0, precision = #train.precision<auto>,
      max_length = 1 : i64, max_prompt_length = 1 : i64, truncation = #train.truncation<right>,
      clip = 1.0, seed = 0 : i64, reference = #train.reference<auto>, 
      log_every = 10 : i64} {
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
  %ref = train.load_model "ref" from "llama" {}
  %rm = train.attach "reward_head" "scalar" to %lm {}
  %d = train.load_data "d" from "pairwise" {} splits ["eval", "train"]
  // expected-error @+1 {{'train.stage' op max_prompt_length (512) must lie in [1, max_length (512))}}
  train.stage @s attributes {
      optimizer = #train.optimizer<adamw>, lr = 1.0e-3, optimizer_params = {},
      lr_schedule = #train.lr_schedule<cosine>, lr_final = 0.0, warmup = 0 : i64, batch = 32 : i64,
      micro_batch = 8 : i64, epochs = 1.0, precision = #train.precision<auto>,
      max_length = 512 : i64, max_prompt_length = 512 : i64, truncation = #train.truncation<right>,
      clip = 1.0, seed = 0 : i64, reference = #train.reference<auto>, 
      log_every = 10 : i64} {
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
  %ref = train.load_model "ref" from "llama" {}
  %rm = train.attach "reward_head" "scalar" to %lm {}
  %d = train.load_data "d" from "pairwise" {} splits ["eval", "train"]
  // expected-error @+1 {{'train.stage' op clip must be a finite number > 0}}
  train.stage @s attributes {
      optimizer = #train.optimizer<adamw>, lr = 1.0e-3, optimizer_params = {},
      lr_schedule = #train.lr_schedule<cosine>, lr_final = 0.0, warmup = 0 : i64, batch = 32 : i64,
      micro_batch = 8 : i64, epochs = 1.0, precision = #train.precision<auto>,
      max_length = 512 : i64, max_prompt_length = 256 : i64, truncation = #train.truncation<right>,
      clip = 0.0, seed = 0 : i64, reference = #train.reference<auto>, 
      log_every = 10 : i64} {
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
  %ref = train.load_model "ref" from "llama" {}
  %rm = train.attach "reward_head" "scalar" to %lm {}
  %d = train.load_data "d" from "pairwise" {} splits ["eval", "train"]
  // expected-error @+1 {{'train.stage' op seed must be >= 0}}
  train.stage @s attributes {
      optimizer = #train.optimizer<adamw>, lr = 1.0e-3, optimizer_params = {},
      lr_schedule = #train.lr_schedule<cosine>, lr_final = 0.0, warmup = 0 : i64, batch = 32 : i64,
      micro_batch = 8 : i64, epochs = 1.0, precision = #train.precision<auto>,
      max_length = 512 : i64, max_prompt_length = 256 : i64, truncation = #train.truncation<right>,
      clip = 1.0, seed = -1 : i64, reference = #train.reference<auto>, 
      log_every = 10 : i64} {
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
  %ref = train.load_model "ref" from "llama" {}
  %rm = train.attach "reward_head" "scalar" to %lm {}
  %d = train.load_data "d" from "pairwise" {} splits ["eval", "train"]
  // expected-error @+1 {{'train.stage' op log_every must be >= 1}}
  train.stage @s attributes {
      optimizer = #train.optimizer<adamw>, lr = 1.0e-3, optimizer_params = {},
      lr_schedule = #train.lr_schedule<cosine>, lr_final = 0.0, warmup = 0 : i64, batch = 32 : i64,
      micro_batch = 8 : i64, epochs = 1.0, precision = #train.precision<auto>,
      max_length = 512 : i64, max_prompt_length = 256 : i64, truncation = #train.truncation<right>,
      clip = 1.0, seed = 0 : i64, reference = #train.reference<auto>, 
      log_every = 0 : i64} {
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
  %ref = train.load_model "ref" from "llama" {}
  %rm = train.attach "reward_head" "scalar" to %lm {}
  %d = train.load_data "d" from "pairwise" {} splits ["eval", "train"]
  train.stage @s attributes {
      optimizer = #train.optimizer<adamw>, lr = 1.0e-3, optimizer_params = {},
      lr_schedule = #train.lr_schedule<cosine>, lr_final = 0.0, warmup = 0 : i64, batch = 32 : i64,
      micro_batch = 8 : i64, epochs = 1.0, precision = #train.precision<auto>,
      max_length = 512 : i64, max_prompt_length = 256 : i64, truncation = #train.truncation<right>,
      clip = 1.0, seed = 0 : i64, reference = #train.reference<auto>, 
      log_every = 10 : i64} {
    train.step_loop {
      %b = train.batch_fetch %d split "train"
      %h = train.forward %lm, %b
      // expected-error @+1 {{'train.sequence_logprobs' op chunk must be >= 1}}
      %lp = train.sequence_logprobs %lm, %h, %b fused chunk 0
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
  %rm = train.attach "reward_head" "scalar" to %lm {}
  %d = train.load_data "d" from "pairwise" {} splits ["eval", "train"]
  // expected-error @+1 {{'train.stage' op reference 'none' is not a request; leave the attribute out}}
  train.stage @s attributes {
      optimizer = #train.optimizer<adamw>, lr = 1.0e-3, optimizer_params = {},
      lr_schedule = #train.lr_schedule<cosine>, lr_final = 0.0, warmup = 0 : i64, batch = 32 : i64,
      micro_batch = 8 : i64, epochs = 1.0, precision = #train.precision<auto>,
      max_length = 512 : i64, max_prompt_length = 256 : i64, truncation = #train.truncation<right>,
      clip = 1.0, seed = 0 : i64, reference = #train.reference<none>, 
      log_every = 10 : i64} {
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
  %ref = train.load_model "ref" from "llama" {}
  %rm = train.attach "reward_head" "scalar" to %lm {}
  %d = train.load_data "d" from "pairwise" {} splits ["eval", "train"]
  // expected-error @+1 {{'train.stage' op time_limit must be a finite number of seconds > 0}}
  train.stage @s attributes {
      optimizer = #train.optimizer<adamw>, lr = 1.0e-3, optimizer_params = {},
      lr_schedule = #train.lr_schedule<cosine>, lr_final = 0.0, warmup = 0 : i64, batch = 32 : i64,
      micro_batch = 8 : i64, epochs = 1.0, precision = #train.precision<auto>,
      max_length = 512 : i64, max_prompt_length = 256 : i64, truncation = #train.truncation<right>,
      clip = 1.0, seed = 0 : i64, reference = #train.reference<auto>, 
      log_every = 10 : i64, time_limit = 0.0} {
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
  %ref = train.load_model "ref" from "llama" {}
  %rm = train.attach "reward_head" "scalar" to %lm {}
  %d = train.load_data "d" from "pairwise" {} splits ["eval", "train"]
  // expected-error @+1 {{'train.stage' op must hold exactly one 'train.step_loop', 'train.em_loop' or 'train.rsf_loop', found 0}}
  train.stage @s attributes {
      optimizer = #train.optimizer<adamw>, lr = 1.0e-3, optimizer_params = {},
      lr_schedule = #train.lr_schedule<cosine>, lr_final = 0.0, warmup = 0 : i64, batch = 32 : i64,
      micro_batch = 8 : i64, epochs = 1.0, precision = #train.precision<auto>,
      max_length = 512 : i64, max_prompt_length = 256 : i64, truncation = #train.truncation<right>,
      clip = 1.0, seed = 0 : i64, reference = #train.reference<auto>, 
      log_every = 10 : i64} {
    train.save_checkpoint %lm
  }
}

// -----

train.program @p {
  %lm = train.load_model "lm" from "llama" {}
  %ref = train.load_model "ref" from "llama" {}
  %rm = train.attach "reward_head" "scalar" to %lm {}
  %d = train.load_data "d" from "pairwise" {} splits ["eval", "train"]
  // expected-error @+1 {{'train.stage' op must hold exactly one 'train.step_loop', 'train.em_loop' or 'train.rsf_loop', found 2}}
  train.stage @s attributes {
      optimizer = #train.optimizer<adamw>, lr = 1.0e-3, optimizer_params = {},
      lr_schedule = #train.lr_schedule<cosine>, lr_final = 0.0, warmup = 0 : i64, batch = 32 : i64,
      micro_batch = 8 : i64, epochs = 1.0, precision = #train.precision<auto>,
      max_length = 512 : i64, max_prompt_length = 256 : i64, truncation = #train.truncation<right>,
      clip = 1.0, seed = 0 : i64, reference = #train.reference<auto>, 
      log_every = 10 : i64} {
    train.step_loop {
      %b = train.batch_fetch %d split "train"
      %h = train.forward %lm, %b
      %lp = train.sequence_logprobs %lm, %h, %b
      %l = train.loss nll %lp {} : !train.logprobs
      train.backward %l
      train.optimizer_step %lm
    }
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
  %ref = train.load_model "ref" from "llama" {}
  %rm = train.attach "reward_head" "scalar" to %lm {}
  %d = train.load_data "d" from "pairwise" {} splits ["eval", "train"]
  // expected-error @+1 {{'train.stage' op init_from @base is not a stage of this program}}
  train.stage @s init_from @base attributes {
      optimizer = #train.optimizer<adamw>, lr = 1.0e-3, optimizer_params = {},
      lr_schedule = #train.lr_schedule<cosine>, lr_final = 0.0, warmup = 0 : i64, batch = 32 : i64,
      micro_batch = 8 : i64, epochs = 1.0, precision = #train.precision<auto>,
      max_length = 512 : i64, max_prompt_length = 256 : i64, truncation = #train.truncation<right>,
      clip = 1.0, seed = 0 : i64, reference = #train.reference<auto>, 
      log_every = 10 : i64} {
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
  %ref = train.load_model "ref" from "llama" {}
  %rm = train.attach "reward_head" "scalar" to %lm {}
  %d = train.load_data "d" from "pairwise" {} splits ["eval", "train"]
  // expected-error @+1 {{'train.stage' op init_from @s names the stage itself}}
  train.stage @s init_from @s attributes {
      optimizer = #train.optimizer<adamw>, lr = 1.0e-3, optimizer_params = {},
      lr_schedule = #train.lr_schedule<cosine>, lr_final = 0.0, warmup = 0 : i64, batch = 32 : i64,
      micro_batch = 8 : i64, epochs = 1.0, precision = #train.precision<auto>,
      max_length = 512 : i64, max_prompt_length = 256 : i64, truncation = #train.truncation<right>,
      clip = 1.0, seed = 0 : i64, reference = #train.reference<auto>, 
      log_every = 10 : i64} {
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
  %ref = train.load_model "ref" from "llama" {}
  %rm = train.attach "reward_head" "scalar" to %lm {}
  %d = train.load_data "d" from "pairwise" {} splits ["eval", "train"]
  // expected-error @+1 {{'train.stage' op init_from @b is not an earlier stage}}
  train.stage @a init_from @b attributes {
      optimizer = #train.optimizer<adamw>, lr = 1.0e-3, optimizer_params = {},
      lr_schedule = #train.lr_schedule<cosine>, lr_final = 0.0, warmup = 0 : i64, batch = 32 : i64,
      micro_batch = 8 : i64, epochs = 1.0, precision = #train.precision<auto>,
      max_length = 512 : i64, max_prompt_length = 256 : i64, truncation = #train.truncation<right>,
      clip = 1.0, seed = 0 : i64, reference = #train.reference<auto>, 
      log_every = 10 : i64} {
    train.step_loop {
      %b = train.batch_fetch %d split "train"
      %h = train.forward %lm, %b
      %lp = train.sequence_logprobs %lm, %h, %b
      %l = train.loss nll %lp {} : !train.logprobs
      train.backward %l
      train.optimizer_step %lm
    }
  }
  train.stage @b attributes {
      optimizer = #train.optimizer<adamw>, lr = 1.0e-3, optimizer_params = {},
      lr_schedule = #train.lr_schedule<cosine>, lr_final = 0.0, warmup = 0 : i64, batch = 32 : i64,
      micro_batch = 8 : i64, epochs = 1.0, precision = #train.precision<auto>,
      max_length = 512 : i64, max_prompt_length = 256 : i64, truncation = #train.truncation<right>,
      clip = 1.0, seed = 0 : i64, reference = #train.reference<auto>, 
      log_every = 10 : i64} {
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
  %ref = train.load_model "ref" from "llama" {}
  %rm = train.attach "reward_head" "scalar" to %lm {}
  %d = train.load_data "d" from "pairwise" {} splits ["eval", "train"]
  // expected-error @+1 {{'train.attach' op role 'head' is not one of: reward_head, users, adapter, direction}}
  %x = train.attach "head" "scalar" to %lm {}
}

// -----

train.program @p {
  %lm = train.load_model "lm" from "llama" {}
  %ref = train.load_model "ref" from "llama" {}
  %rm = train.attach "reward_head" "scalar" to %lm {}
  %d = train.load_data "d" from "pairwise" {} splits ["eval", "train"]
  // expected-error @+1 {{'train.load_data' op lists split 'eval' twice}}
  %x = train.load_data "x" from "sft" {} splits ["eval", "train", "eval"]
}

// -----

train.program @p {
  %lm = train.load_model "lm" from "llama" {}
  %ref = train.load_model "ref" from "llama" {}
  %rm = train.attach "reward_head" "scalar" to %lm {}
  %d = train.load_data "d" from "pairwise" {} splits ["eval", "train"]
  // expected-error @+1 {{'train.load_data' op has a split with an empty name}}
  %x = train.load_data "x" from "sft" {} splits [""]
}

// -----

train.program @p {
  %lm = train.load_model "lm" from "llama" {}
  %ref = train.load_model "ref" from "llama" {}
  %rm = train.attach "reward_head" "scalar" to %lm {}
  %d = train.load_data "d" from "pairwise" {} splits ["eval", "train"]
  // expected-error @+1 {{'train.evaluate' op metric 'bleu' is unknown}}
  train.evaluate "bleu" %lm on %d {}
}

// -----

train.program @p {
  %lm = train.load_model "lm" from "llama" {}
  %ref = train.load_model "ref" from "llama" {}
  %rm = train.attach "reward_head" "scalar" to %lm {}
  %d = train.load_data "d" from "pairwise" {} splits ["eval", "train"]
  // expected-error @+1 {{'train.evaluate' op cannot break a metric down by 'country'}}
  train.evaluate "accuracy" by "country" %lm on %d {}
}

// -----

train.program @p {
  %lm = train.load_model "lm" from "llama" {}
  %ref = train.load_model "ref" from "llama" {}
  %rm = train.attach "reward_head" "scalar" to %lm {}
  %d = train.load_data "d" from "pairwise" {} splits ["eval", "train"]
  // expected-error @+1 {{'train.evaluate' op data 'd' has no split 'test'}}
  train.evaluate "accuracy" %lm on %d split "test" {}
}

// -----

train.program @p {
  %lm = train.load_model "lm" from "llama" {}
  %ref = train.load_model "ref" from "llama" {}
  %rm = train.attach "reward_head" "scalar" to %lm {}
  %d = train.load_data "d" from "pairwise" {} splits ["eval", "train"]
  train.stage @s attributes {
      optimizer = #train.optimizer<adamw>, lr = 1.0e-3, optimizer_params = {},
      lr_schedule = #train.lr_schedule<cosine>, lr_final = 0.0, warmup = 0 : i64, batch = 32 : i64,
      micro_batch = 8 : i64, epochs = 1.0, precision = #train.precision<auto>,
      max_length = 512 : i64, max_prompt_length = 256 : i64, truncation = #train.truncation<right>,
      clip = 1.0, seed = 0 : i64, reference = #train.reference<auto>, 
      log_every = 10 : i64} {
    train.step_loop {
      %b = train.batch_fetch %d split "train"
      %h = train.forward %lm, %b
      %lp = train.sequence_logprobs %lm, %h, %b
      %l = train.loss nll %lp {} : !train.logprobs
      train.backward %l
      train.optimizer_step %lm
    }
    // expected-error @+1 {{'train.evaluate' op every_steps must be >= 1}}
    train.evaluate "loss" %lm on %d split "eval" every_steps 0 {}
  }
}

// -----

train.program @p {
  %lm = train.load_model "lm" from "llama" {}
  %ref = train.load_model "ref" from "llama" {}
  %rm = train.attach "reward_head" "scalar" to %lm {}
  %d = train.load_data "d" from "pairwise" {} splits ["eval", "train"]
  train.stage @s attributes {
      optimizer = #train.optimizer<adamw>, lr = 1.0e-3, optimizer_params = {},
      lr_schedule = #train.lr_schedule<cosine>, lr_final = 0.0, warmup = 0 : i64, batch = 32 : i64,
      micro_batch = 8 : i64, epochs = 1.0, precision = #train.precision<auto>,
      max_length = 512 : i64, max_prompt_length = 256 : i64, truncation = #train.truncation<right>,
      clip = 1.0, seed = 0 : i64, reference = #train.reference<auto>, 
      log_every = 10 : i64} {
    train.step_loop {
      %b = train.batch_fetch %d split "train"
      %h = train.forward %lm, %b
      %lp = train.sequence_logprobs %lm, %h, %b
      %l = train.loss nll %lp {} : !train.logprobs
      train.backward %l
      train.optimizer_step %lm
    }
    // expected-error @+1 {{'train.save_checkpoint' op sets both every_steps and every_seconds}}
    train.save_checkpoint %lm every_steps 10 every_seconds 60.0
  }
}

// -----

train.program @p {
  %lm = train.load_model "lm" from "llama" {}
  %ref = train.load_model "ref" from "llama" {}
  %rm = train.attach "reward_head" "scalar" to %lm {}
  %d = train.load_data "d" from "pairwise" {} splits ["eval", "train"]
  train.stage @s attributes {
      optimizer = #train.optimizer<adamw>, lr = 1.0e-3, optimizer_params = {},
      lr_schedule = #train.lr_schedule<cosine>, lr_final = 0.0, warmup = 0 : i64, batch = 32 : i64,
      micro_batch = 8 : i64, epochs = 1.0, precision = #train.precision<auto>,
      max_length = 512 : i64, max_prompt_length = 256 : i64, truncation = #train.truncation<right>,
      clip = 1.0, seed = 0 : i64, reference = #train.reference<auto>, 
      log_every = 10 : i64} {
    train.step_loop {
      %b = train.batch_fetch %d split "train"
      %h = train.forward %lm, %b
      %lp = train.sequence_logprobs %lm, %h, %b
      %l = train.loss nll %lp {} : !train.logprobs
      train.backward %l
      train.optimizer_step %lm
    }
    // expected-error @+1 {{'train.save_checkpoint' op every_steps must be >= 1}}
    train.save_checkpoint %lm every_steps 0
  }
}

// -----

train.program @p {
  %lm = train.load_model "lm" from "llama" {}
  %ref = train.load_model "ref" from "llama" {}
  %rm = train.attach "reward_head" "scalar" to %lm {}
  %d = train.load_data "d" from "pairwise" {} splits ["eval", "train"]
  train.stage @s attributes {
      optimizer = #train.optimizer<adamw>, lr = 1.0e-3, optimizer_params = {},
      lr_schedule = #train.lr_schedule<cosine>, lr_final = 0.0, warmup = 0 : i64, batch = 32 : i64,
      micro_batch = 8 : i64, epochs = 1.0, precision = #train.precision<auto>,
      max_length = 512 : i64, max_prompt_length = 256 : i64, truncation = #train.truncation<right>,
      clip = 1.0, seed = 0 : i64, reference = #train.reference<auto>, 
      log_every = 10 : i64} {
    train.step_loop {
      %b = train.batch_fetch %d split "train"
      %h = train.forward %lm, %b
      %lp = train.sequence_logprobs %lm, %h, %b
      %l = train.loss nll %lp {} : !train.logprobs
      train.backward %l
      train.optimizer_step %lm
    }
    // expected-error @+1 {{'train.save_checkpoint' op every_seconds must be a finite number > 0}}
    train.save_checkpoint %lm every_seconds -1.0
  }
}

// -----

train.program @p {
  %lm = train.load_model "lm" from "llama" {}
  %ref = train.load_model "ref" from "llama" {}
  %rm = train.attach "reward_head" "scalar" to %lm {}
  %d = train.load_data "d" from "pairwise" {} splits ["eval", "train"]
  // expected-error @+1 {{'train.save_checkpoint' op expects parent op 'train.stage'}}
  train.save_checkpoint %lm
}

// -----

train.program @p {
  %lm = train.load_model "lm" from "llama" {}
  %ref = train.load_model "ref" from "llama" {}
  %rm = train.attach "reward_head" "scalar" to %lm {}
  %d = train.load_data "d" from "pairwise" {} splits ["eval", "train"]
  train.stage @s0 attributes {
      optimizer = #train.optimizer<adamw>, lr = 1.0e-3, optimizer_params = {},
      lr_schedule = #train.lr_schedule<cosine>, lr_final = 0.0, warmup = 0 : i64, batch = 32 : i64,
      micro_batch = 8 : i64, epochs = 1.0, precision = #train.precision<auto>,
      max_length = 512 : i64, max_prompt_length = 256 : i64, truncation = #train.truncation<right>,
      clip = 1.0, seed = 0 : i64, reference = #train.reference<auto>, 
      log_every = 10 : i64} {
    train.step_loop {
      %b = train.batch_fetch %d split "train"
      %h = train.forward %lm, %b
      %lp = train.sequence_logprobs %lm, %h, %b
      %l = train.loss nll %lp {} : !train.logprobs
      train.backward %l
      train.optimizer_step %lm
    }
  }
  train.stage @s1 init_from @s0 attributes {
      optimizer = #train.optimizer<adamw>, lr = 1.0e-3, optimizer_params = {},
      lr_schedule = #train.lr_schedule<cosine>, lr_final = 0.0, warmup = 0 : i64, batch = 32 : i64,
      micro_batch = 8 : i64, epochs = 1.0, precision = #train.precision<auto>,
      max_length = 512 : i64, max_prompt_length = 256 : i64, truncation = #train.truncation<right>,
      clip = 1.0, seed = 0 : i64, reference = #train.reference<auto>, 
      log_every = 10 : i64} {
    // expected-error @+1 {{'train.em_loop' op iterations and types must be >= 1}}
    train.em_loop attributes {iterations = 0 : i64, types = 4 : i64, restart = true, e_step = #train.e_step<full>, folds = 2 : i64, policies = #train.policies<lora>} {
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
}

// -----

train.program @p {
  %lm = train.load_model "lm" from "llama" {}
  %ref = train.load_model "ref" from "llama" {}
  %rm = train.attach "reward_head" "scalar" to %lm {}
  %d = train.load_data "d" from "pairwise" {} splits ["eval", "train"]
  train.stage @s0 attributes {
      optimizer = #train.optimizer<adamw>, lr = 1.0e-3, optimizer_params = {},
      lr_schedule = #train.lr_schedule<cosine>, lr_final = 0.0, warmup = 0 : i64, batch = 32 : i64,
      micro_batch = 8 : i64, epochs = 1.0, precision = #train.precision<auto>,
      max_length = 512 : i64, max_prompt_length = 256 : i64, truncation = #train.truncation<right>,
      clip = 1.0, seed = 0 : i64, reference = #train.reference<auto>, 
      log_every = 10 : i64} {
    train.step_loop {
      %b = train.batch_fetch %d split "train"
      %h = train.forward %lm, %b
      %lp = train.sequence_logprobs %lm, %h, %b
      %l = train.loss nll %lp {} : !train.logprobs
      train.backward %l
      train.optimizer_step %lm
    }
  }
  train.stage @s1 init_from @s0 attributes {
      optimizer = #train.optimizer<adamw>, lr = 1.0e-3, optimizer_params = {},
      lr_schedule = #train.lr_schedule<cosine>, lr_final = 0.0, warmup = 0 : i64, batch = 32 : i64,
      micro_batch = 8 : i64, epochs = 1.0, precision = #train.precision<auto>,
      max_length = 512 : i64, max_prompt_length = 256 : i64, truncation = #train.truncation<right>,
      clip = 1.0, seed = 0 : i64, reference = #train.reference<auto>, 
      log_every = 10 : i64} {
    // A member the registry's EStepKind does not have cannot even be written.
    // expected-error @+2 {{expected ::align::train::EStepKind to be one of: full, cross_fit}}
    // expected-error @+1 {{failed to parse Train_EStepKindAttr parameter 'value'}}
    train.em_loop attributes {iterations = 5 : i64, types = 4 : i64, restart = true, e_step = #train.e_step<half>, folds = 2 : i64, policies = #train.policies<lora>} {
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
}

// -----

train.program @p {
  %lm = train.load_model "lm" from "llama" {}
  %ref = train.load_model "ref" from "llama" {}
  %rm = train.attach "reward_head" "scalar" to %lm {}
  %d = train.load_data "d" from "pairwise" {} splits ["eval", "train"]
  train.stage @s0 attributes {
      optimizer = #train.optimizer<adamw>, lr = 1.0e-3, optimizer_params = {},
      lr_schedule = #train.lr_schedule<cosine>, lr_final = 0.0, warmup = 0 : i64, batch = 32 : i64,
      micro_batch = 8 : i64, epochs = 1.0, precision = #train.precision<auto>,
      max_length = 512 : i64, max_prompt_length = 256 : i64, truncation = #train.truncation<right>,
      clip = 1.0, seed = 0 : i64, reference = #train.reference<auto>, 
      log_every = 10 : i64} {
    train.step_loop {
      %b = train.batch_fetch %d split "train"
      %h = train.forward %lm, %b
      %lp = train.sequence_logprobs %lm, %h, %b
      %l = train.loss nll %lp {} : !train.logprobs
      train.backward %l
      train.optimizer_step %lm
    }
  }
  train.stage @s1 init_from @s0 attributes {
      optimizer = #train.optimizer<adamw>, lr = 1.0e-3, optimizer_params = {},
      lr_schedule = #train.lr_schedule<cosine>, lr_final = 0.0, warmup = 0 : i64, batch = 32 : i64,
      micro_batch = 8 : i64, epochs = 1.0, precision = #train.precision<auto>,
      max_length = 512 : i64, max_prompt_length = 256 : i64, truncation = #train.truncation<right>,
      clip = 1.0, seed = 0 : i64, reference = #train.reference<auto>, 
      log_every = 10 : i64} {
    // expected-error @+1 {{'train.em_loop' op folds must be >= 2}}
    train.em_loop attributes {iterations = 5 : i64, types = 4 : i64, restart = true, e_step = #train.e_step<cross_fit>, folds = 1 : i64, policies = #train.policies<lora>} {
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
}

// -----

train.program @p {
  %lm = train.load_model "lm" from "llama" {}
  %ref = train.load_model "ref" from "llama" {}
  %rm = train.attach "reward_head" "scalar" to %lm {}
  %d = train.load_data "d" from "pairwise" {} splits ["eval", "train"]
  train.stage @s0 attributes {
      optimizer = #train.optimizer<adamw>, lr = 1.0e-3, optimizer_params = {},
      lr_schedule = #train.lr_schedule<cosine>, lr_final = 0.0, warmup = 0 : i64, batch = 32 : i64,
      micro_batch = 8 : i64, epochs = 1.0, precision = #train.precision<auto>,
      max_length = 512 : i64, max_prompt_length = 256 : i64, truncation = #train.truncation<right>,
      clip = 1.0, seed = 0 : i64, reference = #train.reference<auto>, 
      log_every = 10 : i64} {
    train.step_loop {
      %b = train.batch_fetch %d split "train"
      %h = train.forward %lm, %b
      %lp = train.sequence_logprobs %lm, %h, %b
      %l = train.loss nll %lp {} : !train.logprobs
      train.backward %l
      train.optimizer_step %lm
    }
  }
  train.stage @s1 attributes {
      optimizer = #train.optimizer<adamw>, lr = 1.0e-3, optimizer_params = {},
      lr_schedule = #train.lr_schedule<cosine>, lr_final = 0.0, warmup = 0 : i64, batch = 32 : i64,
      micro_batch = 8 : i64, epochs = 1.0, precision = #train.precision<auto>,
      max_length = 512 : i64, max_prompt_length = 256 : i64, truncation = #train.truncation<right>,
      clip = 1.0, seed = 0 : i64, reference = #train.reference<auto>, 
      log_every = 10 : i64} {
    // expected-error @+1 {{'train.em_loop' op restarts each M-step, but its stage has no init_from}}
    train.em_loop attributes {iterations = 5 : i64, types = 4 : i64, restart = true, e_step = #train.e_step<full>, folds = 2 : i64, policies = #train.policies<lora>} {
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
}

// -----

train.program @p {
  %lm = train.load_model "lm" from "llama" {}
  %ref = train.load_model "ref" from "llama" {}
  %rm = train.attach "reward_head" "scalar" to %lm {}
  %d = train.load_data "d" from "pairwise" {} splits ["eval", "train"]
  train.stage @s0 attributes {
      optimizer = #train.optimizer<adamw>, lr = 1.0e-3, optimizer_params = {},
      lr_schedule = #train.lr_schedule<cosine>, lr_final = 0.0, warmup = 0 : i64, batch = 32 : i64,
      micro_batch = 8 : i64, epochs = 1.0, precision = #train.precision<auto>,
      max_length = 512 : i64, max_prompt_length = 256 : i64, truncation = #train.truncation<right>,
      clip = 1.0, seed = 0 : i64, reference = #train.reference<auto>, 
      log_every = 10 : i64} {
    train.step_loop {
      %b = train.batch_fetch %d split "train"
      %h = train.forward %lm, %b
      %lp = train.sequence_logprobs %lm, %h, %b
      %l = train.loss nll %lp {} : !train.logprobs
      train.backward %l
      train.optimizer_step %lm
    }
  }
  train.stage @s1 init_from @s0 attributes {
      optimizer = #train.optimizer<adamw>, lr = 1.0e-3, optimizer_params = {},
      lr_schedule = #train.lr_schedule<cosine>, lr_final = 0.0, warmup = 0 : i64, batch = 32 : i64,
      micro_batch = 8 : i64, epochs = 1.0, precision = #train.precision<auto>,
      max_length = 512 : i64, max_prompt_length = 256 : i64, truncation = #train.truncation<right>,
      clip = 1.0, seed = 0 : i64, reference = #train.reference<auto>, 
      log_every = 10 : i64} {
    // expected-error @+1 {{'train.em_loop' op must hold exactly one 'train.step_loop' (the M-step)}}
    train.em_loop attributes {iterations = 5 : i64, types = 4 : i64, restart = false, e_step = #train.e_step<full>, folds = 2 : i64, policies = #train.policies<lora>} {
  %p = train.batch_fetch %d split "train"
    }
  }
}

// -----

train.program @p {
  %lm = train.load_model "lm" from "llama" {}
  %ref = train.load_model "ref" from "llama" {}
  %rm = train.attach "reward_head" "scalar" to %lm {}
  %d = train.load_data "d" from "pairwise" {} splits ["eval", "train"]
  train.stage @s attributes {
      optimizer = #train.optimizer<adamw>, lr = 1.0e-3, optimizer_params = {},
      lr_schedule = #train.lr_schedule<cosine>, lr_final = 0.0, warmup = 0 : i64, batch = 32 : i64,
      micro_batch = 8 : i64, epochs = 1.0, precision = #train.precision<auto>,
      max_length = 512 : i64, max_prompt_length = 256 : i64, truncation = #train.truncation<right>,
      clip = 1.0, seed = 0 : i64, reference = #train.reference<auto>, 
      log_every = 10 : i64} {
    // expected-error @+1 {{'train.rsf_loop' op iterations must be >= 1}}
    train.rsf_loop attributes {iterations = 0 : i64} {
      %p = train.batch_fetch %d split "train"
      %g = train.generate %lm, %p {samples = 8 : i64, temperature = 0.5, max_new_tokens = 64 : i64}
      %s = train.score %rm, %g : !train.samples
      %best = train.select_best %g, %s
        train.step_loop {
          %b = train.batch_fetch %best
          %h = train.forward %lm, %b
          %lp = train.sequence_logprobs %lm, %h, %b
          %l = train.loss nll %lp {} : !train.logprobs
          train.backward %l
          train.optimizer_step %lm
        }
    }
  }
}

// -----

train.program @p {
  %lm = train.load_model "lm" from "llama" {}
  %ref = train.load_model "ref" from "llama" {}
  %rm = train.attach "reward_head" "scalar" to %lm {}
  %d = train.load_data "d" from "pairwise" {} splits ["eval", "train"]
  train.stage @s attributes {
      optimizer = #train.optimizer<adamw>, lr = 1.0e-3, optimizer_params = {},
      lr_schedule = #train.lr_schedule<cosine>, lr_final = 0.0, warmup = 0 : i64, batch = 32 : i64,
      micro_batch = 8 : i64, epochs = 1.0, precision = #train.precision<auto>,
      max_length = 512 : i64, max_prompt_length = 256 : i64, truncation = #train.truncation<right>,
      clip = 1.0, seed = 0 : i64, reference = #train.reference<auto>, 
      log_every = 10 : i64} {
    // expected-error @+1 {{'train.rsf_loop' op prompts_per_iteration must be >= 1}}
    train.rsf_loop attributes {iterations = 4 : i64, prompts_per_iteration = 0 : i64} {
      %p = train.batch_fetch %d split "train"
      %g = train.generate %lm, %p {samples = 8 : i64, temperature = 0.5, max_new_tokens = 64 : i64}
      %s = train.score %rm, %g : !train.samples
      %best = train.select_best %g, %s
        train.step_loop {
          %b = train.batch_fetch %best
          %h = train.forward %lm, %b
          %lp = train.sequence_logprobs %lm, %h, %b
          %l = train.loss nll %lp {} : !train.logprobs
          train.backward %l
          train.optimizer_step %lm
        }
    }
  }
}

// -----

train.program @p {
  %lm = train.load_model "lm" from "llama" {}
  %ref = train.load_model "ref" from "llama" {}
  %rm = train.attach "reward_head" "scalar" to %lm {}
  %d = train.load_data "d" from "pairwise" {} splits ["eval", "train"]
  train.stage @s attributes {
      optimizer = #train.optimizer<adamw>, lr = 1.0e-3, optimizer_params = {},
      lr_schedule = #train.lr_schedule<cosine>, lr_final = 0.0, warmup = 0 : i64, batch = 32 : i64,
      micro_batch = 8 : i64, epochs = 1.0, precision = #train.precision<auto>,
      max_length = 512 : i64, max_prompt_length = 256 : i64, truncation = #train.truncation<right>,
      clip = 1.0, seed = 0 : i64, reference = #train.reference<auto>, 
      log_every = 10 : i64} {
    // expected-error @+1 {{'train.rsf_loop' op must generate samples and then fine-tune on them in a 'train.step_loop'}}
    train.rsf_loop attributes {iterations = 4 : i64} {
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
}

// -----

train.program @p {
  %lm = train.load_model "lm" from "llama" {}
  %ref = train.load_model "ref" from "llama" {}
  %rm = train.attach "reward_head" "scalar" to %lm {}
  %d = train.load_data "d" from "pairwise" {} splits ["eval", "train"]
  train.stage @s attributes {
      optimizer = #train.optimizer<adamw>, lr = 1.0e-3, optimizer_params = {},
      lr_schedule = #train.lr_schedule<cosine>, lr_final = 0.0, warmup = 0 : i64, batch = 32 : i64,
      micro_batch = 8 : i64, epochs = 1.0, precision = #train.precision<auto>,
      max_length = 512 : i64, max_prompt_length = 256 : i64, truncation = #train.truncation<right>,
      clip = 1.0, seed = 0 : i64, reference = #train.reference<auto>, 
      log_every = 10 : i64} {
    // expected-error @+1 {{'train.rsf_loop' op generates more than once per iteration}}
    train.rsf_loop attributes {iterations = 4 : i64} {
      %p = train.batch_fetch %d split "train"
      %g = train.generate %lm, %p {samples = 8 : i64, temperature = 0.5, max_new_tokens = 64 : i64}
      %g2 = train.generate %lm, %p {samples = 8 : i64, temperature = 0.5, max_new_tokens = 64 : i64}
      %s = train.score %rm, %g : !train.samples
      %best = train.select_best %g, %s
        train.step_loop {
          %b = train.batch_fetch %best
          %h = train.forward %lm, %b
          %lp = train.sequence_logprobs %lm, %h, %b
          %l = train.loss nll %lp {} : !train.logprobs
          train.backward %l
          train.optimizer_step %lm
        }
    }
  }
}

// -----

train.program @p {
  %lm = train.load_model "lm" from "llama" {}
  %ref = train.load_model "ref" from "llama" {}
  %rm = train.attach "reward_head" "scalar" to %lm {}
  %d = train.load_data "d" from "pairwise" {} splits ["eval", "train"]
  train.stage @s attributes {
      optimizer = #train.optimizer<adamw>, lr = 1.0e-3, optimizer_params = {},
      lr_schedule = #train.lr_schedule<cosine>, lr_final = 0.0, warmup = 0 : i64, batch = 32 : i64,
      micro_batch = 8 : i64, epochs = 1.0, precision = #train.precision<auto>,
      max_length = 512 : i64, max_prompt_length = 256 : i64, truncation = #train.truncation<right>,
      clip = 1.0, seed = 0 : i64, reference = #train.reference<auto>, 
      log_every = 10 : i64} {
    // expected-error @+1 {{'train.rsf_loop' op holds more than one 'train.step_loop'}}
    train.rsf_loop attributes {iterations = 4 : i64} {
      %p = train.batch_fetch %d split "train"
      %g = train.generate %lm, %p {samples = 8 : i64, temperature = 0.5, max_new_tokens = 64 : i64}
      %s = train.score %rm, %g : !train.samples
      %best = train.select_best %g, %s
        train.step_loop {
          %b = train.batch_fetch %best
          %h = train.forward %lm, %b
          %lp = train.sequence_logprobs %lm, %h, %b
          %l = train.loss nll %lp {} : !train.logprobs
          train.backward %l
          train.optimizer_step %lm
        }
        train.step_loop {
          %b = train.batch_fetch %best
          %h = train.forward %lm, %b
          %lp = train.sequence_logprobs %lm, %h, %b
          %l = train.loss nll %lp {} : !train.logprobs
          train.backward %l
          train.optimizer_step %lm
        }
    }
  }
}

// -----

train.program @p {
  %lm = train.load_model "lm" from "llama" {}
  %ref = train.load_model "ref" from "llama" {}
  %rm = train.attach "reward_head" "scalar" to %lm {}
  %d = train.load_data "d" from "pairwise" {} splits ["eval", "train"]
  train.stage @s attributes {
      optimizer = #train.optimizer<adamw>, lr = 1.0e-3, optimizer_params = {},
      lr_schedule = #train.lr_schedule<cosine>, lr_final = 0.0, warmup = 0 : i64, batch = 32 : i64,
      micro_batch = 8 : i64, epochs = 1.0, precision = #train.precision<auto>,
      max_length = 512 : i64, max_prompt_length = 256 : i64, truncation = #train.truncation<right>,
      clip = 1.0, seed = 0 : i64, reference = #train.reference<auto>, 
      log_every = 10 : i64} {
    // expected-error @+1 {{'train.rsf_loop' op must generate before its 'train.step_loop'}}
    train.rsf_loop attributes {iterations = 4 : i64} {
        train.step_loop {
          %b = train.batch_fetch %d split "train"
          %h = train.forward %lm, %b
          %lp = train.sequence_logprobs %lm, %h, %b
          %l = train.loss nll %lp {} : !train.logprobs
          train.backward %l
          train.optimizer_step %lm
        }
      %p = train.batch_fetch %d split "train"
      %g = train.generate %lm, %p {samples = 8 : i64, temperature = 0.5, max_new_tokens = 64 : i64}

    }
  }
}

// -----

train.program @p {
  %lm = train.load_model "lm" from "llama" {}
  %ref = train.load_model "ref" from "llama" {}
  %rm = train.attach "reward_head" "scalar" to %lm {}
  %d = train.load_data "d" from "pairwise" {} splits ["eval", "train"]
  train.stage @s attributes {
      optimizer = #train.optimizer<adamw>, lr = 1.0e-3, optimizer_params = {},
      lr_schedule = #train.lr_schedule<cosine>, lr_final = 0.0, warmup = 0 : i64, batch = 32 : i64,
      micro_batch = 8 : i64, epochs = 1.0, precision = #train.precision<auto>,
      max_length = 512 : i64, max_prompt_length = 256 : i64, truncation = #train.truncation<right>,
      clip = 1.0, seed = 0 : i64, reference = #train.reference<auto>, 
      log_every = 10 : i64} {
    train.step_loop {
      %b = train.batch_fetch %d split "train"
      %h = train.forward %lm, %b
      %lp = train.sequence_logprobs %lm, %h, %b
      %l = train.loss nll %lp {} : !train.logprobs
      train.backward %l
      train.optimizer_step %lm
    }
    %p = train.batch_fetch %d split "train"
    // expected-error @+1 {{'train.generate' op samples must be >= 1}}
    %g = train.generate %lm, %p {samples = 0 : i64, temperature = 0.5, max_new_tokens = 64 : i64}
  }
}

// -----

train.program @p {
  %lm = train.load_model "lm" from "llama" {}
  %ref = train.load_model "ref" from "llama" {}
  %rm = train.attach "reward_head" "scalar" to %lm {}
  %d = train.load_data "d" from "pairwise" {} splits ["eval", "train"]
  train.stage @s attributes {
      optimizer = #train.optimizer<adamw>, lr = 1.0e-3, optimizer_params = {},
      lr_schedule = #train.lr_schedule<cosine>, lr_final = 0.0, warmup = 0 : i64, batch = 32 : i64,
      micro_batch = 8 : i64, epochs = 1.0, precision = #train.precision<auto>,
      max_length = 512 : i64, max_prompt_length = 256 : i64, truncation = #train.truncation<right>,
      clip = 1.0, seed = 0 : i64, reference = #train.reference<auto>, 
      log_every = 10 : i64} {
    train.step_loop {
      %b = train.batch_fetch %d split "train"
      %h = train.forward %lm, %b
      %lp = train.sequence_logprobs %lm, %h, %b
      %l = train.loss nll %lp {} : !train.logprobs
      train.backward %l
      train.optimizer_step %lm
    }
    %p = train.batch_fetch %d split "train"
    // expected-error @+1 {{'train.generate' op temperature must be a finite number > 0}}
    %g = train.generate %lm, %p {samples = 8 : i64, temperature = 0.0, max_new_tokens = 64 : i64}
  }
}

// -----

train.program @p {
  %lm = train.load_model "lm" from "llama" {}
  %ref = train.load_model "ref" from "llama" {}
  %rm = train.attach "reward_head" "scalar" to %lm {}
  %d = train.load_data "d" from "pairwise" {} splits ["eval", "train"]
  train.stage @s attributes {
      optimizer = #train.optimizer<adamw>, lr = 1.0e-3, optimizer_params = {},
      lr_schedule = #train.lr_schedule<cosine>, lr_final = 0.0, warmup = 0 : i64, batch = 32 : i64,
      micro_batch = 8 : i64, epochs = 1.0, precision = #train.precision<auto>,
      max_length = 512 : i64, max_prompt_length = 256 : i64, truncation = #train.truncation<right>,
      clip = 1.0, seed = 0 : i64, reference = #train.reference<auto>, 
      log_every = 10 : i64} {
    train.step_loop {
      %b = train.batch_fetch %d split "train"
      %h = train.forward %lm, %b
      %lp = train.sequence_logprobs %lm, %h, %b
      %l = train.loss nll %lp {} : !train.logprobs
      train.backward %l
      train.optimizer_step %lm
    }
    %p = train.batch_fetch %d split "train"
    // expected-error @+1 {{'train.generate' op max_new_tokens must be >= 1}}
    %g = train.generate %lm, %p {samples = 8 : i64, temperature = 0.5, max_new_tokens = 0 : i64}
  }
}
