//===- MLIRGen.cpp - Checked AST to the recipe dialect --------------------===//
//
// Walks a recipe the way Toy's MLIRGen walks a module: declarations first (their order does not matter,
// they are symbols), then stages in source order (their order is the run order), then recipe-level
// evaluation. Sema has resolved every reference and normalised every argument list, so this is a
// translation, not a check: the verifiers re-check the result.
//
//===----------------------------------------------------------------------===//

#include "MLIRGen.h"
#include "MLIRGenValues.h"

#include "align/Dialect/Recipe/RecipeOps.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/MLIRContext.h"

#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"

#include <optional>

using namespace mlir;
namespace recipe = align::recipe;

namespace align {
namespace {

class RecipeGen {
public:
  RecipeGen(MLIRContext &context, std::string file) : context_(context), builder_(&context), file_(std::move(file)) {}

  OwningOpRef<ModuleOp> file(const ast::File &file) {
    OwningOpRef<ModuleOp> module = ModuleOp::create(FileLineColLoc::get(&context_, file_, 1, 1));
    builder_.setInsertionPointToEnd(module->getBody());
    for (const ast::Recipe &r : file.recipes)
      recipeOp(r);
    return module;
  }

private:
  Location loc(const ast::Range &range) { return mlirgen::locationOf(context_, file_, range); }
  StringAttr str(StringRef text) { return builder_.getStringAttr(text); }

  void recipeOp(const ast::Recipe &r) {
    auto op = builder_.create<recipe::RecipeOp>(loc(r.range), str(r.name));
    OpBuilder::InsertionGuard guard(builder_);
    builder_.createBlock(&op.getBodyRegion());
    for (const ast::DeclPtr &d : r.decls)
      declOp(*d);
    for (const ast::StagePtr &s : r.stages)
      stageOp(*s);
    for (const ast::EvalBlock &block : r.evals)
      evalOps(block);
  }

  //===--------------------------------------------------------------------===//
  // Declarations
  //===--------------------------------------------------------------------===//

  /// The reference a declaration holds as a parameter (`tokenizer: tok`), as `@tok`.
  FlatSymbolRefAttr paramRef(const ast::Decl &d, StringRef key) {
    const ast::Field *field = d.param(key.str());
    return field ? mlirgen::flatRefAttr(context_, *field->value) : FlatSymbolRefAttr::get(&context_, "");
  }

  DictionaryAttr params(const ast::Decl &d, ArrayRef<StringRef> skip = {}) {
    return mlirgen::fieldsAttr(context_, d.params, schema::find(ast::declKindName(d.kind), d.constructor), skip);
  }

  /// Tokenizer files and checkpoints ship with recipes, not with data: a relative `path` / `checkpoint` names a
  /// file beside the recipe, so it is made absolute against the recipe file's directory here, where the file is
  /// known. Data paths stay relative to the trainer's --data-root.
  DictionaryAttr besideRecipe(DictionaryAttr params, ArrayRef<StringRef> keys) {
    NamedAttrList entries(params);
    for (StringRef key : keys) {
      auto path = params.getAs<StringAttr>(key);
      if (!path || path.getValue().empty() || llvm::sys::path::is_absolute(path.getValue()) || file_ == "-" ||
          file_ == "<stdin>")
        continue;
      SmallString<256> resolved(file_);
      llvm::sys::fs::make_absolute(resolved);
      llvm::sys::path::remove_filename(resolved);
      llvm::sys::path::append(resolved, path.getValue());
      llvm::sys::path::remove_dots(resolved, /*remove_dot_dot=*/true);
      entries.set(key, str(resolved));
    }
    return entries.getDictionary(&context_);
  }

