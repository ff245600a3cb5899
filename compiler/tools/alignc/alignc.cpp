//===- alignc.cpp - The alignc driver -------------------------------------===//
//
//   alignc check [--diagnostics=text|json] FILE...   parse and check recipes; exit 1 on any error
//   alignc --emit=ast FILE                          print the checked AST
//   alignc --emit=recipe FILE                       print the recipe dialect (MLIRGen), verified
//   alignc --emit=train [--no-fuse] [--no-share-prefix] FILE   print the train program (the recipe-to-train pipeline)
//   alignc --emit=cpp [--no-fuse] [--no-share-prefix] FILE     print the trainer's C++ (FILE may be train IR, .mlir)
//   alignc build FILE -o TRAINER / alignc run FILE -- ARGS   compile (and run) the trainer: BuildCommand.h
//   alignc --verify-diagnostics FILE                compare diagnostics with `expected-*` comments (lit)
//   alignc --print-schema                           the constructor/defaults table as Markdown
//
// The driver follows Toy's `toyc` shape: one action per `--emit` level, each running the pipeline up to that
// level (Frontend.h, MLIRGen.h, Pipelines.h, TrainerSource.h) and printing its result.
//
//===----------------------------------------------------------------------===//

#include "ASTDump.h"
#include "BuildCommand.h"
#include "CompilerDiagnostics.h"
#include "DiagnosticVerifier.h"
#include "Frontend.h"
#include "MLIRGen.h"
#include "Pipelines.h"
#include "Schema.h"
#include "TrainerSource.h"

#include "align/Dialect/Recipe/RecipeOps.h"
#include "align/Dialect/Train/TrainOps.h"

#include "mlir/IR/AsmState.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/OperationSupport.h"
#include "mlir/IR/Verifier.h"
#include "mlir/Pass/PassManager.h"

#include "llvm/Support/CommandLine.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/Process.h"

#include <chrono>
#include <iostream>

namespace cl = llvm::cl;

namespace {

cl::OptionCategory alignCategory("alignc options");
cl::SubCommand checkCommand("check", "Parse and check recipes; exit 1 on any error");

cl::list<std::string> inputFiles(cl::Positional, cl::desc("<recipe.align>..."), cl::sub(*cl::TopLevelSubCommand),
                                 cl::sub(checkCommand), cl::cat(alignCategory));

enum class Format { Text, Json };
cl::opt<Format> diagnosticsFormat("diagnostics", cl::desc("How to print diagnostics"),
                                  cl::values(clEnumValN(Format::Text, "text", "file:line:col with source and caret"),
                                             clEnumValN(Format::Json, "json", "one JSON object per diagnostic")),
                                  cl::init(Format::Text), cl::sub(*cl::TopLevelSubCommand), cl::sub(checkCommand),
                                  cl::cat(alignCategory));

enum class Color { Auto, Always, Never };
cl::opt<Color> colorMode("diagnostics-color", cl::desc("Color diagnostics"),
                         cl::values(clEnumValN(Color::Auto, "auto", "when stderr is a terminal"),
                                    clEnumValN(Color::Always, "always", ""), clEnumValN(Color::Never, "never", "")),
                         cl::init(Color::Auto), cl::sub(*cl::TopLevelSubCommand), cl::sub(checkCommand),
                         cl::cat(alignCategory));

enum class Emit { None, Ast, Recipe, Train, Cpp };
cl::opt<Emit> emitAction("emit", cl::desc("What to print"),
                         cl::values(clEnumValN(Emit::None, "none", "nothing; just check"),
                                    clEnumValN(Emit::Ast, "ast", "the checked AST"),
                                    clEnumValN(Emit::Recipe, "recipe", "the recipe dialect (MLIRGen output)"),
                                    clEnumValN(Emit::Train, "train", "the train dialect (the recipe-to-train pipeline)"),
                                    clEnumValN(Emit::Cpp, "cpp", "the trainer's C++ (compiler/emit)")),
                         cl::init(Emit::None), cl::cat(alignCategory));

cl::opt<bool> noFuse("no-fuse", cl::desc("With --emit=train: leave log-probs unfused (no fuse-logprobs pass)"),
                     cl::init(false), cl::cat(alignCategory));
cl::opt<bool> noSharePrefix("no-share-prefix",
                            cl::desc("With --emit=train|cpp: decode each response's prompt in its own row (no "
                                     "share-prefix pass)"),
                            cl::init(false), cl::cat(alignCategory));

/// The pipeline the flags ask for.
align::RecipeToTrainOptions pipelineOptions() {
  align::RecipeToTrainOptions pipeline;
  pipeline.fuseLogprobs = !noFuse;
  pipeline.sharePrefix = !noSharePrefix;
  return pipeline;
}

cl::opt<bool> verifyMode("verify-diagnostics", cl::desc("Check diagnostics against expected-* comments"),
                         cl::init(false), cl::cat(alignCategory));

cl::opt<bool> printSchema("print-schema", cl::desc("Print the constructor and defaults table as Markdown"),
                          cl::init(false), cl::cat(alignCategory));

cl::opt<bool> quiet("quiet", cl::desc("No per-file summary lines"), cl::init(false), cl::sub(checkCommand),
                    cl::cat(alignCategory));

align::driver::DiagnosticFormat driverFormat() {
  return diagnosticsFormat == Format::Json ? align::driver::DiagnosticFormat::Json : align::driver::DiagnosticFormat::Text;
}

bool useColor() {
  if (colorMode == Color::Always)
    return true;
  if (colorMode == Color::Never || std::getenv("NO_COLOR"))
    return false;
  return llvm::sys::Process::StandardErrIsDisplayed();
}

unsigned countDecls(const align::ast::File &file) {
  unsigned n = 0;
  for (const align::ast::Recipe &r : file.recipes) {
    n += static_cast<unsigned>(r.decls.size());
    for (const auto &s : r.stages)
      n += static_cast<unsigned>(s->decls.size());
  }
  return n;
}

/// Prints the recipe dialect of a checked file, or (`train`) the program the recipe-to-train pipeline makes
/// of it. Errors of MLIRGen and the passes are diagnostics of the recipe at the offending op's position, in
/// the format of the front end's (CompilerDiagnostics.h); a verifier failure of MLIRGen's output is a compiler
/// bug, said as such.
bool emitMLIR(align::FrontendResult &result, bool train) {
  mlir::MLIRContext context;
  context.loadDialect<align::recipe::RecipeDialect, align::train::TrainDialect>();
  context.printOpOnDiagnostic(false);
  align::driver::CompilerDiagnostics diags(context, *result.source);
  mlir::OwningOpRef<mlir::ModuleOp> module = align::mlirGen(context, *result.ast);
  bool ok = true;
  if (mlir::failed(mlir::verify(*module))) {
    diags.error("internal error: the recipe dialect built for " + result.source->path() + " does not verify");
    ok = false;
  } else if (train) {
    mlir::PassManager pm(&context);
    align::buildRecipeToTrainPipeline(pm, pipelineOptions());
    if (mlir::failed(pm.run(*module))) {
      if (diags.engine().errorCount() == 0)
        diags.error(result.source->path() + " cannot be lowered to the train dialect");
      ok = false;
    }
  }
  diags.print(driverFormat(), std::cout, std::cerr, useColor());
  if (!ok)
    return false;
  std::cout.flush();
  module->print(llvm::outs(), mlir::OpPrintingFlags()); // the flags pick up --mlir-print-* options
  llvm::outs() << "\n";
  llvm::outs().flush();
  return true;
}

} // namespace

