// Verifier errors of the ops inside a step loop: agreement with the stage's schedule decisions (pair
// concatenation, fused log-probs and their chunk, the reference strategy) and with each other.
// RUN: align-opt %s -split-input-file -verify-diagnostics

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
      // expected-error @+1 {{'train.batch_fetch' op data 'd' has no split 'test'}}
      %b = train.batch_fetch %d split "test"
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
  %b = train.batch_fetch %d split "train"
  // expected-error @+1 {{'train.forward' op must be inside a 'train.stage'}}
  %h = train.forward %lm, %b
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
      // expected-error @+1 {{'train.sequence_logprobs' op is fused but has no chunk size}}
      %lp = train.sequence_logprobs %lm, %h, %b fused
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
      // expected-error @+1 {{'train.sequence_logprobs' op has a chunk size but is not fused}}
      %lp = train.sequence_logprobs %lm, %h, %b chunk 1024
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
      // expected-error @+1 {{'train.sequence_logprobs' op applies a different model's LM head than the forward that made its hidden states}}
      %lp = train.sequence_logprobs %ref, %h, %b
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
      %b2 = train.batch_fetch %d split "train"
      %h = train.forward %lm, %b
      // expected-error @+1 {{'train.sequence_logprobs' op reads a different batch than the forward that made its hidden states}}
      %lp = train.sequence_logprobs %lm, %h, %b2
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
      clip = 1.0, seed = 0 : i64, reference = #train.reference<online>, 
      log_every = 10 : i64} {
    train.step_loop {
      %b = train.batch_fetch %d split "train"
      %h = train.forward %lm, %b
      %lp = train.sequence_logprobs %lm, %h, %b
      // expected-error @+1 {{'train.reference_logprobs' op is cached, but stage @s's recipe asked for reference: online}}
      %r = train.reference_logprobs %ref, %b cached
      %l = train.loss dpo %lp against %r {} : !train.logprobs
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
      %lp = train.sequence_logprobs %lm, %h, %b
      // expected-error @+1 {{'train.reference_logprobs' op scores with the model the step loop optimizes; a reference is frozen}}
      %r = train.reference_logprobs %lm, %b cached
      %l = train.loss dpo %lp against %r {} : !train.logprobs
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
      %s = train.score %rm, %b : !train.batch
      // expected-error @+1 {{'train.loss' op 'dpo' takes log-probs, not scores}}
      %l = train.loss dpo %s {} : !train.scores
      train.backward %l
      train.optimizer_step %rm
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
      // expected-error @+1 {{'train.loss' op 'bt' takes reward scores, not log-probs}}
      %l = train.loss bt %lp {} : !train.logprobs
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
      %lp = train.sequence_logprobs %lm, %h, %b
      // expected-error @+1 {{'train.loss' op 'dpo' needs reference log-probs}}
      %l = train.loss dpo %lp {} : !train.logprobs
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
      %lp = train.sequence_logprobs %lm, %h, %b
      %r = train.reference_logprobs %ref, %b cached
      // expected-error @+1 {{'train.loss' op 'simpo' takes no reference log-probs}}
      %l = train.loss simpo %lp against %r {} : !train.logprobs
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
      %lp = train.sequence_logprobs %lm, %h, %b
      %r = train.reference_logprobs %ref, %b cached
      // expected-error @+1 {{'train.loss' op 'pdpo' mixes user and generic rows and needs alpha}}
      %l = train.loss pdpo %lp against %r {} : !train.logprobs
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
      %lp = train.sequence_logprobs %lm, %h, %b
      %r = train.reference_logprobs %ref, %b cached
      // expected-error @+1 {{'train.loss' op 'dpo' takes no alpha}}
      %l = train.loss dpo %lp against %r {} alpha 0.5 : !train.logprobs
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
      %lp = train.sequence_logprobs %lm, %h, %b
      %r = train.reference_logprobs %ref, %b cached
      // expected-error @+1 {{'train.loss' op alpha must lie in [0, 1]}}
      %l = train.loss pdpo %lp against %r {} alpha 1.5 : !train.logprobs
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
      %lp = train.sequence_logprobs %lm, %h, %b
      %r = train.reference_logprobs %ref, %b cached
      // expected-error @+1 {{'train.loss' op beta must be > 0}}
      %l = train.loss dpo %lp against %r {beta = 0.0 : f64} : !train.logprobs
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
      %lp = train.sequence_logprobs %lm, %h, %b
      %a = train.loss nll %lp {} : !train.logprobs
      // expected-error @+1 {{'train.loss_sum' op has 1 losses but 2 weights}}
      %l = train.loss_sum %a weights [1.0, 2.0]
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
      %lp = train.sequence_logprobs %lm, %h, %b
      // expected-error @+1 {{'train.loss_sum' op sums no losses}}
      %l = train.loss_sum weights []
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
      %lp = train.sequence_logprobs %lm, %h, %b
      %a = train.loss nll %lp {} : !train.logprobs
      // expected-error @+1 {{'train.loss_sum' op weight #0 is not finite}}
      %l = train.loss_sum %a weights [0x7FF8000000000000]
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
      %lp = train.sequence_logprobs %lm, %h, %b
      %l = train.loss nll %lp {} : !train.logprobs
      train.backward %l
      // expected-error @+1 {{'train.optimizer_step' op optimizes a model that no 'train.forward' or 'train.score' in this step runs}}
      train.optimizer_step %ref
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
    // expected-error @+1 {{'train.step_loop' op must run exactly one 'train.backward' per micro-batch, found 0}}
    train.step_loop {
      %b = train.batch_fetch %d split "train"
      %h = train.forward %lm, %b
      %lp = train.sequence_logprobs %lm, %h, %b
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
    // expected-error @+1 {{'train.step_loop' op must run exactly one 'train.backward' per micro-batch, found 2}}
    train.step_loop {
      %b = train.batch_fetch %d split "train"
      %h = train.forward %lm, %b
      %lp = train.sequence_logprobs %lm, %h, %b
      %l = train.loss nll %lp {} : !train.logprobs
      train.backward %l
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
      %lp = train.sequence_logprobs %lm, %h, %b
      %l = train.loss nll %lp {} : !train.logprobs
      train.backward %l
      train.optimizer_step %lm
    }
    %x = train.batch_fetch %d
    %h = train.forward %lm, %x
    %lp = train.sequence_logprobs %lm, %h, %x
    %l = train.loss nll %lp {} : !train.logprobs
    // expected-error @+1 {{'train.backward' op expects parent op 'train.step_loop'}}
    train.backward %l
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
      // expected-error @+1 {{'train.optimizer_step' op must be the last operation in the parent block}}
      train.optimizer_step %lm
      train.backward %l
    }
  }
}

