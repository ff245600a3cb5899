// Structural verifier errors of the recipe dialect: stage contents, splits, objective sums, loops.
// RUN: align-opt %s -split-input-file -verify-diagnostics

recipe.recipe @r {
  // expected-error @+1 {{'recipe.stage' op must train exactly one target, found 0 'recipe.train' ops}}
  recipe.stage @s schedule {} {
    %0 = recipe.objective.term "nll" {}
    recipe.objective %0
  }
}

// -----

recipe.recipe @r {
  recipe.tokenizer @tok = "bytes" {}
  recipe.model @lm = "llama" tokenizer @tok {}
  recipe.data @d = "sft" {path = "d.jsonl"} {}
  // expected-error @+1 {{'recipe.stage' op must have exactly one 'recipe.objective', found 2}}
  recipe.stage @s schedule {} {
    recipe.train @lm on [@d]
    %0 = recipe.objective.term "nll" {}
    recipe.objective %0
    recipe.objective %0
  }
}

// -----

recipe.recipe @r {
  recipe.tokenizer @tok = "bytes" {}
  recipe.model @lm = "llama" tokenizer @tok {}
  recipe.data @d = "sft" {path = "d.jsonl"} {}
  // expected-error @+1 {{'recipe.stage' op must have exactly one 'recipe.objective', found 0}}
  recipe.stage @s schedule {} {
    recipe.train @lm on [@d]
  }
}

// -----

recipe.recipe @r {
  recipe.tokenizer @tok = "bytes" {}
  recipe.model @lm = "llama" tokenizer @tok {}
  recipe.data @d = "sft" {path = "d.jsonl"} {}
  // expected-error @+1 {{'recipe.stage' op may have at most one 'recipe.loop', found 2}}
  recipe.stage @s schedule {} {
    recipe.train @lm on [@d]
    %0 = recipe.objective.term "nll" {}
    recipe.objective %0
    recipe.loop "em" {}
    recipe.loop "em" {}
  }
}

// -----

