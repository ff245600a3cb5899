// plan-precision: the cost model chooses the precision of a stage whose recipe says `auto`, from the shape of
// the model it trains. Below hidden size 512 (the tiny preset, hidden 64; small, 256): fp32; at 512 and above (a
// checkpoint's config.json): auto stays, bf16 where the device has it; a shape the compiler cannot see (a
// checkpoint not there yet): auto, saying why. A recipe's own precision is left alone.
// RUN: rm -rf %t && mkdir -p %t/big && echo '{"hidden_size": 768, "num_hidden_layers": 12, "intermediate_size": 2048}' > %t/big/config.json
// RUN: sed -e 's|BIG|%t/big|' -e 's|MISSING|%t/missing|' %s | align-opt -plan-precision | FileCheck %s
// RUN: sed -e 's|BIG|%t/big|' -e 's|MISSING|%t/missing|' %s | align-opt -plan-precision | align-opt -plan-precision | FileCheck %s

train.program @p {
  %tiny = train.load_model "tiny" from "llama" {preset = "tiny", seed = 0 : i64, tokenizer = "tok", tokenizer_kind = "bytes", tokenizer_spec = "bytes"}
  %small = train.load_model "small" from "llama" {preset = "small", seed = 0 : i64, tokenizer = "tok", tokenizer_kind = "bytes", tokenizer_spec = "bytes"}
  %big = train.load_model "big" from "hf" {checkpoint = "BIG", seed = 0 : i64, tokenizer = "tok", tokenizer_kind = "bytes", tokenizer_spec = "bytes"}
  %missing = train.load_model "missing" from "hf" {checkpoint = "MISSING", seed = 0 : i64, tokenizer = "tok", tokenizer_kind = "bytes", tokenizer_spec = "bytes"}
  %rm = train.attach "reward_head" "scalar" to %tiny {}
  %d = train.load_data "d" from "sft" {} splits ["train"]

  // CHECK-LABEL: train.stage @on_tiny attributes
  // CHECK-SAME: planned_for_hidden = 64 : i64, planned_precision = #train.precision<fp32>, precision = #train.precision<auto>, precision_reason = "hidden size 64 (preset tiny) is below 512: {{[^"]*}}"
  train.stage @on_tiny attributes {optimizer = #train.optimizer<adamw>, lr = 1.0e-4, optimizer_params = {}, lr_schedule = #train.lr_schedule<constant>, lr_final = 0.0, warmup = 0 : i64, batch = 8 : i64, micro_batch = 8 : i64, epochs = 1.0, precision = #train.precision<auto>, max_length = 64 : i64, max_prompt_length = 32 : i64, truncation = #train.truncation<right>, clip = 1.0, seed = 0 : i64, log_every = 10 : i64} {
    train.step_loop {
      %b = train.batch_fetch %d split "train"
      %h = train.forward %tiny, %b
      %lp = train.sequence_logprobs %tiny, %h, %b
      %l = train.loss nll %lp {} : !train.logprobs
      train.backward %l
      train.optimizer_step %tiny
    }
  }

  // Through an attached reward head to the model it is on.
  // CHECK-LABEL: train.stage @reward_on_tiny attributes
  // CHECK-SAME: planned_precision = #train.precision<fp32>
  train.stage @reward_on_tiny attributes {optimizer = #train.optimizer<adamw>, lr = 1.0e-4, optimizer_params = {}, lr_schedule = #train.lr_schedule<constant>, lr_final = 0.0, warmup = 0 : i64, batch = 8 : i64, micro_batch = 8 : i64, epochs = 1.0, precision = #train.precision<auto>, max_length = 64 : i64, max_prompt_length = 32 : i64, truncation = #train.truncation<right>, clip = 1.0, seed = 0 : i64, log_every = 10 : i64} {
    train.step_loop {
      %b = train.batch_fetch %d split "train"
      %h = train.forward %rm, %b
      %lp = train.sequence_logprobs %rm, %h, %b
      %l = train.loss nll %lp {} : !train.logprobs
      train.backward %l
      train.optimizer_step %rm
    }
  }

  // CHECK-LABEL: train.stage @on_small attributes
  // CHECK-SAME: planned_precision = #train.precision<fp32>, precision = #train.precision<auto>, precision_reason = "hidden size 256 (preset small) is below 512: {{[^"]*}}the DSP trainer at 256 0.92-1.02x as fast{{[^"]*}}"
  train.stage @on_small attributes {optimizer = #train.optimizer<adamw>, lr = 1.0e-4, optimizer_params = {}, lr_schedule = #train.lr_schedule<constant>, lr_final = 0.0, warmup = 0 : i64, batch = 8 : i64, micro_batch = 8 : i64, epochs = 1.0, precision = #train.precision<auto>, max_length = 64 : i64, max_prompt_length = 32 : i64, truncation = #train.truncation<right>, clip = 1.0, seed = 0 : i64, log_every = 10 : i64} {
    train.step_loop {
      %b = train.batch_fetch %d split "train"
      %h = train.forward %small, %b
      %lp = train.sequence_logprobs %small, %h, %b
      %l = train.loss nll %lp {} : !train.logprobs
      train.backward %l
      train.optimizer_step %small
    }
  }

  // CHECK-LABEL: train.stage @on_checkpoint attributes
  // CHECK-SAME: planned_precision = #train.precision<auto>, precision = #train.precision<auto>, precision_reason = "hidden size 768 ({{.*}}big/config.json) is at least 512
  train.stage @on_checkpoint attributes {optimizer = #train.optimizer<adamw>, lr = 1.0e-4, optimizer_params = {}, lr_schedule = #train.lr_schedule<constant>, lr_final = 0.0, warmup = 0 : i64, batch = 8 : i64, micro_batch = 8 : i64, epochs = 1.0, precision = #train.precision<auto>, max_length = 64 : i64, max_prompt_length = 32 : i64, truncation = #train.truncation<right>, clip = 1.0, seed = 0 : i64, log_every = 10 : i64} {
    train.step_loop {
      %b = train.batch_fetch %d split "train"
      %h = train.forward %big, %b
      %lp = train.sequence_logprobs %big, %h, %b
      %l = train.loss nll %lp {} : !train.logprobs
      train.backward %l
      train.optimizer_step %big
    }
  }

  // CHECK-LABEL: train.stage @on_missing attributes
  // CHECK-SAME: precision_reason = "the model's size is unknown to the compiler (no {{.*}}missing/config.json at compile time): bf16 where
  train.stage @on_missing attributes {optimizer = #train.optimizer<adamw>, lr = 1.0e-4, optimizer_params = {}, lr_schedule = #train.lr_schedule<constant>, lr_final = 0.0, warmup = 0 : i64, batch = 8 : i64, micro_batch = 8 : i64, epochs = 1.0, precision = #train.precision<auto>, max_length = 64 : i64, max_prompt_length = 32 : i64, truncation = #train.truncation<right>, clip = 1.0, seed = 0 : i64, log_every = 10 : i64} {
    train.step_loop {
      %b = train.batch_fetch %d split "train"
      %h = train.forward %missing, %b
      %lp = train.sequence_logprobs %missing, %h, %b
      %l = train.loss nll %lp {} : !train.logprobs
      train.backward %l
      train.optimizer_step %missing
    }
  }

  // The recipe chose: nothing is planned.
  // CHECK-LABEL: train.stage @asked attributes
  // CHECK-NOT: planned_precision
  // CHECK-SAME: precision = #train.precision<bf16>
  // CHECK-NOT: precision_reason
  // CHECK: train.step_loop
  train.stage @asked attributes {optimizer = #train.optimizer<adamw>, lr = 1.0e-4, optimizer_params = {}, lr_schedule = #train.lr_schedule<constant>, lr_final = 0.0, warmup = 0 : i64, batch = 8 : i64, micro_batch = 8 : i64, epochs = 1.0, precision = #train.precision<bf16>, max_length = 64 : i64, max_prompt_length = 32 : i64, truncation = #train.truncation<right>, clip = 1.0, seed = 0 : i64, log_every = 10 : i64} {
    train.step_loop {
      %b = train.batch_fetch %d split "train"
      %h = train.forward %tiny, %b
      %lp = train.sequence_logprobs %tiny, %h, %b
      %l = train.loss nll %lp {} : !train.logprobs
      train.backward %l
      train.optimizer_step %tiny
    }
  }
}
