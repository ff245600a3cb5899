//===- TrainerSource.cpp - A recipe file → the C++ of its trainer ---------===//

#include "TrainerSource.h"

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

/// train IR for `path`: the pipeline's output for a recipe, the parsed file for `.mlir`.
mlir::OwningOpRef<mlir::ModuleOp> trainModule(mlir::MLIRContext &context, llvm::SourceMgr &sourceMgr,
                                              const std::string &path, const TrainerSourceOptions &options) {
  if (llvm::StringRef(path).endswith(".mlir"))
    return mlir::parseSourceFile<mlir::ModuleOp>(path, sourceMgr, &context);

  FrontendResult result = checkPath(path);
  std::cout.flush();
  result.diags->printText(std::cerr, options.color);
  if (!result.ok())
    return nullptr;
  mlir::OwningOpRef<mlir::ModuleOp> module = mlirGen(context, *result.ast);
  if (mlir::failed(mlir::verify(*module))) {
    llvm::errs() << "alignc: internal error: the recipe dialect built for " << path << " does not verify\n";
    return nullptr;
  }
  mlir::PassManager pm(&context);
  buildRecipeToTrainPipeline(pm, RecipeToTrainOptions{/*fuseLogprobs=*/options.fuseLogprobs});
  if (mlir::failed(pm.run(*module))) {
    llvm::errs() << "alignc: error: " << path << " cannot be lowered to the train dialect\n";
    return nullptr;
  }
  return module;
}

} // namespace

std::optional<std::string> trainerSource(const std::string &path, const TrainerSourceOptions &options) {
  mlir::MLIRContext context;
  context.loadDialect<recipe::RecipeDialect, train::TrainDialect>();
  context.printOpOnDiagnostic(false);
  // Diagnostics at recipe locations print with the recipe line and a caret; the handler opens the file
  // a location names when it is not loaded yet.
  llvm::SourceMgr sourceMgr;
  mlir::SourceMgrDiagnosticHandler handler(sourceMgr, &context, llvm::errs());

  mlir::OwningOpRef<mlir::ModuleOp> module = trainModule(context, sourceMgr, path, options);
  if (!module)
    return std::nullopt;
  std::string text;
  llvm::raw_string_ostream os(text);
  emit::CppEmitOptions emitOptions;
  if (!llvm::StringRef(path).endswith(".mlir"))
    emitOptions.sourcePath = path;
  if (mlir::failed(emit::emitTrainerCpp(*module, os, emitOptions))) {
    llvm::errs() << "alignc: error: no trainer for " << path << "\n";
    return std::nullopt;
  }
  return os.str();
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