  void declOp(const ast::Decl &d) {
    Location l = loc(d.range);
    StringAttr name = str(d.name), ctor = str(d.constructor);
    switch (d.kind) {
    case ast::DeclKind::Tokenizer:
      builder_.create<recipe::TokenizerOp>(l, name, ctor, besideRecipe(params(d), {"path"}));
      return;
    case ast::DeclKind::Users:
      builder_.create<recipe::UsersOp>(l, name, ctor, params(d));
      return;
    case ast::DeclKind::Preference:
      builder_.create<recipe::PreferenceOp>(l, name, ctor, params(d));
      return;
    case ast::DeclKind::Adapter:
      builder_.create<recipe::AdapterOp>(l, name, ctor, params(d));
      return;
    case ast::DeclKind::Model:
      builder_.create<recipe::ModelOp>(l, name, ctor, paramRef(d, "tokenizer"),
                                       besideRecipe(params(d, {"tokenizer"}), {"path", "checkpoint"}));
      return;
    case ast::DeclKind::Reward:
      builder_.create<recipe::RewardOp>(l, name, ctor, paramRef(d, "base"), params(d, {"base"}));
      return;
    case ast::DeclKind::Aggregate:
      builder_.create<recipe::AggregateOp>(l, name, ctor, paramRef(d, "policies"), params(d, {"policies"}));
      return;
    case ast::DeclKind::Reference:
      builder_.create<recipe::ReferenceOp>(l, name, ctor, paramRef(d, "model"));
      return;
    case ast::DeclKind::Template:
      // The text keeps the template escapes (\{ \} \\) so placeholders stay distinguishable from braces.
      builder_.create<recipe::TemplateOp>(l, name, str(d.value ? d.value->text : ""));
      return;
    case ast::DeclKind::Policy:
      policyOp(d, l);
      return;
    case ast::DeclKind::Data:
      dataOp(d, l);
      return;
    }
  }

  /// `lm with people with lora` → `@lm with [@people, @lora]`.
  void policyOp(const ast::Decl &d, Location l) {
    SmallVector<Attribute> attached;
    const ast::Expr *cursor = d.value.get();
    while (cursor->kind == ast::ExprKind::With) {
      attached.insert(attached.begin(), mlirgen::flatRefAttr(context_, *cursor->operands[1]));
      cursor = cursor->operands[0].get();
    }
    ArrayAttr with = attached.empty() ? ArrayAttr() : builder_.getArrayAttr(attached);
    builder_.create<recipe::PolicyOp>(l, str(d.name), mlirgen::flatRefAttr(context_, *cursor), with);
  }

  /// A data op with one split op per split, plus the implicit `train` split of the rows left over.
  void dataOp(const ast::Decl &d, Location l) {
    auto data = builder_.create<recipe::DataOp>(l, str(d.name), str(d.constructor), params(d));
    OpBuilder::InsertionGuard guard(builder_);
    builder_.createBlock(&data.getBodyRegion());
    bool hasTrain = false;
    if (d.block)
      for (const ast::Split &split : d.block->splits) {
        hasTrain |= split.name == "train";
        builder_.create<recipe::SplitOp>(loc(split.range), str(split.name), UnitAttr(),
                                         mlirgen::valueAttr(context_, *split.value, nullptr),
                                         split.by.empty() ? StringAttr() : str(split.by));
      }
    if (!hasTrain)
      builder_.create<recipe::SplitOp>(l, str("train"), builder_.getUnitAttr(), Attribute(), StringAttr());
  }

  //===--------------------------------------------------------------------===//
  // Stages
  //===--------------------------------------------------------------------===//

  void stageOp(const ast::Stage &s) {
    FlatSymbolRefAttr init = s.init ? FlatSymbolRefAttr::get(&context_, s.init->source) : FlatSymbolRefAttr();
    auto stage = builder_.create<recipe::StageOp>(loc(s.range), str(s.name), init,
                                                  mlirgen::fieldsAttr(context_, s.effectiveSchedule,
                                                                      schema::find("schedule", "schedule")));
    OpBuilder::InsertionGuard guard(builder_);
    builder_.createBlock(&stage.getBodyRegion());
    for (const ast::DeclPtr &d : s.decls)
      declOp(*d);
    for (const ast::TrainItem &t : s.trains) {
      SmallVector<Attribute> data;
      for (const ast::ExprPtr &ref : t.data)
        data.push_back(mlirgen::symbolRefAttr(context_, *ref));
      builder_.create<recipe::TrainOp>(loc(t.range), FlatSymbolRefAttr::get(&context_, t.target),
                                       builder_.getArrayAttr(data));
    }
    for (const auto &[range, objective] : s.objectives)
      builder_.create<recipe::ObjectiveOp>(loc(range), objectiveValue(*objective));
    for (const ast::Loop &loop : s.loops)
      builder_.create<recipe::LoopOp>(loc(loop.range), str(loop.kind),
                                      mlirgen::fieldsAttr(context_, loop.block.fields, schema::find("loop", loop.kind)));
    for (const ast::EvalBlock &block : s.evals)
      evalOps(block);
  }

