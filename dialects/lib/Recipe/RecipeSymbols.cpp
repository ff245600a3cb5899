//===- RecipeSymbols.cpp - Lexical symbol lookup in recipes ---------------===//

#include "align/Dialect/Recipe/RecipeSymbols.h"
#include "align/Dialect/Recipe/RecipeOps.h"

#include "mlir/IR/SymbolTable.h"

using namespace mlir;

namespace align::recipe {

Operation *lookupInScope(Operation *from, SymbolRefAttr ref) {
  // Start above `from`: a stage's `init_from` is looked up among the recipe's symbols, not the stage's.
  for (Operation *scope = from->getParentOp(); scope; scope = scope->getParentOp())
    if (scope->hasTrait<OpTrait::SymbolTable>())
      if (Operation *found = SymbolTable::lookupSymbolIn(scope, ref))
        return found;
  return nullptr;
}

Operation *resolveRef(Operation *user, SymbolRefAttr ref, StringRef role) {
  if (Operation *found = lookupInScope(user, ref))
    return found;
  user->emitOpError() << role << " " << ref << " is not declared";
  return nullptr;
}

LogicalResult emitWrongKind(Operation *user, SymbolRefAttr ref, Operation *found, StringRef role,
                            StringRef expected) {
  return user->emitOpError() << role << " " << ref << " names a '" << found->getName() << "', expected "
                             << expected;
}

LogicalResult verifyNestedRefs(Operation *user, Attribute attr, StringRef role) {
  if (auto ref = dyn_cast<SymbolRefAttr>(attr))
    return success(resolveRef(user, ref, role) != nullptr);
  if (auto dict = dyn_cast<DictionaryAttr>(attr)) {
    for (NamedAttribute entry : dict)
      if (failed(verifyNestedRefs(user, entry.getValue(), (role + "." + entry.getName().getValue()).str())))
        return failure();
    return success();
  }
  if (auto array = dyn_cast<ArrayAttr>(attr)) {
    for (Attribute element : array)
      if (failed(verifyNestedRefs(user, element, role)))
        return failure();
    return success();
  }
  if (auto call = dyn_cast<CallAttr>(attr))
    return verifyNestedRefs(user, call.getArgs(), role);
  return success();
}

LogicalResult verifyDataRef(Operation *user, SymbolRefAttr ref, StringRef role) {
  // A missing split gets its own message: the data exists, the split does not.
  if (!ref.getNestedReferences().empty() && !lookupInScope(user, ref))
    if (auto data = dyn_cast_or_null<DataOp>(lookupInScope(user, FlatSymbolRefAttr::get(ref.getRootReference()))))
      return user->emitOpError() << role << " " << ref << ": data @" << data.getSymName() << " has no split @"
                                 << ref.getLeafReference().getValue();
  Operation *found = resolveRef(user, ref, role);
  if (!found)
    return failure();
  if (isa<DataOp, SplitOp>(found))
    return success();
  return emitWrongKind(user, ref, found, role, "data or a data split");
}

} // namespace align::recipe
