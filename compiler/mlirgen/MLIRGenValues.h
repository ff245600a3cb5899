//===- MLIRGenValues.h - Recipe values as attributes ------------*- C++ -*-===//
//
// How a checked value of the language becomes an attribute: numbers (constant expressions folded),
// quantities with units, strings, booleans, references as symbol references (`prefs.eval` →
// `@prefs::@eval`), nested constructor calls as `#recipe.call`, lists as arrays.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "AST.h"
#include "Schema.h"

#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/Location.h"

#include <vector>

namespace align::mlirgen {

/// The location of `range`'s first character in `file`.
mlir::Location locationOf(mlir::MLIRContext &context, llvm::StringRef file, const ast::Range &range);

/// The attribute for a checked value. `param`, the schema's description of where the value goes, types
/// numbers: a `Number` parameter is an f64 even when written `1`, an `Int` one an i64.
mlir::Attribute valueAttr(mlir::MLIRContext &context, const ast::Expr &value, const schema::Param *param = nullptr);

/// A reference as a symbol reference: `@name`, or `@data::@split` for a data split.
mlir::SymbolRefAttr symbolRefAttr(mlir::MLIRContext &context, const ast::Expr &ref);

/// A reference that names one declaration or stage, as `@name`.
mlir::FlatSymbolRefAttr flatRefAttr(mlir::MLIRContext &context, const ast::Expr &ref);

/// `key = value` entries for the fields of `ctor` (typed by its schema entry, if any), leaving out the keys
/// in `skip` (those an op holds as its own attributes).
mlir::DictionaryAttr fieldsAttr(mlir::MLIRContext &context, const std::vector<ast::Field> &fields,
                                const schema::Constructor *ctor, llvm::ArrayRef<llvm::StringRef> skip = {});

/// `key = value` entries for a call's (normalised) arguments, typed by `ctor`'s schema entry.
mlir::DictionaryAttr argumentsAttr(mlir::MLIRContext &context, const std::vector<ast::Argument> &args,
                                   const schema::Constructor *ctor);

} // namespace align::mlirgen
