//===- RecipeOps.td - Ops of the recipe dialect ------------*- tablegen -*-===//
//
// One op per declaration kind, the recipe and stage containers, what a stage trains, its objective as an
// expression of ops, its loop and its evaluation. References are symbol references resolved lexically:
// a stage's own declarations first, then the recipe's.
//
//===----------------------------------------------------------------------===//
#ifndef ALIGN_DIALECT_RECIPE_RECIPEOPS_TD
#define ALIGN_DIALECT_RECIPE_RECIPEOPS_TD

include "align/Dialect/Recipe/RecipeDialect.td"
include "align/Dialect/Recipe/RecipeTypes.td"
include "align/Dialect/Recipe/RecipeAttributes.td"
include "mlir/IR/OpAsmInterface.td"
include "mlir/IR/SymbolInterfaces.td"
include "mlir/Interfaces/SideEffectInterfaces.td"

//===----------------------------------------------------------------------===//
// Containers
//===----------------------------------------------------------------------===//

def Recipe_RecipeOp : Recipe_Op<"recipe", [Symbol, SymbolTable, SingleBlock, NoTerminator, IsolatedFromAbove]> {
  let summary = "a recipe: its declarations, stages and recipe-level evaluation";
  let description = [{
    ```mlir
    recipe.recipe @dpo {
      recipe.tokenizer @tok = "bytes" {}
      recipe.model @lm = "llama" tokenizer @tok {preset = "tiny", seed = 0 : i64}
      recipe.stage @sft schedule {...} { ... }
    }
    ```
    Stages run in the order they appear in the body.
  }];
  let arguments = (ins SymbolNameAttr:$sym_name);
  let regions = (region SizedRegion<1>:$bodyRegion);
  let assemblyFormat = "$sym_name attr-dict-with-keyword $bodyRegion";
}

def Recipe_StageOp : Recipe_Op<"stage", [Symbol, SymbolTable, SingleBlock, NoTerminator,
    HasParent<"RecipeOp">, DeclareOpInterfaceMethods<SymbolUserOpInterface>]> {
  let summary = "a training stage: targets, one objective, an optional loop, a schedule";
  let description = [{
    `init_from` names an earlier stage whose result the stage starts from. `schedule` is the stage's
    effective schedule (schema defaults, then the recipe's `schedule`, then the stage's own), one entry per
    field; nested calls (`optimizer`, `lr_schedule`) are `#recipe.call`s. The body holds the stage's own
    declarations (`recipe.policy`, `recipe.reference`), its `recipe.train` items, the objective expression
    ending in one `recipe.objective`, at most one `recipe.loop`, and `recipe.eval` items.
  }];
  let arguments = (ins SymbolNameAttr:$sym_name, OptionalAttr<FlatSymbolRefAttr>:$init_from,
                       DictionaryAttr:$schedule);
  let regions = (region SizedRegion<1>:$bodyRegion);
  let assemblyFormat = [{
    $sym_name (`init_from` $init_from^)? `schedule` $schedule attr-dict-with-keyword $bodyRegion
  }];
  let hasVerifier = 1;
  let extraClassDeclaration = [{
    /// The stage's `recipe.objective`, or null when there is none.
    ::mlir::Operation *getObjective();
  }];
}

//===----------------------------------------------------------------------===//
// Declarations
//===----------------------------------------------------------------------===//

// A declaration: a symbol in the recipe or in a stage; every symbol reference in its attributes must
// resolve (checked by verifySymbolUses).
class Recipe_DeclOp<string mnemonic, list<Trait> traits = []> : Recipe_Op<mnemonic, !listconcat(traits,
    [Symbol, ParentOneOf<["RecipeOp", "StageOp"]>, DeclareOpInterfaceMethods<SymbolUserOpInterface>])>;

// The common shape `kind @name = "constructor" {params}`.
class Recipe_ConstructedDeclOp<string mnemonic, string what> : Recipe_DeclOp<mnemonic> {
  let summary = what;
  let arguments = (ins SymbolNameAttr:$sym_name, StrAttr:$constructor, DictionaryAttr:$params);
  let assemblyFormat = "$sym_name `=` $constructor $params attr-dict-with-keyword";
}

