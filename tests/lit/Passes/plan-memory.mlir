// plan-memory: the cost model fits each stage's step to its memory budget. For a 134M model (a checkpoint's
// config.json, 134.1M parameters P) training DPO pairs of 2 x 512 tokens with an online frozen reference, fused
// head (chunk 1024) and bf16 possible: the state is 22 P bytes (weights 4, gradients 4, Adam 8, the reference 4,
// bf16 copies 2) + 512 MiB runtime + the head's block (8 x 1024 x 32000) = 3.49 GiB; every example keeps
// 1024 tokens x (12 layers x 0.9 x (80 x 768 + 16 x 2048) + 4 x 768) = 0.97 GiB of activations, or, recomputing,
// 1024 x (12 x 4 x 768 + 4 x 768) + 4 layers' 1024 x 84787 = 0.36 GiB. So 8 GiB takes the recipe's micro-batch 4
// with activations kept (7.38 GiB), 6 GiB micro-batch 2 (5.44), 4.25 GiB needs recomputation (keeping, one
// example needs 4.47; recomputing, 2 fit in 4.21), and 3 GiB fits nothing: the smallest step, saying so. The
// recipe's `activations:` is kept, and a shape the compiler cannot see keeps the recipe's values.
// RUN: rm -rf %t && mkdir -p %t/big && echo '{"hidden_size": 768, "num_hidden_layers": 12, "intermediate_size": 2048, "num_attention_heads": 12, "num_key_value_heads": 12, "vocab_size": 32000}' > %t/big/config.json
// RUN: sed -e 's|BIG|%t/big|' -e 's|MISSING|%t/missing|' %s | align-opt -plan-memory | FileCheck %s
// Without `memory:` the budget is the pass option's (else the machine's); planning twice changes nothing.
// RUN: sed -e 's|BIG|%t/big|' -e 's|MISSING|%t/missing|' %s | align-opt -plan-memory="memory=5368709120" | FileCheck %s --check-prefix=OPTION
// RUN: sed -e 's|BIG|%t/big|' -e 's|MISSING|%t/missing|' %s | align-opt -plan-memory | align-opt -plan-memory | FileCheck %s

