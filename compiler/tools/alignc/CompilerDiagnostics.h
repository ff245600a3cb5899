//===- CompilerDiagnostics.h - MLIR diagnostics through the front end's engine -*- C++ -*-===//
//
// MLIRGen, the passes and the emitter report through MLIR's diagnostics (emitError at an op's location,
// which MLIRGen made the recipe position of what the op came from). While a CompilerDiagnostics lives, each
// of those becomes a diagnostic of the recipe's DiagnosticEngine (compiler/frontend/Diagnostics.h) at that
// position, with its notes — so `alignc check`, `--emit=...`, `build` and `run` print every error the same
// way: `file:line:col: error: ...` with the source line and a caret, or one JSON object per line with
// `--diagnostics=json`, and the same exit code.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "Diagnostics.h"
#include "Frontend.h"

#include "mlir/IR/Diagnostics.h"

#include <iosfwd>
#include <memory>
#include <string>

namespace align::driver {

enum class DiagnosticFormat { Text, Json };

class CompilerDiagnostics {
public:
  /// Routes `context`'s diagnostics into the engine of `result` (the checked recipe file).
  CompilerDiagnostics(mlir::MLIRContext &context, FrontendResult &result);
  /// An engine of its own over `source` (whose front-end diagnostics were printed already).
  CompilerDiagnostics(mlir::MLIRContext &context, const SourceFile &source);
  /// For a file with no front-end result (hand-written `.mlir`): an engine of its own over `path`'s text.
  CompilerDiagnostics(mlir::MLIRContext &context, const std::string &path);
  ~CompilerDiagnostics();

  DiagnosticEngine &engine() { return *engine_; }
  /// An error with no recipe position (an internal error, a file that cannot be written), in the same format.
  void error(const std::string &message);
  /// A front-end result's diagnostics alone (the recipe did not check), in the same format.
  static void printFrontend(const FrontendResult &result, DiagnosticFormat format, std::ostream &out,
                            std::ostream &err, bool color);
  /// Everything reported so far, as `alignc check` prints it (text to `err`, JSON lines to `out`).
  void print(DiagnosticFormat format, std::ostream &out, std::ostream &err, bool color) const;

private:
  std::unique_ptr<SourceFile> ownSource_;
  std::unique_ptr<DiagnosticEngine> ownEngine_;
  DiagnosticEngine *engine_;
  std::unique_ptr<mlir::ScopedDiagnosticHandler> handler_;
  void install(mlir::MLIRContext &context);
};

} // namespace align::driver
