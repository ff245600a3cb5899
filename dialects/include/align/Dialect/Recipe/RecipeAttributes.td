//===- RecipeAttributes.td - Attributes of the recipe dialect -*- tablegen -*-===//
//
// Values of a recipe that the builtin attributes cannot say without losing meaning: a nested constructor
// call (`adamw(lr: 1e-4)`) and numbers with a unit (`10%`, `45deg`, `10min`).
//
//===----------------------------------------------------------------------===//
#ifndef ALIGN_DIALECT_RECIPE_RECIPEATTRIBUTES_TD
#define ALIGN_DIALECT_RECIPE_RECIPEATTRIBUTES_TD

include "align/Dialect/Recipe/RecipeDialect.td"
include "mlir/IR/AttrTypeBase.td"

class Recipe_Attr<string name, string attrMnemonic> : AttrDef<Recipe_Dialect, name> {
  let mnemonic = attrMnemonic;
}

def Recipe_CallAttr : Recipe_Attr<"Call", "call"> {
  let summary = "a constructor call used as a value, e.g. an optimizer or an initialiser";
  let description = [{
    `adamw(lr: 1e-4)` in a schedule becomes `#recipe.call<"adamw", {lr = 1.0e-04 : f64, ...}>`: the
    callee and its normalised arguments (defaults included).
  }];
  let parameters = (ins "::mlir::StringAttr":$callee, "::mlir::DictionaryAttr":$args);
  let assemblyFormat = "`<` $callee `,` $args `>`";
}

// A double (held as an APFloat, which storage can hash), printed so that it parses back to the same bits.
def Recipe_DoubleParameter : APFloatParameter<"a number"> {
  let parser = [{ ::align::recipe::parseDouble($_parser) }];
  let printer = [{ ::align::recipe::printDouble($_printer, $_self.convertToDouble()) }];
}

class Recipe_QuantityAttr<string name, string attrMnemonic, string unit> : Recipe_Attr<name, attrMnemonic> {
  let summary = "a number in " # unit;
  let parameters = (ins Recipe_DoubleParameter:$value);
  let assemblyFormat = "`<` $value `>`";
  let builders = [AttrBuilder<(ins "double":$number), [{
    return $_get($_ctxt, ::llvm::APFloat(number));
  }]>];
  let extraClassDeclaration = [{
    double getNumber() const { return getValue().convertToDouble(); }
  }];
}

def Recipe_PercentAttr : Recipe_QuantityAttr<"Percent", "percent", "percent (`10%` is 10)">;
def Recipe_AngleAttr : Recipe_QuantityAttr<"Angle", "angle", "degrees">;
def Recipe_DurationAttr : Recipe_QuantityAttr<"Duration", "duration", "seconds">;
def Recipe_SizeAttr : Recipe_QuantityAttr<"Size", "size", "bytes">;

#endif // ALIGN_DIALECT_RECIPE_RECIPEATTRIBUTES_TD