def Recipe_TokenizerOp : Recipe_ConstructedDeclOp<"tokenizer", "a tokenizer (`bytes`, `hf`)">;
def Recipe_UsersOp : Recipe_ConstructedDeclOp<"users", "a P-RLHF user model (`individual`, `cluster`)">;
def Recipe_PreferenceOp : Recipe_ConstructedDeclOp<"preference",
    "a preference structure (`bradley_terry`, `plackett_luce`, `latent`, `direction`)">;
def Recipe_AdapterOp : Recipe_ConstructedDeclOp<"adapter", "a parameter-efficient adapter (`lora`)">;

def Recipe_ModelOp : Recipe_DeclOp<"model"> {
  let summary = "a language model (`llama`, `qwen2`, `mistral`, `hf`) and the tokenizer it reads";
  let arguments = (ins SymbolNameAttr:$sym_name, StrAttr:$constructor, FlatSymbolRefAttr:$tokenizer,
                       DictionaryAttr:$params);
  let assemblyFormat = "$sym_name `=` $constructor `tokenizer` $tokenizer $params attr-dict-with-keyword";
}

def Recipe_DataOp : Recipe_DeclOp<"data", [SymbolTable, SingleBlock, NoTerminator]> {
  let summary = "a data source (`pairwise`, `ranking`, `scored`, `rated`, `sft`, ...) and its splits";
  let description = [{
    The body holds one `recipe.split` per split, including the implicit `train` split (the rows no other
    split takes), so `@data::@split` references resolve like any nested symbol.
  }];
  let arguments = (ins SymbolNameAttr:$sym_name, StrAttr:$constructor, DictionaryAttr:$params);
  let regions = (region SizedRegion<1>:$bodyRegion);
  let assemblyFormat = "$sym_name `=` $constructor $params attr-dict-with-keyword $bodyRegion";
  let hasRegionVerifier = 1;
}

def Recipe_SplitOp : Recipe_Op<"split", [Symbol, HasParent<"DataOp">]> {
  let summary = "a split of a data source";
  let description = [{
    Exactly one of: `remainder` (the rows no other split takes), a `#recipe.percent` of the shuffled
    rows (optionally kept together `by` an id column), or a `#recipe.call<"where", ...>` /
    `#recipe.call<"file", ...>` rule.
    ```mlir
    recipe.split @eval = #recipe.percent<10.0> by "annotator"
    recipe.split @train remainder
    ```
  }];
  let arguments = (ins SymbolNameAttr:$sym_name, UnitAttr:$remainder, OptionalAttr<AnyAttr>:$rule,
                       OptionalAttr<StrAttr>:$by);
  let assemblyFormat = "$sym_name (`remainder` $remainder^)? (`=` $rule^)? (`by` $by^)? attr-dict";
  let hasVerifier = 1;
}

def Recipe_TemplateOp : Recipe_DeclOp<"template"> {
  let summary = "a text template with `{placeholder}`s";
  let arguments = (ins SymbolNameAttr:$sym_name, StrAttr:$text);
  let assemblyFormat = "$sym_name `=` $text attr-dict";
}

def Recipe_RewardOp : Recipe_DeclOp<"reward"> {
  let summary = "a reward model (`scalar`, `regression`) on a model or a stage's result";
  let arguments = (ins SymbolNameAttr:$sym_name, StrAttr:$constructor, FlatSymbolRefAttr:$base,
                       DictionaryAttr:$params);
  let assemblyFormat = "$sym_name `=` $constructor `base` $base $params attr-dict-with-keyword";
}

def Recipe_PolicyOp : Recipe_DeclOp<"policy"> {
  let summary = "a policy: a model, optionally with users, a preference direction or an adapter";
  let description = [{
    `policy pi = lm with people;` becomes `recipe.policy @pi = @lm with [@people]`.
  }];
  let arguments = (ins SymbolNameAttr:$sym_name, FlatSymbolRefAttr:$base,
                       OptionalAttr<FlatSymbolRefArrayAttr>:$with);
  let assemblyFormat = "$sym_name `=` $base (`with` $with^)? attr-dict";
}

