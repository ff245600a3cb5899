//===- EmitCpp.h - train dialect → a C++ trainer ----------------*- C++ -*-===//
//
// The last stage of alignc: one train.program becomes one C++17 translation unit that includes only
// "align/rt/Trainer.h" (no torch header, so it compiles in about a second) and links libalign_rt.so:
//
//   static const align::rt::RecipeInfo recipe = {...};   every --set key, recipe value and location
//   static void run(align::rt::Trainer &t) {             straight-line calls in recipe order:
//     t.tokenizer(...); t.model(...); t.data(...);        declarations
//     ... StageSpec per stage ...; t.stage(spec);         objective, schedule, compiler decisions
//     t.evaluate(...);                                    the recipe's evaluations
//   }
//   int main(int argc, char **argv) { return align::rt::trainerMain(argc, argv, recipe, run); }
//
// Every statement carries its recipe location as a comment, and every value the recipe names is read
// through t.number/integer/text/flag under a key (TrainerWriter.h lists the scheme). A construct the runtime
// does not execute yet is an error at its op's location (RuntimeSupport.h); nothing is written then.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "mlir/IR/BuiltinOps.h"
#include "mlir/Support/LogicalResult.h"

#include "llvm/Support/raw_ostream.h"

#include <string>

namespace align::emit {

struct CppEmitOptions {
  /// The recipe file named in the header comment and RecipeInfo.source; "" takes the program's location.
  std::string sourcePath;
};

/// Writes the trainer of the one train.program in `module` to `os`. Diagnostics go to the context's
/// handler; on failure nothing has been written.
mlir::LogicalResult emitTrainerCpp(mlir::ModuleOp module, llvm::raw_ostream &os, const CppEmitOptions &options = {});

} // namespace align::emit
