//===- EmitCpp.cpp - train dialect → a C++ trainer ------------------------===//
//
// The frame of the translation unit: header comment, the RecipeInfo with the settings that run() reads,
// run() itself (TrainerEmitter), and main(). run() is written first, into a buffer, because the settings it
// reads are only known once it is done.
//
//===----------------------------------------------------------------------===//

#include "EmitCpp.h"

#include "CppText.h"
#include "TrainerEmitter.h"

#include "align/Dialect/Train/TrainOps.h"

namespace align::emit {

namespace {

/// The recipe file a program came from: the file of its first located op.
std::string sourceOf(train::ProgramOp program) {
  std::string where = locationText(program.getLoc());
  if (where.empty())
    for (mlir::Operation &op : program.getBodyRegion().front())
      if (!(where = locationText(op.getLoc())).empty())
        break;
  // Drop ":line:col".
  for (int i = 0; i < 2; ++i)
    if (size_t colon = where.rfind(':'); colon != std::string::npos)
      where.resize(colon);
  return where;
}

void printHeader(llvm::raw_ostream &os, llvm::StringRef recipe, llvm::StringRef source) {
  os << "// Trainer for recipe `" << commentText(recipe) << "`: generated from " << commentText(source)
     << " by alignc; do not edit.\n";
  os << "//\n";
  os << "// Straight-line calls into the runtime (align/rt/Trainer.h) in the recipe's order: tokenizers, models and\n";
  os << "// data, one StageSpec per stage with the compiler's schedule decisions, then the recipe's evaluations.\n";
  os << "// Each statement ends with the recipe location it comes from. Every value the recipe names is read\n";
  os << "// through t.number/integer/text/flag, so `TRAINER --set KEY=VALUE` replaces it; `TRAINER --help`\n";
  os << "// lists the keys. Rebuild with `alignc build " << commentText(source) << " -o TRAINER`.\n";
  os << "\n";
  os << "#include \"align/rt/Trainer.h\"\n";
  os << "\n";
}

} // namespace

mlir::LogicalResult emitTrainerCpp(mlir::ModuleOp module, llvm::raw_ostream &os, const CppEmitOptions &options) {
  llvm::SmallVector<train::ProgramOp> programs(module.getOps<train::ProgramOp>());
  if (programs.size() != 1) {
    mlir::InFlightDiagnostic diag = mlir::emitError(module.getLoc())
                                    << "a trainer is built from one recipe; this input has " << programs.size()
                                    << " train programs";
    for (train::ProgramOp program : programs)
      diag.attachNote(program.getLoc()) << "recipe " << program.getSymName();
    return mlir::failure();
  }
  train::ProgramOp program = programs.front();

  TrainerWriter writer;
  TrainerEmitter emitter(writer);
  if (mlir::failed(emitter.emitProgram(program)))
    return mlir::failure();

  std::string source = options.sourcePath.empty() ? sourceOf(program) : options.sourcePath;
  printHeader(os, program.getSymName(), source);
  writer.printRecipeInfo(os, program.getSymName(), source, emitter.stageNames());
  os << "\n";
  // Optimizing run() would cost about a third of the trainer's compile time and save nothing.
  os << "// run() executes once per training run, so it is compiled without optimization: that keeps\n"
     << "// `alignc build` fast and costs nothing while training.\n"
     << "#if defined(__clang__)\n"
     << "#define ALIGN_RUNS_ONCE __attribute__((optnone))\n"
     << "#elif defined(__GNUC__)\n"
     << "#define ALIGN_RUNS_ONCE __attribute__((optimize(\"O0\")))\n"
     << "#else\n"
     << "#define ALIGN_RUNS_ONCE\n"
     << "#endif\n";
  os << "ALIGN_RUNS_ONCE static void run(align::rt::Trainer &t) {\n";
  llvm::StringRef body = writer.body();
  os << body.rtrim('\n') << "\n";
  os << "}\n";
  os << "\n";
  os << "int main(int argc, char **argv) { return align::rt::trainerMain(argc, argv, recipe, run); }\n";
  return mlir::success();
}

} // namespace align::emit
