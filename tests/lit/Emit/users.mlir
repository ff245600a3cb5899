// Hand-written train IR for the user-model forms the shipped recipes do not reach: users and a LoRA
// adapter on one policy (either order of attachment), a cluster model initialised uniformly, an
// individual model drawing from the most common tokens, the P-IPO / P-SimPO terms with their alpha, and a
// personalized reward model (users on a reward head, `pbt`).
// RUN: rm -rf %t && split-file --leading-lines %s %t
// RUN: alignc --emit=cpp %t/lora.mlir | FileCheck %s --check-prefix=LORA
// RUN: alignc --emit=cpp %t/lora.mlir > %t/lora.cpp && c++ -std=c++17 -fsyntax-only -Wall -Wextra -Werror -I%S/../../../runtime/include -I%S/../../../registry/include %t/lora.cpp
// RUN: alignc --emit=cpp %t/psimpo.mlir | FileCheck %s --check-prefix=PSIMPO
// RUN: alignc --emit=cpp %t/prm.mlir | FileCheck %s --check-prefix=PRM
// RUN: alignc --emit=cpp %t/prm.mlir > %t/prm.cpp && c++ -std=c++17 -fsyntax-only -Wall -Wextra -Werror -I%S/../../../runtime/include -I%S/../../../registry/include %t/prm.cpp
// PRM:      prm_stage.rewardModel = true;
// PRM:      prm_stage.users.enabled = true;
// PRM-NEXT: prm_stage.users.name = "people";
// PRM-NEXT: prm_stage.users.kind = align::rt::UserModelKind::individual;
// PRM-NEXT: prm_stage.users.tokens = t.integer("people.tokens", 2);
// PRM:      prm_stage.genericDuplicates = true;
// PRM:      align::rt::PbtParams prm_pbt;
// PRM-NEXT: prm_pbt.alpha = t.number("prm.objective.pbt.alpha", 0.5);
// What the runtime does not execute yet is an error at its op, and no C++ is printed.
// RUN: not alignc --emit=cpp %t/errors.mlir 2>&1 | FileCheck %s --check-prefix=ERRORS
// RUN: not alignc --emit=cpp %t/errors.mlir 2>/dev/null | count 0

//--- lora.mlir
train.program @lora_users {
  %lm = train.load_model "lm" from "llama" {preset = "tiny", seed = 0 : i64, tokenizer = "tok", tokenizer_kind = "bytes", tokenizer_spec = "bytes"}
  %ref = train.load_model "ref" from "llama" {preset = "tiny", seed = 0 : i64, tokenizer = "tok", tokenizer_kind = "bytes", tokenizer_spec = "bytes"}
  %prefs = train.load_data "prefs" from "pairwise" {columns = {user = "uid"}, path = "p.jsonl"} splits ["train"]
  %people = train.attach "users" "cluster" to %lm {k = 3 : i64, tokens = 4 : i64, unseen = "error", text = "bio", init = {kind = "uniform", range = 2.5e-01 : f64, seed = 9 : i64}} attributes {name = "people"}
  %pi = train.attach "adapter" "lora" to %people {r = 8 : i64, alpha = 16.0 : f64, dropout = 0.0 : f64, targets = ["q_proj", "v_proj"]} attributes {name = "lora8"}
  // LORA-LABEL: // stage pipo
  // LORA:      pipo_stage.model = "lm";
  // LORA-NEXT: pipo_stage.lora.enabled = true;
  // LORA:      pipo_stage.lora.targets = {"q_proj", "v_proj"};
  // LORA-NEXT: pipo_stage.users.enabled = true;{{ +}}// {{.*}}lora.mlir:[[@LINE-6]]:13
  // LORA-NEXT: pipo_stage.users.name = "people";
  // LORA-NEXT: pipo_stage.users.kind = align::rt::UserModelKind::cluster;
  // LORA-NEXT: pipo_stage.users.tokens = t.integer("people.tokens", 4);
  // LORA-NEXT: pipo_stage.users.clusters = t.integer("people.k", 3);
  // LORA-NEXT: pipo_stage.users.unseen = t.choice("people.unseen", align::rt::Unseen::error);
  // LORA-NEXT: pipo_stage.users.textColumn = t.text("people.text", "bio");
  // LORA-NEXT: pipo_stage.users.init = t.choice("people.init", align::rt::UsersInit::uniform);
  // LORA-NEXT: pipo_stage.users.initSeed = static_cast<std::uint64_t>(t.integer("people.init_seed", 9));
  // LORA-NEXT: pipo_stage.users.initRange = t.number("people.init_range", 0.25);
  // LORA-NEXT: // frozen reference: model ref as declared
  // LORA-NEXT: pipo_stage.reference = "ref";
  // LORA:      pipo_stage.genericDuplicates = true;
  // LORA-NEXT: align::rt::PipoParams pipo_pipo;
  // LORA-NEXT: pipo_pipo.beta = t.number("pipo.objective.pipo.beta", 0.5);
  // LORA-NEXT: pipo_pipo.alpha = t.number("pipo.objective.pipo.alpha", 0.25);
  // LORA-NEXT: pipo_stage.objective.push_back(align::rt::TermSpec(pipo_pipo, 1.0));
  train.stage @pipo attributes {optimizer = #train.optimizer<adamw>, lr = 1.0e-3, optimizer_params = {},
      lr_schedule = #train.lr_schedule<cosine>, lr_final = 0.0, warmup = 0 : i64, batch = 4 : i64, micro_batch = 4 : i64, 
      epochs = 1.0, precision = #train.precision<auto>, max_length = 64 : i64, max_prompt_length = 32 : i64, truncation = #train.truncation<right>,
      clip = 1.0, seed = 0 : i64, reference = #train.reference<auto>, log_every = 1 : i64} {
    train.step_loop {
      %b = train.batch_fetch %prefs split "train" with_generic_duplicates
      %h = train.forward %pi, %b
      %lp = train.sequence_logprobs %pi, %h, %b
      %r = train.reference_logprobs %ref, %b
      %l = train.loss pipo %lp against %r {beta = 0.5 : f64} alpha 0.25 : !train.logprobs
      train.backward %l
      train.optimizer_step %pi
    }
  }
}

