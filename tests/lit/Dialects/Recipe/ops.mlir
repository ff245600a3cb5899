// Every recipe op and attribute prints in its custom form and parses back to the same IR; the generic
// form parses back too.
// RUN: align-opt %s | align-opt | FileCheck %s
// RUN: align-opt %s --mlir-print-op-generic | align-opt | FileCheck %s
// The printed form is a fixed point: printing it again changes nothing.
// RUN: align-opt %s > %t.mlir && align-opt %t.mlir > %t.again.mlir && diff %t.mlir %t.again.mlir

// CHECK-LABEL: recipe.recipe @everything {
recipe.recipe @everything {
  // CHECK-NEXT: recipe.tokenizer @tok = "bytes" {}
  recipe.tokenizer @tok = "bytes" {}
  // CHECK-NEXT: recipe.model @lm = "llama" tokenizer @tok {preset = "tiny", seed = 0 : i64}
  recipe.model @lm = "llama" tokenizer @tok {preset = "tiny", seed = 0 : i64}
  // CHECK-NEXT: recipe.template @chat = "## Human:\0A{prompt}\0A\0A## Assistant:\0A{response}"
  recipe.template @chat = "## Human:\n{prompt}\n\n## Assistant:\n{response}"
  // CHECK-NEXT: recipe.data @prefs = "pairwise" {path = "prefs.jsonl", template = @chat, user = "user_id"} {
  // CHECK-NEXT:   recipe.split @unseen = #recipe.call<"where", {column = "seen", equals = false}>
  // CHECK-NEXT:   recipe.split @eval = #recipe.percent<10.0> by "user"
  // CHECK-NEXT:   recipe.split @extra = #recipe.call<"file", {path = "more.jsonl"}>
  // CHECK-NEXT:   recipe.split @train remainder
  // CHECK-NEXT: }
  recipe.data @prefs = "pairwise" {path = "prefs.jsonl", user = "user_id", template = @chat} {
    recipe.split @unseen = #recipe.call<"where", {column = "seen", equals = false}>
    recipe.split @eval = #recipe.percent<10.0> by "user"
    recipe.split @extra = #recipe.call<"file", {path = "more.jsonl"}>
    recipe.split @train remainder
  }
  // CHECK-NEXT: recipe.data @ratings = "rated" {path = "r.jsonl", ratings = ["helpfulness", "verbosity"]} {
  recipe.data @ratings = "rated" {path = "r.jsonl", ratings = ["helpfulness", "verbosity"]} {
    recipe.split @train remainder
  }
  // CHECK: recipe.users @people = "individual" {generic = true, init = #recipe.call<"vocab", {seed = 123 : i64}>, tokens = 10 : i64}
  recipe.users @people = "individual" {tokens = 10 : i64, generic = true, init = #recipe.call<"vocab", {seed = 123 : i64}>}
  // CHECK-NEXT: recipe.adapter @lora = "lora" {r = 8 : i64, targets = ["q_proj", "v_proj"]}
  recipe.adapter @lora = "lora" {r = 8 : i64, targets = ["q_proj", "v_proj"]}
  // CHECK-NEXT: recipe.reward @scores = "regression" base @lm {objectives = ["helpfulness", "verbosity"], pooling = "last"}
  recipe.reward @scores = "regression" base @lm {objectives = ["helpfulness", "verbosity"], pooling = "last"}
  // CHECK-NEXT: recipe.preference @dir = "direction" {angle = [#recipe.angle<-45.0>, #recipe.angle<45.0>], render = @chat, reward = @scores}
  recipe.preference @dir = "direction" {reward = @scores, render = @chat, angle = [#recipe.angle<-45.0>, #recipe.angle<45.0>]}
  // CHECK-NEXT: recipe.preference @types = "latent" {k = 4 : i64}
  recipe.preference @types = "latent" {k = 4 : i64}

  // CHECK: recipe.stage @base schedule {batch = 32 : i64, checkpoint_every = #recipe.duration<600.0>, optimizer = #recipe.call<"adamw", {lr = 1.000000e-03 : f64}>} {
  // CHECK-NEXT:   recipe.train @lm on [@prefs::@train]
  // CHECK-NEXT:   %[[NLL:.*]] = recipe.objective.term "nll" {prompt_loss = false}
  // CHECK-NEXT:   recipe.objective %[[NLL]]
  // CHECK-NEXT: }
  recipe.stage @base schedule {batch = 32 : i64, optimizer = #recipe.call<"adamw", {lr = 1.0e-3 : f64}>,
                               checkpoint_every = #recipe.duration<600.0>} {
    recipe.train @lm on [@prefs::@train]
    %0 = recipe.objective.term "nll" {prompt_loss = false}
    recipe.objective %0
  }

  // CHECK: recipe.stage @personalized init_from @base schedule {batch = 32 : i64, micro_batch = 8 : i64} {
  // CHECK-NEXT:   recipe.policy @pi = @lm with [@people, @lora]
  // CHECK-NEXT:   recipe.reference @ref = "frozen" @base
  // CHECK-NEXT:   recipe.train @pi on [@prefs::@train, @prefs::@extra]
  // CHECK-NEXT:   %[[A:.*]] = recipe.objective.term "pdpo" {alpha = 5.000000e-01 : f64, beta = 5.000000e-01 : f64}
  // CHECK-NEXT:   %[[B:.*]] = recipe.objective.term "nll" {}
  // CHECK-NEXT:   %[[SUM:.*]] = recipe.objective.sum %[[A]], %[[B]] weights [1.000000e+00, -2.500000e-01]
  // CHECK-NEXT:   recipe.objective %[[SUM]]
  // CHECK-NEXT:   recipe.eval "accuracy" by "user" on [@prefs::@eval, @prefs::@unseen] {}
  // CHECK-NEXT: }
  recipe.stage @personalized init_from @base schedule {batch = 32 : i64, micro_batch = 8 : i64} {
    recipe.policy @pi = @lm with [@people, @lora]
    recipe.reference @ref = "frozen" @base
    recipe.train @pi on [@prefs::@train, @prefs::@extra]
    %0 = recipe.objective.term "pdpo" {beta = 0.5 : f64, alpha = 0.5 : f64}
    %1 = recipe.objective.term "nll" {}
    %2 = recipe.objective.sum %0, %1 weights [1.0, -0.25]
    recipe.objective %2
    recipe.eval "accuracy" by "user" on [@prefs::@eval, @prefs::@unseen] {}
  }

  // CHECK: recipe.stage @mixture init_from @base schedule {epochs = 1 : i64} {
  // CHECK:   recipe.objective.term "em_dpo" {beta = 1.000000e-01 : f64, types = @types}
  // CHECK:   recipe.loop "em" {e_step = "cross_fit", iterations = 5 : i64, restart = true}
  recipe.stage @mixture init_from @base schedule {epochs = 1 : i64} {
    recipe.policy @pi = @lm
    recipe.reference @ref = "frozen" @lm
    recipe.train @pi on [@prefs]
    %0 = recipe.objective.term "em_dpo" {beta = 0.1 : f64, types = @types}
    recipe.objective %0
    recipe.loop "em" {iterations = 5 : i64, restart = true, e_step = "cross_fit"}
  }

  // CHECK: recipe.stage @rsf init_from @base schedule {} {
  // CHECK:   recipe.policy @pi = @lm with [@dir]
  // CHECK:   recipe.loop "rsf" {directions = @dir, prompts = @prefs::@train, samples = 8 : i64, scorer = @scores}
  recipe.stage @rsf init_from @base schedule {} {
    recipe.policy @pi = @lm with [@dir]
    recipe.train @pi on [@prefs::@train]
    %0 = recipe.objective.term "nll" {}
    recipe.objective %0
    recipe.loop "rsf" {prompts = @prefs::@train, directions = @dir, scorer = @scores, samples = 8 : i64}
  }

  // CHECK: recipe.aggregate @fair = "minmax_regret" policies @mixture {prompts = @prefs::@eval, solver = #recipe.call<"optimistic_hedge", {eta = 1.580000e-02 : f64, steps = 100000 : i64}>}
  recipe.aggregate @fair = "minmax_regret" policies @mixture {prompts = @prefs::@eval, solver = #recipe.call<"optimistic_hedge", {steps = 100000 : i64, eta = 0.0158 : f64}>}
  // CHECK-NEXT: recipe.eval "generated_length" by "group" on [@prefs::@eval] {max_new_tokens = 64 : i64}
  recipe.eval "generated_length" by "group" on [@prefs::@eval] {max_new_tokens = 64 : i64}
  // CHECK-NEXT: recipe.eval "loss" on [@ratings] {}
  recipe.eval "loss" on [@ratings] {}
}