def Recipe_ReferenceOp : Recipe_DeclOp<"reference"> {
  let summary = "a frozen reference model: a model, or the result of an earlier stage";
  let arguments = (ins SymbolNameAttr:$sym_name, StrAttr:$constructor, FlatSymbolRefAttr:$source);
  let assemblyFormat = "$sym_name `=` $constructor $source attr-dict";
}

def Recipe_AggregateOp : Recipe_DeclOp<"aggregate"> {
  let summary = "an aggregation of a stage's policies (`minmax_regret`, `mean`, `weighted`, `conditioned`)";
  let arguments = (ins SymbolNameAttr:$sym_name, StrAttr:$constructor, FlatSymbolRefAttr:$policies,
                       DictionaryAttr:$params);
  let assemblyFormat = "$sym_name `=` $constructor `policies` $policies $params attr-dict-with-keyword";
}

//===----------------------------------------------------------------------===//
// Stage contents
//===----------------------------------------------------------------------===//

def Recipe_TrainOp : Recipe_Op<"train", [HasParent<"StageOp">,
    DeclareOpInterfaceMethods<SymbolUserOpInterface>]> {
  let summary = "what a stage trains (a model, policy or reward) and on which data";
  let description = [{
    ```mlir
    recipe.train @pi on [@prefs::@train, @extra]
    ```
  }];
  let arguments = (ins FlatSymbolRefAttr:$target, SymbolRefArrayAttr:$data);
  let assemblyFormat = "$target `on` $data attr-dict";
}

def Recipe_ObjectiveTermOp : Recipe_Op<"objective.term", [Pure, HasParent<"StageOp">,
    DeclareOpInterfaceMethods<SymbolUserOpInterface>]> {
  let summary = "one loss term (`dpo`, `pdpo`, `rank_loss`, `imitation`, ...) with its parameters";
  let arguments = (ins StrAttr:$kind, DictionaryAttr:$params);
  let results = (outs Recipe_ObjectiveType:$result);
  let assemblyFormat = "$kind $params attr-dict-with-keyword";
}

def Recipe_ObjectiveSumOp : Recipe_Op<"objective.sum", [Pure]> {
  let summary = "a weighted sum of objectives";
  let description = [{
    `rank_loss() + 0.1 * imitation()` becomes
    ```mlir
    %0 = recipe.objective.term "rank_loss" {...}
    %1 = recipe.objective.term "imitation" {...}
    %2 = recipe.objective.sum %0, %1 weights [1.0, 0.1]
    ```
    One weight per term, each finite.
  }];
  let arguments = (ins Variadic<Recipe_ObjectiveType>:$terms, DenseF64ArrayAttr:$weights);
  let results = (outs Recipe_ObjectiveType:$result);
  let assemblyFormat = "$terms `weights` $weights attr-dict";
  let hasVerifier = 1;
}

def Recipe_ObjectiveOp : Recipe_Op<"objective", [HasParent<"StageOp">]> {
  let summary = "the objective the stage minimises";
  let arguments = (ins Recipe_ObjectiveType:$value);
  let assemblyFormat = "$value attr-dict";
}

def Recipe_LoopOp : Recipe_Op<"loop", [HasParent<"StageOp">,
    DeclareOpInterfaceMethods<SymbolUserOpInterface>]> {
  let summary = "an outer loop around the stage's training (`em`, `rsf`)";
  let arguments = (ins StrAttr:$kind, DictionaryAttr:$params);
  let assemblyFormat = "$kind $params attr-dict-with-keyword";
  let hasVerifier = 1;
}

def Recipe_EvalOp : Recipe_Op<"eval", [ParentOneOf<["RecipeOp", "StageOp"]>,
    DeclareOpInterfaceMethods<SymbolUserOpInterface>]> {
  let summary = "an evaluation metric, optionally broken down `by` a column, on data";
  let description = [{
    ```mlir
    recipe.eval "accuracy" by "user" on [@prefs::@eval] {}
    ```
  }];
  let arguments = (ins StrAttr:$metric, OptionalAttr<StrAttr>:$by, SymbolRefArrayAttr:$data,
                       DictionaryAttr:$params);
  let assemblyFormat = "$metric (`by` $by^)? `on` $data $params attr-dict-with-keyword";
}

#endif // ALIGN_DIALECT_RECIPE_RECIPEOPS_TD
