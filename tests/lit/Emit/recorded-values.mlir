// What reaches the runtime: the emitted trainer, linked with a stand-in runtime that prints every spec it
// is handed (Inputs/RecordingTrainer.cpp), passes strings byte for byte (quotes, backslashes, tabs,
// control bytes, `??=`, UTF-8), doubles exactly (0.1 + 0.2, 1e-300), integers that a double would round (2^53 + 1), INT64_MIN, names that are not C++
// identifiers, and --set overrides by key.
// RUN: rm -rf %t && mkdir -p %t
// RUN: alignc --emit=cpp %s > %t/trainer.cpp
// RUN: c++ -std=c++17 -O0 -Wall -Wextra -Werror -I%S/../../../runtime/include -I%S/../../../registry/include %t/trainer.cpp %S/Inputs/RecordingTrainer.cpp -o %t/trainer
// RUN: %t/trainer | FileCheck %s
// RUN: %t/trainer --set "class.schedule.lr=0.5" --set "a-b.template=x" --set "class.objective.nll.prompt_loss=true" | FileCheck %s --check-prefix=SET
// The identifiers made from the names.
// RUN: FileCheck %s --check-prefix=NAMES < %t/trainer.cpp

// CHECK: recipe odd from {{.*}}recorded-values.mlir, stages: class
// CHECK: setting a-b.template = "say \"hi\" \\ {prompt}\t??=\x01 ün"
train.program @odd {
  %m = train.load_model "my-model" from "qwen2" {preset = "small", seed = 9007199254740993 : i64, tokenizer = "tok", tokenizer_kind = "bytes", tokenizer_spec = "bytes"}
  %d1 = train.load_data "a-b" from "sft" {path = "dir with space/\22q\22.jsonl", template = "say \22hi\22 \\ {prompt}\09??=\01 \C3\BCn", limit = -9223372036854775808 : i64} splits ["train"]
  %d2 = train.load_data "a_b" from "domain_pairs" {path = "d.json", preferred = "academy", against = ["business", "ent"]} splits ["train"]
  train.stage @class attributes {optimizer = #train.optimizer<adamw>, lr = 0.30000000000000004, optimizer_params = {betas = [0.0, 0.99999999999999989]},
      lr_schedule = #train.lr_schedule<cosine>, lr_final = 1.0e-300, warmup = 0 : i64, batch = 2 : i64, micro_batch = 1 : i64, 
      steps = 9223372036854775807 : i64, precision = #train.precision<fp16>, max_length = 8 : i64, max_prompt_length = 4 : i64, truncation = #train.truncation<left>,
      clip = 123456789.125, seed = 0 : i64, 
      log_every = 1 : i64} {
    train.step_loop {
      %b = train.batch_fetch %d1
      %h = train.forward %m, %b
      %lp = train.sequence_logprobs %m, %h, %b fused chunk 3
      %l = train.loss nll %lp {prompt_loss = false} : !train.logprobs
      train.backward %l
      train.optimizer_step %m
    }
  }
}

// CHECK:      model my-model
// CHECK-NEXT:   family = qwen2
// CHECK-NEXT:   preset = small
// CHECK-NEXT:   checkpoint = ""
// CHECK-NEXT:   tokenizer = "tok"
// CHECK-NEXT:   seed = 9007199254740993
// CHECK:      data a-b
// CHECK-NEXT:   kind = sft
// CHECK-NEXT:   path = "dir with space/\"q\".jsonl"
// CHECK:        template = "say \"hi\" \\ {prompt}\t??=\x01 ün"
// CHECK:        limit = -9223372036854775808
// CHECK:      data a_b
// CHECK:        preferred = "academy"
// CHECK-NEXT:   against = "business"
// CHECK-NEXT:   against = "ent"
// CHECK:      stage class
// CHECK:        model = "my-model"
// CHECK:        data = "a-b" split "train"
// CHECK-NEXT:   term = nll weight=1 prompt_loss=false
// CHECK-NEXT:   optimizer = adamw lr=0.30000000000000004 beta1=0 beta2=0.99999999999999989
// CHECK-NEXT:   lrSchedule = cosine lrFinal=1e-300 warmup=0
// CHECK-NEXT:   batch = 2 microBatch=1 steps=9223372036854775807
// CHECK-NEXT:   precision = fp16 maxLength=8 maxPromptLength=4 truncation=left
// CHECK-NEXT:   clip = 123456789.125 seed=0 logEvery=1
// CHECK:        decisions = reference=none concatPairs=false fusedLogprobs=true logprobChunk=3

// SET:      template = "x"
// SET:      term = nll weight=1 prompt_loss=true
// SET-NEXT: optimizer = adamw lr=0.5 beta1=0

// NAMES: align::rt::ModelSpec my_model_model;
// NAMES: align::rt::DataSpec a_b_data;
// NAMES: align::rt::DataSpec a_b_data_2;
// NAMES: align::rt::StageSpec class_stage;
