//===- TrainerSource.h - A recipe file → the C++ of its trainer --*- C++ -*-===//
//
// The whole compiler as one call, shared by `alignc --emit=cpp`, `alignc build` and `alignc run`: front end
// (diagnostics printed as `alignc check` prints them), MLIRGen, the recipe-to-train pipeline, and the C++
// emitter (compiler/emit). MLIR diagnostics (lowering, "not executed by the runtime yet") go through the same
// engine (CompilerDiagnostics.h): `FILE:LINE:COL: error: ...` with the recipe line and a caret, or JSON lines.
//
// `alignc --emit=cpp` also takes a `.mlir` file holding one train.program (hand-written train IR, for
// testing the emitter on programs the pipeline does not produce).
//
//===----------------------------------------------------------------------===//
#pragma once

#include "CompilerDiagnostics.h"
#include "Pipelines.h"

#include <optional>
#include <string>
#include <vector>

namespace align::driver {

struct TrainerSourceOptions {
  RecipeToTrainOptions pipeline; ///< the passes --no-fuse and --no-share-prefix leave out
  bool color = false;            ///< colored text diagnostics
  DiagnosticFormat format = DiagnosticFormat::Text; ///< --diagnostics=text|json
};

/// The trainer C++ for the recipe (or train-IR `.mlir`) file `path`; nullopt after printing why not.
std::optional<std::string> trainerSource(const std::string &path, const TrainerSourceOptions &options);

/// `alignc --emit=cpp FILE...`: prints each file's trainer; exit code 1 when any failed.
int emitCppCommand(const std::vector<std::string> &paths, const TrainerSourceOptions &options);

} // namespace align::driver
