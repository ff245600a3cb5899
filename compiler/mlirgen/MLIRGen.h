//===- MLIRGen.h - Checked AST to the recipe dialect ------------*- C++ -*-===//
//
// Toy's MLIRGen for .align recipes: one `recipe` op per declaration, stage, train item, objective term,
// loop and eval item, each located at its source range (FileLineColLoc), so verifier errors on the IR
// point at the recipe line that produced it.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "AST.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/OwningOpRef.h"

namespace mlir {
class MLIRContext;
} // namespace mlir

namespace align {

/// Builds a module holding one `recipe.recipe` per recipe of `file`, which must have passed Sema
/// without errors. The context must have the recipe dialect loaded. The module is not verified here.
mlir::OwningOpRef<mlir::ModuleOp> mlirGen(mlir::MLIRContext &context, const ast::File &file);

} // namespace align