//--- psimpo.mlir
train.program @psimpo {
  %lm = train.load_model "lm" from "llama" {preset = "tiny", seed = 0 : i64, tokenizer = "tok", tokenizer_kind = "bytes", tokenizer_spec = "bytes"}
  %prefs = train.load_data "prefs" from "pairwise" {columns = {user = "uid"}, path = "p.jsonl"} splits ["train"]
  // The adapter first, then the users: the same StageSpec.
  %adapted = train.attach "adapter" "lora" to %lm {r = 4 : i64} attributes {name = "lora4"}
  %pi = train.attach "users" "individual" to %adapted {tokens = 2 : i64, generic = false, unseen = "generic", init = {kind = "vocab", seed = 123 : i64, common = 500 : i64}}
  // PSIMPO-LABEL: // stage s
  // PSIMPO:      s_stage.lora.enabled = true;
  // PSIMPO:      s_stage.users.enabled = true;
  // An unnamed users model's keys start with "users".
  // PSIMPO-NEXT: s_stage.users.name = "users";
  // PSIMPO-NEXT: s_stage.users.kind = align::rt::UserModelKind::individual;
  // PSIMPO-NEXT: s_stage.users.tokens = t.integer("users.tokens", 2);
  // PSIMPO-NEXT: s_stage.users.generic = t.flag("users.generic", false);
  // PSIMPO-NEXT: s_stage.users.unseen = t.choice("users.unseen", align::rt::Unseen::generic);
  // PSIMPO-NEXT: s_stage.users.init = t.choice("users.init", align::rt::UsersInit::vocab);
  // PSIMPO-NEXT: s_stage.users.initSeed = static_cast<std::uint64_t>(t.integer("users.init_seed", 123));
  // PSIMPO-NEXT: s_stage.users.initCommon = t.integer("users.init_common", 500);
  // PSIMPO-NOT:  reference
  // PSIMPO:      s_stage.genericDuplicates = true;
  // PSIMPO-NEXT: align::rt::PsimpoParams s_psimpo;
  // PSIMPO-NEXT: s_psimpo.beta = t.number("s.objective.psimpo.beta", 2.0);
  // PSIMPO-NEXT: s_psimpo.gamma = t.number("s.objective.psimpo.gamma", 0.5);
  // PSIMPO-NEXT: s_psimpo.alpha = t.number("s.objective.psimpo.alpha", 0.5);
  // PSIMPO-NEXT: s_stage.objective.push_back(align::rt::TermSpec(s_psimpo, 1.0));
  train.stage @s attributes {optimizer = #train.optimizer<adamw>, lr = 1.0e-3, optimizer_params = {},
      lr_schedule = #train.lr_schedule<cosine>, lr_final = 0.0, warmup = 0 : i64, batch = 4 : i64, micro_batch = 4 : i64, 
      epochs = 1.0, precision = #train.precision<auto>, max_length = 64 : i64, max_prompt_length = 32 : i64, truncation = #train.truncation<right>,
      clip = 1.0, seed = 0 : i64, log_every = 1 : i64} {
    train.step_loop {
      %b = train.batch_fetch %prefs split "train" with_generic_duplicates
      %h = train.forward %pi, %b
      %lp = train.sequence_logprobs %pi, %h, %b
      %l = train.loss psimpo %lp {beta = 2.0 : f64, gamma = 0.5 : f64} alpha 0.5 : !train.logprobs
      train.backward %l
      train.optimizer_step %pi
    }
  }
}