int main(int argc, char **argv) {
  llvm::InitLLVM init(argc, argv);
  // MLIR's printing options (--mlir-print-debuginfo shows each op's recipe location) work with --emit=recipe.
  mlir::registerAsmPrinterCLOptions();
  mlir::registerMLIRContextCLOptions();
  cl::HideUnrelatedOptions(alignCategory); // not LLVM's backend options
  cl::ParseCommandLineOptions(argc, argv, "alignc: compiler for .align alignment recipes\n");
  if (align::driver::buildOrRunRequested())
    return align::driver::runBuildOrRun(useColor());

  if (printSchema) {
    align::schema::printMarkdown(std::cout);
    return 0;
  }
  if (inputFiles.empty()) {
    std::cerr << "alignc: error: no input files (try `alignc check recipes/*.align`)\n";
    return 1;
  }
  if (emitAction == Emit::Cpp && !verifyMode)
    return align::driver::emitCppCommand(inputFiles, {pipelineOptions(), useColor(), driverFormat()});
  bool checkMode = static_cast<bool>(checkCommand);
  if (verifyMode && inputFiles.size() != 1) {
    std::cerr << "alignc: error: --verify-diagnostics takes exactly one file\n";
    return 1;
  }

  auto start = std::chrono::steady_clock::now();
  unsigned failed = 0, errors = 0;
  for (const std::string &path : inputFiles) {
    align::FrontendResult result = align::checkPath(path);
    if (verifyMode)
      return align::verifyDiagnostics(*result.diags, std::cerr) ? 0 : 1;
    if (diagnosticsFormat == Format::Json)
      result.diags->printJson(std::cout);
    else
      result.diags->printText(std::cerr, useColor());
    errors += result.diags->errorCount();
    if (!result.ok()) {
      ++failed;
      continue;
    }
    if (emitAction == Emit::Ast)
      align::dumpAST(*result.ast, std::cout);
    if ((emitAction == Emit::Recipe || emitAction == Emit::Train) &&
        !emitMLIR(result, emitAction == Emit::Train)) {
      ++failed;
      continue;
    }
    if (checkMode && !quiet && diagnosticsFormat == Format::Text) {
      unsigned stages = 0;
      for (const auto &r : result.ast->recipes)
        stages += static_cast<unsigned>(r.stages.size());
      auto count = [](size_t n, const char *word) { return std::to_string(n) + " " + word + (n == 1 ? "" : "s"); };
      std::cout << path << ": ok (" << count(result.ast->recipes.size(), "recipe") << ", " << count(stages, "stage")
                << ", " << count(countDecls(*result.ast), "declaration") << ")\n";
    }
  }
  if (checkMode && !quiet && diagnosticsFormat == Format::Text) {
    double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    std::cout << inputFiles.size() << " file" << (inputFiles.size() == 1 ? "" : "s") << " checked: "
              << inputFiles.size() - failed << " ok, " << failed << " with errors (" << errors << " error"
              << (errors == 1 ? "" : "s") << ") in " << static_cast<int>(seconds * 1000) << " ms\n";
  }
  return failed == 0 ? 0 : 1;
}
