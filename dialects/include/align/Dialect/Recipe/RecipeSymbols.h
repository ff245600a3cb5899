//===- RecipeSymbols.h - Lexical symbol lookup in recipes -------*- C++ -*-===//
//
// Recipes scope names like the source does: a stage's own declarations first, then the recipe's. These
// helpers resolve a reference that way and check what kind of declaration it names, with one wording for
// every verifier's error.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/Operation.h"
#include "llvm/ADT/StringRef.h"

namespace align::recipe {

/// The op `ref` names, looked up in every symbol table enclosing `from` (innermost first), or null.
mlir::Operation *lookupInScope(mlir::Operation *from, mlir::SymbolRefAttr ref);

/// Resolves `ref` for `user`, or reports "`role` @x is not declared" on `user` and returns null.
mlir::Operation *resolveRef(mlir::Operation *user, mlir::SymbolRefAttr ref, llvm::StringRef role);

/// Resolves `ref` and checks that it names one of `OpTys`; on a mismatch reports
/// "`role` @x names a 'recipe.kind', expected `expected`".
template <typename... OpTys>
mlir::Operation *resolveRefOf(mlir::Operation *user, mlir::SymbolRefAttr ref, llvm::StringRef role,
                              llvm::StringRef expected);

/// Checks that every symbol reference anywhere inside `attr` (dictionaries, arrays, `#recipe.call`s)
/// resolves from `user`; `role` names the attribute in the error.
mlir::LogicalResult verifyNestedRefs(mlir::Operation *user, mlir::Attribute attr, llvm::StringRef role);

/// A data reference (`@data` or `@data::@split`) must name a `recipe.data` or one of its splits.
mlir::LogicalResult verifyDataRef(mlir::Operation *user, mlir::SymbolRefAttr ref, llvm::StringRef role);

/// Reports "... names a 'recipe.kind', expected ..." on `user`.
mlir::LogicalResult emitWrongKind(mlir::Operation *user, mlir::SymbolRefAttr ref, mlir::Operation *found,
                                  llvm::StringRef role, llvm::StringRef expected);

template <typename... OpTys>
mlir::Operation *resolveRefOf(mlir::Operation *user, mlir::SymbolRefAttr ref, llvm::StringRef role,
                              llvm::StringRef expected) {
  mlir::Operation *found = resolveRef(user, ref, role);
  if (!found)
    return nullptr;
  if (!llvm::isa<OpTys...>(found)) {
    (void)emitWrongKind(user, ref, found, role, expected);
    return nullptr;
  }
  return found;
}

} // namespace align::recipe
