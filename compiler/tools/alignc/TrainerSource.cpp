//===- TrainerSource.cpp - A recipe file → the C++ of its trainer ---------===//

#include "TrainerSource.h"

#include "CompilerDiagnostics.h"

#include "EmitCpp.h"
#include "Frontend.h"
#include "MLIRGen.h"
#include "Pipelines.h"

#include "align/Dialect/Recipe/RecipeOps.h"
#include "align/Dialect/Train/TrainOps.h"

#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/Verifier.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Pass/PassManager.h"

#include "llvm/ADT/StringRef.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/raw_ostream.h"

#include <iostream>

namespace align::driver {

namespace {

/// The train program of a checked recipe: MLIRGen, then the recipe-to-train pipeline. Null when either
/// failed; every error is in `diags` at its recipe position.
mlir::OwningOpRef<mlir::ModuleOp> lowerRecipe(mlir::MLIRContext &context, const FrontendResult &result,
                                              CompilerDiagnostics &diags,
                                              const RecipeToTrainOptions &pipeline) {
  mlir::OwningOpRef<mlir::ModuleOp> module = mlirGen(context, *result.ast);
  if (mlir::failed(mlir::verify(*module))) {
    diags.error("internal error: the recipe dialect built for " + result.source->path() + " does not verify");
    return nullptr;
  }
  mlir::PassManager pm(&context);
  buildRecipeToTrainPipeline(pm, pipeline);
  const unsigned before = diags.engine().errorCount();
  if (mlir::failed(pm.run(*module))) {
    if (diags.engine().errorCount() == before) // a pass that failed without saying where
      diags.error(result.source->path() + " cannot be lowered to the train dialect");
    return nullptr;
  }
  return module;
}

std::optional<std::string> emitCpp(mlir::ModuleOp module, const std::string &path, CompilerDiagnostics &diags) {
  std::string text;
  llvm::raw_string_ostream os(text);
  emit::CppEmitOptions emitOptions;
  if (!llvm::StringRef(path).endswith(".mlir"))
    emitOptions.sourcePath = path;
  const unsigned before = diags.engine().errorCount();
  if (mlir::failed(emit::emitTrainerCpp(module, os, emitOptions))) {
    if (diags.engine().errorCount() == before)
      diags.error("no trainer for " + path);
    return std::nullopt;
  }
  return os.str();
}

} // namespace

std::optional<std::string> trainerSource(const std::string &path, const TrainerSourceOptions &options) {
  mlir::MLIRContext context;
  context.loadDialect<recipe::RecipeDialect, train::TrainDialect>();
  context.printOpOnDiagnostic(false);
  std::cout.flush();
  std::optional<std::string> cpp;
  if (llvm::StringRef(path).endswith(".mlir")) {
    CompilerDiagnostics diags(context, path);
    llvm::SourceMgr sourceMgr;
    if (mlir::OwningOpRef<mlir::ModuleOp> module = mlir::parseSourceFile<mlir::ModuleOp>(path, sourceMgr, &context))
      cpp = emitCpp(*module, path, diags);
    else if (diags.engine().errorCount() == 0)
      diags.error("cannot read " + path);
    diags.print(options.format, std::cout, std::cerr, options.color);
    return cpp;
  }
  FrontendResult result = checkPath(path);
  if (!result.ok()) {
    CompilerDiagnostics::printFrontend(result, options.format, std::cout, std::cerr, options.color);
    return std::nullopt;
  }
  CompilerDiagnostics diags(context, result);
  if (mlir::OwningOpRef<mlir::ModuleOp> module = lowerRecipe(context, result, diags, options.pipeline))
    cpp = emitCpp(*module, path, diags);
  diags.print(options.format, std::cout, std::cerr, options.color);
  return cpp;
}

int emitCppCommand(const std::vector<std::string> &paths, const TrainerSourceOptions &options) {
  int status = 0;
  for (const std::string &path : paths) {
    std::optional<std::string> source = trainerSource(path, options);
    if (!source) {
      status = 1;
      continue;
    }
    llvm::outs() << *source;
    llvm::outs().flush();
  }
  return status;
}

} // namespace align::driver