recipe.recipe @r {
  recipe.tokenizer @tok = "bytes" {}
  recipe.model @lm = "llama" tokenizer @tok {}
  recipe.data @d = "sft" {path = "d.jsonl"} {}
  // expected-error @+1 {{'recipe.stage' op schedule sets both 'steps' and 'epochs'}}
  recipe.stage @s schedule {steps = 10 : i64, epochs = 1 : i64} {
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
  // expected-error @+1 {{'recipe.stage' op schedule 'batch' (32) is not a multiple of 'micro_batch' (5)}}
  recipe.stage @s schedule {batch = 32 : i64, micro_batch = 5 : i64} {
    recipe.train @lm on [@d]
    %0 = recipe.objective.term "nll" {}
    recipe.objective %0
  }
}

// -----

recipe.recipe @r {
  recipe.data @d = "sft" {path = "d.jsonl"} {
    // expected-error @+1 {{'builtin.module' op is not a 'recipe.split'; a data body holds only splits}}
    builtin.module {}
  }
}

// -----

recipe.recipe @r {
  // expected-error @+1 {{'recipe.data' op has 2 remainder splits; the rows left over form one split}}
  recipe.data @d = "sft" {path = "d.jsonl"} {
    recipe.split @train remainder
    recipe.split @rest remainder
  }
}

// -----

recipe.recipe @r {
  // expected-error @+1 {{'recipe.data' op splits take 110% of the rows, more than 100%}}
  recipe.data @d = "sft" {path = "d.jsonl"} {
    recipe.split @a = #recipe.percent<60.0>
    recipe.split @b = #recipe.percent<50.0>
  }
}

// -----

recipe.recipe @r {
  recipe.data @d = "sft" {path = "d.jsonl"} {
    // expected-error @+1 {{'recipe.split' op must be either a remainder split or have a rule, not neither}}
    recipe.split @a
  }
}

// -----

recipe.recipe @r {
  recipe.data @d = "sft" {path = "d.jsonl"} {
    // expected-error @+1 {{'recipe.split' op must be either a remainder split or have a rule, not both}}
    recipe.split @a remainder = #recipe.percent<5.0>
  }
}

// -----

recipe.recipe @r {
  recipe.data @d = "sft" {path = "d.jsonl"} {
    // expected-error @+1 {{'recipe.split' op takes 100% of the rows; a split takes between 0% and 100%}}
    recipe.split @a = #recipe.percent<100.0>
  }
}

// -----

recipe.recipe @r {
  recipe.data @d = "sft" {path = "d.jsonl"} {
    // expected-error @+1 {{'recipe.split' op takes 0% of the rows; a split takes between 0% and 100%}}
    recipe.split @a = #recipe.percent<0.0>
  }
}

// -----

recipe.recipe @r {
  recipe.data @d = "sft" {path = "d.jsonl"} {
    // expected-error @+1 {{'recipe.split' op rule 'sample' is not a split rule (where, file)}}
    recipe.split @a = #recipe.call<"sample", {}>
  }
}

// -----

recipe.recipe @r {
  recipe.data @d = "sft" {path = "d.jsonl"} {
    // expected-error @+1 {{'recipe.split' op rule must be a #recipe.percent or a #recipe.call to 'where' or 'file'}}
    recipe.split @a = 5 : i64
  }
}

// -----

recipe.recipe @r {
  recipe.data @d = "sft" {path = "d.jsonl"} {
    // expected-error @+1 {{'recipe.split' op groups rows 'by' a column, which only a percentage split can}}
    recipe.split @a = #recipe.call<"file", {path = "x.jsonl"}> by "user"
  }
}

// -----

recipe.recipe @r {
  recipe.data @d = "sft" {path = "d.jsonl"} {
    // expected-error @+1 {{'recipe.split' op groups by 'usr', not an id column (user, annotator, domain, group)}}
    recipe.split @a = #recipe.percent<10.0> by "usr"
  }
}

// -----

recipe.recipe @r {
  recipe.tokenizer @tok = "bytes" {}
  recipe.model @lm = "llama" tokenizer @tok {}
  recipe.data @d = "sft" {path = "d.jsonl"} {}
  recipe.stage @s schedule {} {
    recipe.train @lm on [@d]
    %0 = recipe.objective.term "rank_loss" {}
    %1 = recipe.objective.term "imitation" {}
    // expected-error @+1 {{'recipe.objective.sum' op has 2 terms but 1 weights}}
    %2 = recipe.objective.sum %0, %1 weights [1.0]
    recipe.objective %2
  }
}

// -----

recipe.recipe @r {
  recipe.tokenizer @tok = "bytes" {}
  recipe.model @lm = "llama" tokenizer @tok {}
  recipe.data @d = "sft" {path = "d.jsonl"} {}
  recipe.stage @s schedule {} {
    recipe.train @lm on [@d]
    // expected-error @+1 {{'recipe.objective.sum' op sums no terms}}
    %0 = recipe.objective.sum weights []
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
    %0 = recipe.objective.term "rank_loss" {}
    %1 = recipe.objective.term "imitation" {}
    // expected-error @+1 {{'recipe.objective.sum' op weight #1 is not finite}}
    %2 = recipe.objective.sum %0, %1 weights [1.0, 0x7FF0000000000000]
    recipe.objective %2
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
    // expected-error @+1 {{'recipe.loop' op kind 'ppo' is not a loop (em, rsf)}}
    recipe.loop "ppo" {}
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
    // expected-error @+1 {{'recipe.loop' op 'rsf' loop needs 'directions'}}
    recipe.loop "rsf" {prompts = @lm, scorer = @lm}
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
    // expected-error @+1 {{'recipe.loop' op runs 0 iterations; it needs at least 1}}
    recipe.loop "em" {iterations = 0 : i64}
  }
}

// -----

recipe.recipe @r {
  recipe.tokenizer @tok = "bytes" {}
  recipe.model @lm = "llama" tokenizer @tok {}
  recipe.data @d = "sft" {path = "d.jsonl"} {}
  // expected-error @+1 {{'recipe.train' op expects parent op 'recipe.stage'}}
  recipe.train @lm on [@d]
}
