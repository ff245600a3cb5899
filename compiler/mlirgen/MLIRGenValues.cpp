//===- MLIRGenValues.cpp - Recipe values as attributes --------------------===//

#include "MLIRGenValues.h"

#include "align/Dialect/Recipe/RecipeOps.h"

#include "mlir/IR/Builders.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/StringExtras.h"

#include <cmath>
#include <optional>

using namespace mlir;

namespace align::mlirgen {
namespace {

/// A folded constant: a number with the unit of the literal it came from.
struct Number {
  double value = 0;
  bool isInteger = false;
  ast::ExprKind unit = ast::ExprKind::Number; // Number, Percent, Angle or Duration
};

bool isQuantity(ast::ExprKind kind) {
  return kind == ast::ExprKind::Number || kind == ast::ExprKind::Percent || kind == ast::ExprKind::Angle ||
         kind == ast::ExprKind::Duration || kind == ast::ExprKind::Size;
}

/// Folds a constant expression (`-45deg`, `5 / 2`); Sema has already checked its units.
std::optional<Number> fold(const ast::Expr &e) {
  if (isQuantity(e.kind))
    return Number{e.number, e.kind == ast::ExprKind::Number && e.isInteger, e.kind};
  if (e.kind == ast::ExprKind::Negate) {
    std::optional<Number> inner = fold(*e.operands[0]);
    if (inner)
      inner->value = -inner->value;
    return inner;
  }
  if (e.kind != ast::ExprKind::Binary)
    return std::nullopt;
  std::optional<Number> lhs = fold(*e.operands[0]), rhs = fold(*e.operands[1]);
  if (!lhs || !rhs)
    return std::nullopt;
  Number out;
  out.unit = lhs->unit != ast::ExprKind::Number ? lhs->unit : rhs->unit;
  out.isInteger = lhs->isInteger && rhs->isInteger && e.text != "/";
  if (e.text == "+")
    out.value = lhs->value + rhs->value;
  else if (e.text == "-")
    out.value = lhs->value - rhs->value;
  else if (e.text == "*")
    out.value = lhs->value * rhs->value;
  else
    out.value = lhs->value / rhs->value;
  return out;
}

/// Whether the schema wants a float where the recipe may have written an integer (`clip: 1`).
bool wantsFloat(const schema::Param *param) {
  return param && (param->type == schema::Ty::Number ||
                   (param->type == schema::Ty::List && param->element == schema::Ty::Number));
}

const schema::Param *findParam(const schema::Constructor *ctor, StringRef key) {
  if (!ctor)
    return nullptr;
  for (const schema::Param &param : ctor->params)
    if (param.name == key)
      return &param;
  return nullptr;
}

Attribute numberAttr(MLIRContext &context, Number n, const schema::Param *param) {
  if (wantsFloat(param))
    n.isInteger = false;
  Builder b(&context);
  switch (n.unit) {
  case ast::ExprKind::Percent:
    return recipe::PercentAttr::get(&context, n.value);
  case ast::ExprKind::Angle:
    return recipe::AngleAttr::get(&context, n.value);
  case ast::ExprKind::Duration:
    return recipe::DurationAttr::get(&context, n.value);
  case ast::ExprKind::Size:
    return recipe::SizeAttr::get(&context, n.value);
  default:
    if (n.isInteger && std::fabs(n.value) < 9.2e18)
      return b.getI64IntegerAttr(static_cast<int64_t>(n.value));
    return b.getF64FloatAttr(n.value);
  }
}

std::string spelled(const ast::Expr &ref) { return llvm::join(ref.path, "."); }

} // namespace

Location locationOf(MLIRContext &context, StringRef file, const ast::Range &range) {
  return FileLineColLoc::get(&context, file, range.begin.line, range.begin.col);
}

FlatSymbolRefAttr flatRefAttr(MLIRContext &context, const ast::Expr &ref) {
  if (ref.target == ast::RefTarget::Stage && ref.stage)
    return FlatSymbolRefAttr::get(&context, ref.stage->name);
  if (ref.decl)
    return FlatSymbolRefAttr::get(&context, ref.decl->name);
  return FlatSymbolRefAttr::get(&context, ref.path.empty() ? ref.text : ref.path.front());
}

SymbolRefAttr symbolRefAttr(MLIRContext &context, const ast::Expr &ref) {
  if (ref.target == ast::RefTarget::DataSplit && ref.path.size() == 2)
    return SymbolRefAttr::get(&context, ref.path[0], {FlatSymbolRefAttr::get(&context, ref.path[1])});
  return flatRefAttr(context, ref);
}

Attribute valueAttr(MLIRContext &context, const ast::Expr &e, const schema::Param *param) {
  Builder b(&context);
  if (std::optional<Number> n = fold(e))
    return numberAttr(context, *n, param);
  switch (e.kind) {
  case ast::ExprKind::String:
    return b.getStringAttr(ast::plainText(e.text));
  case ast::ExprKind::Bool:
    return b.getBoolAttr(e.boolean);
  case ast::ExprKind::Ref:
    // Declarations, stages and splits are symbols; enum values and new names (objective names) are words.
    if (e.target == ast::RefTarget::Decl || e.target == ast::RefTarget::Stage ||
        e.target == ast::RefTarget::DataSplit)
      return symbolRefAttr(context, e);
    return b.getStringAttr(spelled(e));
  case ast::ExprKind::Call:
    return recipe::CallAttr::get(&context, b.getStringAttr(e.text),
                                 argumentsAttr(context, e.args, schema::find(e.family, e.text)));
  case ast::ExprKind::List: {
    SmallVector<Attribute> items;
    for (const ast::ExprPtr &item : e.operands)
      items.push_back(valueAttr(context, *item, param));
    return b.getArrayAttr(items);
  }
  default:
    // `with` only appears as a policy's value, which MLIRGen takes apart itself.
    return b.getStringAttr(spelled(e));
  }
}

DictionaryAttr fieldsAttr(MLIRContext &context, const std::vector<ast::Field> &fields,
                          const schema::Constructor *ctor, ArrayRef<StringRef> skip) {
  SmallVector<NamedAttribute> entries;
  for (const ast::Field &field : fields)
    if (!llvm::is_contained(skip, field.key))
      entries.emplace_back(StringAttr::get(&context, field.key),
                           valueAttr(context, *field.value, findParam(ctor, field.key)));
  return DictionaryAttr::get(&context, entries);
}

DictionaryAttr argumentsAttr(MLIRContext &context, const std::vector<ast::Argument> &args,
                             const schema::Constructor *ctor) {
  SmallVector<NamedAttribute> entries;
  for (const ast::Argument &arg : args)
    entries.emplace_back(StringAttr::get(&context, arg.key), valueAttr(context, *arg.value, findParam(ctor, arg.key)));
  return DictionaryAttr::get(&context, entries);
}

} // namespace align::mlirgen