//--- errors.mlir
train.program @errors {
  %lm = train.load_model "lm" from "llama" {preset = "tiny", seed = 0 : i64, tokenizer = "tok", tokenizer_kind = "bytes", tokenizer_spec = "bytes"}
  %prefs = train.load_data "prefs" from "pairwise" {columns = {user = "uid"}, path = "p.jsonl"} splits ["train"]
  // An unknown user-model parameter.
  // ERRORS-DAG: errors.mlir:[[@LINE+1]]:9: error: 'users parameter colour' is not executed by the runtime yet
  %pi = train.attach "users" "individual" to %lm {tokens = 1 : i64, colour = "bio"}
  train.stage @text attributes {optimizer = #train.optimizer<adamw>, lr = 1.0e-3, optimizer_params = {},
      lr_schedule = #train.lr_schedule<cosine>, lr_final = 0.0, warmup = 0 : i64, batch = 4 : i64, micro_batch = 4 : i64, 
      epochs = 1.0, precision = #train.precision<auto>, max_length = 64 : i64, max_prompt_length = 32 : i64, truncation = #train.truncation<right>,
      clip = 1.0, seed = 0 : i64, log_every = 1 : i64} {
    train.step_loop {
      %b = train.batch_fetch %prefs split "train" with_generic_duplicates
      %h = train.forward %pi, %b
      %lp = train.sequence_logprobs %pi, %h, %b
      %l = train.loss psimpo %lp {beta = 2.0 : f64, gamma = 0.5 : f64} alpha 0.5 : !train.logprobs
      train.backward %l
      train.optimizer_step %pi
    }
  }
}

//--- prm.mlir
// A personalized reward model (P-RM): users on a reward head, trained with pbt's two halves.
train.program @prm {
  %lm = train.load_model "lm" from "llama" {preset = "tiny", seed = 0 : i64, tokenizer = "tok", tokenizer_kind = "bytes", tokenizer_spec = "bytes"}
  %prefs = train.load_data "prefs" from "pairwise" {columns = {user = "uid"}, path = "p.jsonl"} splits ["train"]
  %rm = train.attach "reward_head" "scalar" to %lm {outputs = 1 : i64, pooling = "last"}
  %prm = train.attach "users" "individual" to %rm {tokens = 2 : i64} attributes {name = "people"}
  train.stage @prm attributes {optimizer = #train.optimizer<adamw>, lr = 1.0e-3, optimizer_params = {},
      lr_schedule = #train.lr_schedule<cosine>, lr_final = 0.0, warmup = 0 : i64, batch = 4 : i64, micro_batch = 4 : i64, 
      epochs = 1.0, precision = #train.precision<auto>, max_length = 64 : i64, max_prompt_length = 32 : i64, truncation = #train.truncation<right>,
      clip = 1.0, seed = 0 : i64, log_every = 1 : i64} {
    train.step_loop {
      %b = train.batch_fetch %prefs split "train" with_generic_duplicates
      %s = train.score %prm, %b : !train.batch
      %l = train.loss pbt %s {} alpha 0.5 : !train.scores
      train.backward %l
      train.optimizer_step %prm
    }
  }
}
