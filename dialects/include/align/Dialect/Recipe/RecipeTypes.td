//===- RecipeTypes.td - Types of the recipe dialect --------*- tablegen -*-===//
#ifndef ALIGN_DIALECT_RECIPE_RECIPETYPES_TD
#define ALIGN_DIALECT_RECIPE_RECIPETYPES_TD

include "align/Dialect/Recipe/RecipeDialect.td"
include "mlir/IR/AttrTypeBase.td"

class Recipe_Type<string name, string typeMnemonic> : TypeDef<Recipe_Dialect, name> {
  let mnemonic = typeMnemonic;
}

def Recipe_ObjectiveType : Recipe_Type<"Objective", "objective"> {
  let summary = "a training objective: a loss term or a weighted sum of them";
}

#endif // ALIGN_DIALECT_RECIPE_RECIPETYPES_TD
