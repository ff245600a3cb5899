// Reference errors of the recipe dialect: every symbol reference must resolve (stage scope first, then
// the recipe) to the right kind of declaration, and stages may only build on earlier stages.
// RUN: align-opt %s -split-input-file -verify-diagnostics

recipe.recipe @r {
  // expected-error @+1 {{'recipe.model' op tokenizer @tok is not declared}}
  recipe.model @lm = "llama" tokenizer @tok {}
}

// -----

recipe.recipe @r {
  recipe.tokenizer @tok = "bytes" {}
  recipe.model @lm = "llama" tokenizer @tok {}
  // expected-error @+1 {{'recipe.model' op tokenizer @lm names a 'recipe.model', expected a tokenizer}}
  recipe.model @lm2 = "llama" tokenizer @lm {}
}

// -----

recipe.recipe @r {
  // expected-error @+1 {{'recipe.data' op params.template @chat is not declared}}
  recipe.data @d = "sft" {path = "d.jsonl", template = @chat} {
  }
}

// -----

recipe.recipe @r {
  // expected-error @+1 {{'recipe.users' op params.init.seed @nowhere is not declared}}
  recipe.users @u = "individual" {init = #recipe.call<"vocab", {seed = @nowhere}>}
}

// -----

recipe.recipe @r {
  // expected-error @+1 {{'recipe.preference' op params.objectives @helpfulness is not declared}}
  recipe.preference @p = "direction" {objectives = [@helpfulness]}
}

// -----

recipe.recipe @r {
  recipe.tokenizer @tok = "bytes" {}
  recipe.model @lm = "llama" tokenizer @tok {}
  recipe.data @d = "sft" {path = "d.jsonl"} {}
  // expected-error @+1 {{'recipe.stage' op init_from @base is not declared}}
  recipe.stage @s init_from @base schedule {} {
    recipe.train @lm on [@d]
    %0 = recipe.objective.term "nll" {}
    recipe.objective %0
  }
}

// -----

recipe.recipe @r {
  recipe.tokenizer @tok = "bytes" {}
  recipe.model @lm = "llama" tokenizer @tok {}
  recipe.data @d = "sft" {path = "d.jsonl"} {}
  // expected-error @+1 {{'recipe.stage' op init_from @lm names a 'recipe.model', expected a stage}}
  recipe.stage @s init_from @lm schedule {} {
    recipe.train @lm on [@d]
    %0 = recipe.objective.term "nll" {}
    recipe.objective %0
  }
}

// -----

recipe.recipe @r {
  recipe.tokenizer @tok = "bytes" {}
  recipe.model @lm = "llama" tokenizer @tok {}
  recipe.data @d = "sft" {path = "d.jsonl"} {}
  // expected-error @+1 {{'recipe.stage' op init_from @s names its own stage}}
  recipe.stage @s init_from @s schedule {} {
    recipe.train @lm on [@d]
    %0 = recipe.objective.term "nll" {}
    recipe.objective %0
  }
}

// -----

recipe.recipe @r {
  recipe.tokenizer @tok = "bytes" {}
  recipe.model @lm = "llama" tokenizer @tok {}
  recipe.data @d = "sft" {path = "d.jsonl"} {}
  // expected-error @+1 {{'recipe.stage' op init_from @later is not an earlier stage than @first}}
  recipe.stage @first init_from @later schedule {} {
    recipe.train @lm on [@d]
    %0 = recipe.objective.term "nll" {}
    recipe.objective %0
  }
  recipe.stage @later schedule {} {
    recipe.train @lm on [@d]
    %0 = recipe.objective.term "nll" {}
    recipe.objective %0
  }
}

// -----

recipe.recipe @r {
  recipe.tokenizer @tok = "bytes" {}
  // expected-error @+1 {{'recipe.reward' op base @tok names a 'recipe.tokenizer', expected a model or a stage}}
  recipe.reward @rm = "scalar" base @tok {}
}

// -----

recipe.recipe @r {
  recipe.tokenizer @tok = "bytes" {}
  // expected-error @+1 {{'recipe.policy' op base @tok names a 'recipe.tokenizer', expected a model, stage, reward or policy}}
  recipe.policy @pi = @tok
}

// -----

recipe.recipe @r {
  recipe.tokenizer @tok = "bytes" {}
  recipe.model @lm = "llama" tokenizer @tok {}
  // expected-error @+1 {{'recipe.policy' op with @lm names a 'recipe.model', expected users, an adapter or a preference}}
  recipe.policy @pi = @lm with [@lm]
}

// -----

recipe.recipe @r {
  recipe.tokenizer @tok = "bytes" {}
  // expected-error @+1 {{'recipe.reference' op source @tok names a 'recipe.tokenizer', expected a model or a stage}}
  recipe.reference @ref = "frozen" @tok
}

// -----

recipe.recipe @r {
  recipe.tokenizer @tok = "bytes" {}
  recipe.model @lm = "llama" tokenizer @tok {}
  recipe.data @d = "sft" {path = "d.jsonl"} {}
  recipe.stage @s schedule {} {
    // expected-error @+1 {{'recipe.reference' op source @s names its own stage}}
    recipe.reference @ref = "frozen" @s
    recipe.train @lm on [@d]
    %0 = recipe.objective.term "nll" {}
    recipe.objective %0
  }
}

// -----

recipe.recipe @r {
  recipe.tokenizer @tok = "bytes" {}
  recipe.model @lm = "llama" tokenizer @tok {}
  recipe.data @d = "sft" {path = "d.jsonl"} {}
  recipe.stage @s schedule {} {
    // expected-error @+1 {{'recipe.reference' op source @t is not an earlier stage than @s}}
    recipe.reference @ref = "frozen" @t
    recipe.train @lm on [@d]
    %0 = recipe.objective.term "nll" {}
    recipe.objective %0
  }
  recipe.stage @t schedule {} {
    recipe.train @lm on [@d]
    %0 = recipe.objective.term "nll" {}
    recipe.objective %0
  }
}

// -----

recipe.recipe @r {
  recipe.tokenizer @tok = "bytes" {}
  recipe.model @lm = "llama" tokenizer @tok {}
  // expected-error @+1 {{'recipe.aggregate' op policies @lm names a 'recipe.model', expected a stage}}
  recipe.aggregate @fair = "mean" policies @lm {}
}

// -----

recipe.recipe @r {
  recipe.tokenizer @tok = "bytes" {}
  recipe.model @lm = "llama" tokenizer @tok {}
  recipe.data @d = "sft" {path = "d.jsonl"} {
    recipe.split @train remainder
  }
  recipe.stage @s schedule {} {
    // expected-error @+1 {{'recipe.train' op target @d names a 'recipe.data', expected a model, policy or reward}}
    recipe.train @d on [@d]
    %0 = recipe.objective.term "nll" {}
    recipe.objective %0
  }
}

// -----

recipe.recipe @r {
  recipe.tokenizer @tok = "bytes" {}
  recipe.model @lm = "llama" tokenizer @tok {}
  recipe.stage @s schedule {} {
    // expected-error @+1 {{'recipe.train' op data @tok names a 'recipe.tokenizer', expected data or a data split}}
    recipe.train @lm on [@tok]
    %0 = recipe.objective.term "nll" {}
    recipe.objective %0
  }
}

// -----

recipe.recipe @r {
  recipe.tokenizer @tok = "bytes" {}
  recipe.model @lm = "llama" tokenizer @tok {}
  recipe.data @d = "sft" {path = "d.jsonl"} {
    recipe.split @train remainder
  }
  recipe.stage @s schedule {} {
    // expected-error @+1 {{'recipe.train' op data @d::@eval: data @d has no split @eval}}
    recipe.train @lm on [@d::@eval]
    %0 = recipe.objective.term "nll" {}
    recipe.objective %0
  }
}

// -----

recipe.recipe @r {
  recipe.tokenizer @tok = "bytes" {}
  recipe.model @lm = "llama" tokenizer @tok {}
  recipe.stage @s schedule {} {
    // expected-error @+1 {{'recipe.train' op trains on no data}}
    recipe.train @lm on []
    %0 = recipe.objective.term "nll" {}
    recipe.objective %0
  }
}

// -----

// A stage's own declarations are not visible from another stage.
recipe.recipe @r {
  recipe.tokenizer @tok = "bytes" {}
  recipe.model @lm = "llama" tokenizer @tok {}
  recipe.data @d = "sft" {path = "d.jsonl"} {}
  recipe.stage @a schedule {} {
    recipe.policy @pi = @lm
    recipe.train @pi on [@d]
    %0 = recipe.objective.term "nll" {}
    recipe.objective %0
  }
  recipe.stage @b schedule {} {
    // expected-error @+1 {{'recipe.train' op target @pi is not declared}}
    recipe.train @pi on [@d]
    %0 = recipe.objective.term "nll" {}
    recipe.objective %0
  }
}

// -----

recipe.recipe @r {
  recipe.tokenizer @tok = "bytes" {}
  recipe.model @lm = "llama" tokenizer @tok {}
  recipe.data @d = "sft" {path = "d.jsonl"} {}
  recipe.stage @s schedule {} {
    recipe.train @lm on [@d]
    // expected-error @+1 {{'recipe.objective.term' op params.types @types is not declared}}
    %0 = recipe.objective.term "em_dpo" {types = @types}
    recipe.objective %0
  }
}

// -----

recipe.recipe @r {
  recipe.tokenizer @tok = "bytes" {}
  recipe.model @lm = "llama" tokenizer @tok {}
  recipe.data @d = "sft" {path = "d.jsonl"} {}
  recipe.stage @s schedule {} {
    recipe.train @lm on [@d]
    %0 = recipe.objective.term "nll" {}
    recipe.objective %0
    // expected-error @+1 {{'recipe.loop' op params.scorer @rm is not declared}}
    recipe.loop "rsf" {prompts = @lm, directions = @lm, scorer = @rm}
  }
}

// -----

recipe.recipe @r {
  recipe.data @d = "sft" {path = "d.jsonl"} {
    recipe.split @train remainder
  }
  // expected-error @+1 {{'recipe.eval' op data @d::@test: data @d has no split @test}}
  recipe.eval "loss" on [@d::@test] {}
}

// -----

recipe.recipe @r {
  // expected-error @+1 {{'recipe.eval' op evaluates on no data}}
  recipe.eval "loss" on [] {}
}
