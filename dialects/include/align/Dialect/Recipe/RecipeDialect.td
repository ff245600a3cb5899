//===- RecipeDialect.td - The recipe dialect ---------------*- tablegen -*-===//
//
// `recipe` is what the user wrote, after Sema: one op per declaration, stages with their training
// targets, objective expressions and schedules. Passes lower it to the `train` dialect.
//
//===----------------------------------------------------------------------===//
#ifndef ALIGN_DIALECT_RECIPE_RECIPEDIALECT_TD
#define ALIGN_DIALECT_RECIPE_RECIPEDIALECT_TD

include "mlir/IR/OpBase.td"

def Recipe_Dialect : Dialect {
  let name = "recipe";
  let cppNamespace = "::align::recipe";
  let summary = "An alignment recipe as written: declarations, stages, objectives, schedules.";
  let description = [{
    A `recipe.recipe` op is a symbol table holding one op per declaration of the `.align` source
    (`recipe.tokenizer`, `recipe.model`, `recipe.data` with its `recipe.split`s, ...) and one
    `recipe.stage` per stage. Names become symbols; references become symbol references (a data split is
    the nested reference `@data::@split`). Constructor arguments are kept as a dictionary of attributes
    after Sema's normalisation (defaults included), with nested constructor calls as `#recipe.call`
    and quantities with units as `#recipe.percent`, `#recipe.angle` and `#recipe.duration`.
    Verifiers re-check the invariants that later rewrites could break.
  }];
  let useDefaultTypePrinterParser = 1;
  let useDefaultAttributePrinterParser = 1;
  let useFoldAPI = kEmitFoldAdaptorFolder; // remove on LLVM >= 17 (the only fold API there)
  let extraClassDeclaration = [{
    void registerTypes();
    void registerAttributes();
  }];
}

class Recipe_Op<string mnemonic, list<Trait> traits = []> : Op<Recipe_Dialect, mnemonic, traits>;

#endif // ALIGN_DIALECT_RECIPE_RECIPEDIALECT_TD