train.program @p {
  %big = train.load_model "big" from "hf" {checkpoint = "BIG", seed = 0 : i64, tokenizer = "tok", tokenizer_kind = "bytes", tokenizer_spec = "bytes"}
  %ref = train.load_model "ref" from "hf" {checkpoint = "BIG", seed = 0 : i64, tokenizer = "tok", tokenizer_kind = "bytes", tokenizer_spec = "bytes"}
  %missing = train.load_model "missing" from "hf" {checkpoint = "MISSING", seed = 0 : i64, tokenizer = "tok", tokenizer_kind = "bytes", tokenizer_spec = "bytes"}
  %d = train.load_data "d" from "pairwise" {} splits ["train"]

  // CHECK-LABEL: train.stage @fits attributes
  // CHECK-SAME: memory_reason = "a step of micro-batch 4 (2 x 512 tokens per example) with activations keep needs about 7.38GiB of the schedule's memory (8GiB)"
  // CHECK-SAME: planned_activations = #train.activations<keep>
  // CHECK-SAME: planned_micro_batch = 4 : i64
  train.stage @fits attributes {optimizer = #train.optimizer<adamw>, lr = 1.0e-4, optimizer_params = {}, lr_schedule = #train.lr_schedule<constant>, lr_final = 0.0, warmup = 0 : i64, batch = 8 : i64, micro_batch = 4 : i64, epochs = 1.0, precision = #train.precision<auto>, memory = 8589934592 : i64, max_length = 512 : i64, max_prompt_length = 256 : i64, truncation = #train.truncation<right>, clip = 1.0, seed = 0 : i64, reference = #train.reference<auto>, log_every = 10 : i64} {
    train.step_loop {
      %b = train.batch_fetch %d split "train"
      %h = train.forward %big, %b concat_pairs shared_prefix
      %lp = train.sequence_logprobs %big, %h, %b fused chunk 1024
      %r = train.reference_logprobs %ref, %b
      %l = train.loss dpo %lp against %r {beta = 0.1 : f64} : !train.logprobs
      train.backward %l
      train.optimizer_step %big
    }
  }

  // CHECK-LABEL: train.stage @halved attributes
  // CHECK-SAME: memory_reason = "a step of micro-batch 2 {{.*}} needs about 5.44GiB of the schedule's memory (6GiB); micro-batch 8 would need {{[0-9.]+}}GiB"
  // CHECK-SAME: planned_activations = #train.activations<keep>
  // CHECK-SAME: planned_micro_batch = 2 : i64
  train.stage @halved attributes {optimizer = #train.optimizer<adamw>, lr = 1.0e-4, optimizer_params = {}, lr_schedule = #train.lr_schedule<constant>, lr_final = 0.0, warmup = 0 : i64, batch = 8 : i64, micro_batch = 8 : i64, epochs = 1.0, precision = #train.precision<auto>, memory = 6442450944 : i64, max_length = 512 : i64, max_prompt_length = 256 : i64, truncation = #train.truncation<right>, clip = 1.0, seed = 0 : i64, reference = #train.reference<auto>, log_every = 10 : i64} {
    train.step_loop {
      %b = train.batch_fetch %d split "train"
      %h = train.forward %big, %b concat_pairs shared_prefix
      %lp = train.sequence_logprobs %big, %h, %b fused chunk 1024
      %r = train.reference_logprobs %ref, %b
      %l = train.loss dpo %lp against %r {beta = 0.1 : f64} : !train.logprobs
      train.backward %l
      train.optimizer_step %big
    }
  }

  // CHECK-LABEL: train.stage @recomputes attributes
  // CHECK-SAME: memory_reason = "a step of micro-batch 2 {{.*}} with activations recompute needs about 4.21GiB of the schedule's memory (4.25GiB); micro-batch 8 would need {{.*}}; keeping every layer's activations would need 4.47GiB at micro-batch 1"
  // CHECK-SAME: planned_activations = #train.activations<recompute>
  // CHECK-SAME: planned_micro_batch = 2 : i64
  train.stage @recomputes attributes {optimizer = #train.optimizer<adamw>, lr = 1.0e-4, optimizer_params = {}, lr_schedule = #train.lr_schedule<constant>, lr_final = 0.0, warmup = 0 : i64, batch = 8 : i64, micro_batch = 8 : i64, epochs = 1.0, precision = #train.precision<auto>, memory = 4563402752 : i64, max_length = 512 : i64, max_prompt_length = 256 : i64, truncation = #train.truncation<right>, clip = 1.0, seed = 0 : i64, reference = #train.reference<auto>, log_every = 10 : i64} {
    train.step_loop {
      %b = train.batch_fetch %d split "train"
      %h = train.forward %big, %b concat_pairs shared_prefix
      %lp = train.sequence_logprobs %big, %h, %b fused chunk 1024
      %r = train.reference_logprobs %ref, %b
      %l = train.loss dpo %lp against %r {beta = 0.1 : f64} : !train.logprobs
      train.backward %l
      train.optimizer_step %big
    }
  }

  // CHECK-LABEL: train.stage @too_small attributes
  // CHECK-SAME: memory_reason = "even micro-batch 1 with activations recompute needs about 3.85GiB, more than the schedule's memory (3GiB): the smallest step is planned
  // CHECK-SAME: planned_activations = #train.activations<recompute>
  // CHECK-SAME: planned_micro_batch = 1 : i64
  train.stage @too_small attributes {optimizer = #train.optimizer<adamw>, lr = 1.0e-4, optimizer_params = {}, lr_schedule = #train.lr_schedule<constant>, lr_final = 0.0, warmup = 0 : i64, batch = 8 : i64, micro_batch = 8 : i64, epochs = 1.0, precision = #train.precision<auto>, memory = 3221225472 : i64, max_length = 512 : i64, max_prompt_length = 256 : i64, truncation = #train.truncation<right>, clip = 1.0, seed = 0 : i64, reference = #train.reference<auto>, log_every = 10 : i64} {
    train.step_loop {
      %b = train.batch_fetch %d split "train"
      %h = train.forward %big, %b concat_pairs shared_prefix
      %lp = train.sequence_logprobs %big, %h, %b fused chunk 1024
      %r = train.reference_logprobs %ref, %b
      %l = train.loss dpo %lp against %r {beta = 0.1 : f64} : !train.logprobs
      train.backward %l
      train.optimizer_step %big
    }
  }

  // The recipe keeps every activation: only the micro-batch is planned.
  // CHECK-LABEL: train.stage @kept attributes
  // CHECK-SAME: activations = #train.activations<keep>
  // CHECK-SAME: planned_activations = #train.activations<keep>
  // CHECK-SAME: planned_micro_batch = 1 : i64
  train.stage @kept attributes {optimizer = #train.optimizer<adamw>, lr = 1.0e-4, optimizer_params = {}, lr_schedule = #train.lr_schedule<constant>, lr_final = 0.0, warmup = 0 : i64, batch = 8 : i64, micro_batch = 8 : i64, epochs = 1.0, precision = #train.precision<auto>, activations = #train.activations<keep>, memory = 4831838208 : i64, max_length = 512 : i64, max_prompt_length = 256 : i64, truncation = #train.truncation<right>, clip = 1.0, seed = 0 : i64, reference = #train.reference<auto>, log_every = 10 : i64} {
    train.step_loop {
      %b = train.batch_fetch %d split "train"
      %h = train.forward %big, %b concat_pairs shared_prefix
      %lp = train.sequence_logprobs %big, %h, %b fused chunk 1024
      %r = train.reference_logprobs %ref, %b
      %l = train.loss dpo %lp against %r {beta = 0.1 : f64} : !train.logprobs
      train.backward %l
      train.optimizer_step %big
    }
  }

  // Unfused, the logits of 1024 tokens over 32000 ids (three copies: 375 MiB per example) count too: in
  // 7 GiB micro-batch 2 fits, where the fused head's step (@fits) takes 4.
  // CHECK-LABEL: train.stage @unfused attributes
  // CHECK-SAME: planned_micro_batch = 2 : i64
  train.stage @unfused attributes {optimizer = #train.optimizer<adamw>, lr = 1.0e-4, optimizer_params = {}, lr_schedule = #train.lr_schedule<constant>, lr_final = 0.0, warmup = 0 : i64, batch = 8 : i64, micro_batch = 4 : i64, epochs = 1.0, precision = #train.precision<auto>, memory = 7516192768 : i64, max_length = 512 : i64, max_prompt_length = 256 : i64, truncation = #train.truncation<right>, clip = 1.0, seed = 0 : i64, reference = #train.reference<auto>, log_every = 10 : i64} {
    train.step_loop {
      %b = train.batch_fetch %d split "train"
      %h = train.forward %big, %b concat_pairs shared_prefix
      %lp = train.sequence_logprobs %big, %h, %b
      %r = train.reference_logprobs %ref, %b
      %l = train.loss dpo %lp against %r {beta = 0.1 : f64} : !train.logprobs
      train.backward %l
      train.optimizer_step %big
    }
  }

  // Without `memory:`: the pass option's budget, else this machine's.
  // CHECK-LABEL: train.stage @default_budget attributes
  // CHECK-SAME: memory_reason = "{{.*}} of this machine's memory ({{[0-9.]+}}{{G|T}}iB)
  // OPTION-LABEL: train.stage @default_budget attributes
  // OPTION-SAME: memory_reason = "a step of micro-batch 1 {{.*}} needs about 4.47GiB of the planned memory (5GiB); micro-batch 8 would need
  // OPTION-SAME: planned_micro_batch = 1 : i64
  train.stage @default_budget attributes {optimizer = #train.optimizer<adamw>, lr = 1.0e-4, optimizer_params = {}, lr_schedule = #train.lr_schedule<constant>, lr_final = 0.0, warmup = 0 : i64, batch = 8 : i64, micro_batch = 8 : i64, epochs = 1.0, precision = #train.precision<auto>, max_length = 512 : i64, max_prompt_length = 256 : i64, truncation = #train.truncation<right>, clip = 1.0, seed = 0 : i64, reference = #train.reference<auto>, log_every = 10 : i64} {
    train.step_loop {
      %b = train.batch_fetch %d split "train"
      %h = train.forward %big, %b concat_pairs shared_prefix
      %lp = train.sequence_logprobs %big, %h, %b fused chunk 1024
      %r = train.reference_logprobs %ref, %b
      %l = train.loss dpo %lp against %r {beta = 0.1 : f64} : !train.logprobs
      train.backward %l
      train.optimizer_step %big
    }
  }

  // CHECK-LABEL: train.stage @unknown attributes
  // CHECK-SAME: memory_reason = "the model's size is unknown to the compiler (no {{.*}}missing/config.json at compile time): micro-batch 8, activations keep as the recipe says"
  // CHECK-SAME: planned_micro_batch = 8 : i64
  train.stage @unknown attributes {optimizer = #train.optimizer<adamw>, lr = 1.0e-4, optimizer_params = {}, lr_schedule = #train.lr_schedule<constant>, lr_final = 0.0, warmup = 0 : i64, batch = 8 : i64, micro_batch = 8 : i64, epochs = 1.0, precision = #train.precision<auto>, max_length = 64 : i64, max_prompt_length = 32 : i64, truncation = #train.truncation<right>, clip = 1.0, seed = 0 : i64, log_every = 10 : i64} {
    train.step_loop {
      %b = train.batch_fetch %d split "train"
      %h = train.forward %missing, %b
      %lp = train.sequence_logprobs %missing, %h, %b
      %l = train.loss nll %lp {} : !train.logprobs
      train.backward %l
      train.optimizer_step %missing
    }
  }
}