// -----

// Generic duplicates relabel user rows as user 0: the data must have user ids.
train.program @p {
  %lm = train.load_model "lm" from "llama" {}
  %ref = train.load_model "ref" from "llama" {}
  %pi = train.attach "users" "individual" to %lm {}
  %d = train.load_data "d" from "pairwise" {columns = {chosen = "chosen", prompt = "prompt", rejected = "rejected"}} splits ["train"]
  train.stage @s attributes {
      optimizer = #train.optimizer<adamw>, lr = 1.0e-3, optimizer_params = {},
      lr_schedule = #train.lr_schedule<cosine>, lr_final = 0.0, warmup = 0 : i64, batch = 32 : i64,
      micro_batch = 8 : i64, epochs = 1.0, precision = #train.precision<auto>,
      max_length = 512 : i64, max_prompt_length = 256 : i64, truncation = #train.truncation<right>,
      clip = 1.0, seed = 0 : i64, reference = #train.reference<auto>, 
      log_every = 10 : i64} {
    train.step_loop {
      // expected-error @+1 {{'train.batch_fetch' op duplicates rows as the generic user, but data 'd' has no 'user' column}}
      %b = train.batch_fetch %d split "train" with_generic_duplicates
      %h = train.forward %pi, %b
      %lp = train.sequence_logprobs %pi, %h, %b
      %r = train.reference_logprobs %ref, %b cached
      %l = train.loss pdpo %lp against %r {beta = 0.5 : f64} alpha 0.5 : !train.logprobs
      train.backward %l
      train.optimizer_step %pi
    }
  }
}

// -----

// ... and only a loss that mixes users reads the duplicates.
train.program @p {
  %lm = train.load_model "lm" from "llama" {}
  %ref = train.load_model "ref" from "llama" {}
  %d = train.load_data "d" from "pairwise" {columns = {user = "user_id"}} splits ["train"]
  train.stage @s attributes {
      optimizer = #train.optimizer<adamw>, lr = 1.0e-3, optimizer_params = {},
      lr_schedule = #train.lr_schedule<cosine>, lr_final = 0.0, warmup = 0 : i64, batch = 32 : i64,
      micro_batch = 8 : i64, epochs = 1.0, precision = #train.precision<auto>,
      max_length = 512 : i64, max_prompt_length = 256 : i64, truncation = #train.truncation<right>,
      clip = 1.0, seed = 0 : i64, reference = #train.reference<auto>, 
      log_every = 10 : i64} {
    train.step_loop {
      // expected-error @+1 {{'train.batch_fetch' op duplicates rows as the generic user, but no loss of its step loop mixes users (pdpo, pipo, psimpo, pbt)}}
      %b = train.batch_fetch %d split "train" with_generic_duplicates
      %h = train.forward %lm, %b
      %lp = train.sequence_logprobs %lm, %h, %b
      %r = train.reference_logprobs %ref, %b cached
      %l = train.loss dpo %lp against %r {beta = 0.1 : f64} : !train.logprobs
      train.backward %l
      train.optimizer_step %lm
    }
  }
}