  /// A term of an objective sum: a loss call and the constant it is multiplied by.
  struct WeightedTerm {
    const ast::Expr *call;
    double weight;
  };

  /// Flattens `a + 0.1 * b - c / 2` into weighted calls; Sema guarantees each product has one constant side.
  void collectTerms(const ast::Expr &e, double weight, std::vector<WeightedTerm> &out) {
    auto constant = [](const ast::Expr &x) -> std::optional<double> {
      if (x.kind == ast::ExprKind::Number)
        return x.number;
      if (x.kind == ast::ExprKind::Negate && x.operands[0]->kind == ast::ExprKind::Number)
        return -x.operands[0]->number;
      return std::nullopt;
    };
    if (e.kind == ast::ExprKind::Negate) {
      collectTerms(*e.operands[0], -weight, out);
      return;
    }
    if (e.kind != ast::ExprKind::Binary) {
      out.push_back({&e, weight});
      return;
    }
    const ast::Expr &lhs = *e.operands[0], &rhs = *e.operands[1];
    if (e.text == "+" || e.text == "-") {
      collectTerms(lhs, weight, out);
      collectTerms(rhs, e.text == "+" ? weight : -weight, out);
    } else if (e.text == "*") {
      if (std::optional<double> c = constant(lhs))
        collectTerms(rhs, weight * *c, out);
      else
        collectTerms(lhs, weight * constant(rhs).value_or(1), out);
    } else { // "/": the constant is the divisor
      collectTerms(lhs, weight / constant(rhs).value_or(1), out);
    }
  }

  Value objectiveValue(const ast::Expr &objective) {
    std::vector<WeightedTerm> terms;
    collectTerms(objective, 1.0, terms);
    Type type = recipe::ObjectiveType::get(&context_);
    SmallVector<Value> values;
    SmallVector<double> weights;
    for (const WeightedTerm &term : terms) {
      DictionaryAttr args =
          mlirgen::argumentsAttr(context_, term.call->args, schema::find("objective", term.call->text));
      values.push_back(builder_.create<recipe::ObjectiveTermOp>(loc(term.call->range), type, str(term.call->text), args));
      weights.push_back(term.weight);
    }
    if (values.size() == 1 && weights.front() == 1.0)
      return values.front();
    return builder_.create<recipe::ObjectiveSumOp>(loc(objective.range), type, values,
                                                   builder_.getDenseF64ArrayAttr(weights));
  }

  void evalOps(const ast::EvalBlock &block) {
    for (const ast::EvalItem &item : block.items) {
      SmallVector<Attribute> data;
      for (const ast::ExprPtr &ref : item.data)
        data.push_back(mlirgen::symbolRefAttr(context_, *ref));
      builder_.create<recipe::EvalOp>(loc(item.range), str(item.metric), item.by.empty() ? StringAttr() : str(item.by),
                                      builder_.getArrayAttr(data),
                                      mlirgen::argumentsAttr(context_, item.args, schema::find("metric", item.metric)));
    }
  }

  MLIRContext &context_;
  OpBuilder builder_;
  std::string file_;
};

} // namespace

OwningOpRef<ModuleOp> mlirGen(MLIRContext &context, const ast::File &file) {
  return RecipeGen(context, file.path).file(file);
}

} // namespace align
