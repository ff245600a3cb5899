//===- BuildCommand.cpp - alignc build / alignc run -----------------------===//
//
// Turns the generated C++ into a trainer executable with the host C++ compiler. The trainer includes only
// align/rt/Trainer.h and links the shared runtime, so this is one short compile and a link against one .so
// (LibTorch stays behind it). `run` caches trainers by content so a second run of an unchanged recipe
// starts at once.
//
//===----------------------------------------------------------------------===//

#include "BuildCommand.h"

#include "BuildPaths.h"
#include "TrainerSource.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Process.h"
#include "llvm/Support/Program.h"
#include "llvm/Support/SHA256.h"
#include "llvm/Support/raw_ostream.h"

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <unistd.h>

namespace cl = llvm::cl;

namespace align::driver {

namespace {

cl::OptionCategory buildCategory("alignc build/run options");
cl::SubCommand buildCommand("build", "Compile a recipe into a trainer executable");
cl::SubCommand runCommand("run", "Build a recipe's trainer (cached) and run it: alignc run FILE -- ARGS");

cl::opt<std::string> buildInput(cl::Positional, cl::desc("<recipe.align>"), cl::sub(buildCommand),
                                cl::cat(buildCategory));
cl::list<std::string> runInputs(cl::Positional, cl::desc("<recipe.align> [-- trainer arguments...]"),
                                cl::sub(runCommand), cl::cat(buildCategory));
cl::opt<std::string> outputPath("o", cl::desc("The trainer (or with -c, object file) to write"),
                                cl::value_desc("TRAINER"), cl::sub(buildCommand), cl::cat(buildCategory));
cl::opt<bool> compileOnly("c", cl::desc("Compile to an object file only (no runtime library needed)"),
                          cl::sub(buildCommand), cl::cat(buildCategory));
cl::opt<bool> buildNoFuse("no-fuse", cl::desc("Leave log-probs unfused (no fuse-logprobs pass)"),
                          cl::sub(buildCommand), cl::sub(runCommand), cl::cat(buildCategory));
cl::opt<bool> buildNoSharePrefix("no-share-prefix",
                                 cl::desc("Decode each response's prompt in its own row (no share-prefix pass)"),
                                 cl::sub(buildCommand), cl::sub(runCommand), cl::cat(buildCategory));

/// The pipeline the build and run flags ask for.
RecipeToTrainOptions buildPipeline() {
  RecipeToTrainOptions pipeline;
  pipeline.fuseLogprobs = !buildNoFuse;
  pipeline.sharePrefix = !buildNoSharePrefix;
  return pipeline;
}
cl::opt<std::string> runtimeDir("runtime-dir", cl::desc("Directory holding libalign_rt.so (default: this build's)"),
                                cl::value_desc("DIR"),
                                cl::init(ALIGN_RUNTIME_LIBRARY_DIR), cl::sub(buildCommand), cl::sub(runCommand),
                                cl::cat(buildCategory));
cl::opt<DiagnosticFormat> buildDiagnostics(
    "diagnostics", cl::desc("How to print the recipe's diagnostics"),
    cl::values(clEnumValN(DiagnosticFormat::Text, "text", "file:line:col with source and caret"),
               clEnumValN(DiagnosticFormat::Json, "json", "one JSON object per diagnostic (on stdout)")),
    cl::init(DiagnosticFormat::Text), cl::sub(buildCommand), cl::sub(runCommand), cl::cat(buildCategory));
cl::opt<unsigned> runProcesses("nproc",
                                cl::desc("Processes to train on, data-parallel (> 1: started by torchrun "
                                         "--standalone --nproc-per-node N; default 1)"),
                                cl::value_desc("N"), cl::init(1), cl::sub(runCommand), cl::cat(buildCategory));
cl::opt<std::string> torchrunPath("torchrun", cl::desc("The torchrun that --nproc starts (default: the one beside "
                                                       "the Python that provides LibTorch, or $ALIGN_TORCHRUN)"),
                                  cl::value_desc("PATH"), cl::init(""), cl::sub(runCommand), cl::cat(buildCategory));
cl::opt<bool> verbose("v", cl::desc("Print the C++ compiler command and how long each part took"),
                      cl::sub(buildCommand), cl::sub(runCommand), cl::cat(buildCategory));

using Clock = std::chrono::steady_clock;

double secondsSince(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

std::string runtimeLibrary() { return (llvm::Twine(runtimeDir) + "/libalign_rt.so").str(); }

/// The configured host C++ compiler, or $ALIGN_CXX (a path or a name on PATH) when set.
std::string hostCompiler() {
  std::optional<std::string> chosen = llvm::sys::Process::GetEnv("ALIGN_CXX");
  if (!chosen || chosen->empty())
    return ALIGN_HOST_CXX;
  if (llvm::ErrorOr<std::string> found = llvm::sys::findProgramByName(*chosen))
    return *found;
  return *chosen;
}

/// The host compiler's arguments for `source` → `output` (argv[0] included).
std::vector<std::string> compileCommand(const std::string &source, const std::string &output, bool objectOnly) {
  std::vector<std::string> args = {hostCompiler(), "-std=c++17", "-O1", "-I" ALIGN_RUNTIME_INCLUDE_DIR,
                                    "-I" ALIGN_REGISTRY_INCLUDE_DIR};
  if (objectOnly) {
    args.insert(args.end(), {"-c", source, "-o", output});
    return args;
  }
  // The trainer's own references are still checked against libalign_rt.so; not re-checking the runtime's
  // dependencies (LibTorch, checked when libalign_rt.so was linked) saves reading ~1 GB of .so: 0.45 s.
  args.insert(args.end(), {source, "-o", output, "-L" + runtimeDir, "-lalign_rt", "-Wl,-rpath," + runtimeDir,
                           "-Wl,--allow-shlib-undefined"});
  return args;
}

/// Writes `text` to a new temporary `.cpp` named after the recipe; "" after printing why not.
std::string writeTemporarySource(const std::string &recipePath, const std::string &text) {
  llvm::SmallString<256> path;
  std::string prefix = ("alignc-" + llvm::sys::path::stem(recipePath)).str();
  if (std::error_code ec = llvm::sys::fs::createTemporaryFile(prefix, "cpp", path)) {
    llvm::errs() << "alignc: error: cannot create a temporary file: " << ec.message() << "\n";
    return "";
  }
  std::error_code ec;
  llvm::raw_fd_ostream os(path, ec);
  if (!ec) {
    os << text;
    os.close();
    ec = os.error();
  }
  if (ec) {
    llvm::errs() << "alignc: error: cannot write " << path << ": " << ec.message() << "\n";
    return "";
  }
  return path.str().str();
}

/// Compiles the generated C++ into `output`; false after printing why (the C++ is then kept).
bool compileTrainer(const std::string &recipePath, const std::string &cpp, const std::string &output,
                    bool objectOnly) {
  if (!objectOnly && !llvm::sys::fs::exists(runtimeLibrary())) {
    llvm::errs() << "alignc: error: the runtime library " << runtimeLibrary()
                 << " does not exist; build it first (ninja align_rt) or pass --runtime-dir\n";
    return false;
  }
  std::string source = writeTemporarySource(recipePath, cpp);
  if (source.empty())
    return false;
  std::vector<std::string> args = compileCommand(source, output, objectOnly);
  std::vector<llvm::StringRef> argRefs(args.begin(), args.end());
  if (verbose)
    llvm::errs() << llvm::join(args, " ") << "\n";
  auto start = Clock::now();
  std::string message;
  int status = llvm::sys::ExecuteAndWait(args.front(), argRefs, std::nullopt, {}, 0, 0, &message);
  if (verbose)
    llvm::errs() << "alignc: C++ compile and link: " << llvm::format("%.2f", secondsSince(start)) << " s\n";
  if (status != 0) {
    llvm::errs() << "alignc: error: " << (message.empty() ? "the C++ compiler failed" : message)
                 << " on the trainer generated from " << recipePath << "; the generated C++ is kept at " << source
                 << "\n";
    return false;
  }
  llvm::sys::fs::remove(source);
  return true;
}

int buildMain(bool color) {
  if (buildInput.empty() || outputPath.empty()) {
    llvm::errs() << "alignc: error: usage: alignc build FILE -o TRAINER [--no-fuse] [-c]\n";
    return 1;
  }
  auto start = Clock::now();
  std::optional<std::string> cpp = trainerSource(buildInput, {buildPipeline(), color, buildDiagnostics});
  if (!cpp)
    return 1;
  if (verbose)
    llvm::errs() << "alignc: recipe to C++: " << llvm::format("%.2f", secondsSince(start)) << " s\n";
  return compileTrainer(buildInput, *cpp, outputPath, compileOnly) ? 0 : 1;
}

std::string cacheRoot() {
  if (std::optional<std::string> dir = llvm::sys::Process::GetEnv("ALIGN_CACHE_DIR"))
    return *dir;
  llvm::SmallString<256> path;
  if (std::optional<std::string> xdg = llvm::sys::Process::GetEnv("XDG_CACHE_HOME"); xdg && !xdg->empty())
    path = *xdg;
  else if (llvm::sys::path::home_directory(path))
    llvm::sys::path::append(path, ".cache");
  else
    llvm::sys::path::system_temp_directory(/*ErasedOnReboot=*/true, path);
  llvm::sys::path::append(path, "alignc");
  return path.str().str();
}

/// The cache key: what decides the executable's bytes and what it loads.
std::string cacheKey(const std::string &cpp) {
  std::string material = cpp;
  for (const std::string &arg : compileCommand("SOURCE", "OUTPUT", false))
    material += "\n" + arg;
  llvm::sys::fs::file_status status;
  if (!llvm::sys::fs::status(runtimeLibrary(), status))
    material += "\n" + std::to_string(status.getSize()) + "@" +
                std::to_string(status.getLastModificationTime().time_since_epoch().count());
  std::array<uint8_t, 32> digest = llvm::SHA256::hash(llvm::arrayRefFromStringRef(material));
  return llvm::toHex(llvm::ArrayRef<uint8_t>(digest).take_front(12), /*LowerCase=*/true);
}

int runMain(bool color) {
  if (runInputs.empty()) {
    llvm::errs() << "alignc: error: usage: alignc run FILE [-- TRAINER ARGS...]\n";
    return 1;
  }
  // Many processes: one machine, P processes, through torchrun's standalone rendezvous (a free port, the store
  // the trainers meet at: runtime/src/dist/World.h). Checked before building. Many machines: docs/distributed.md.
  std::string torchrun;
  if (runProcesses == 0) {
    llvm::errs() << "alignc: error: --nproc must be at least 1\n";
    return 1;
  }
  if (runProcesses > 1) {
    torchrun = torchrunPath;
    if (torchrun.empty())
      torchrun = std::getenv("ALIGN_TORCHRUN") ? std::getenv("ALIGN_TORCHRUN") : ALIGN_TORCHRUN;
    if (!llvm::sys::fs::can_execute(torchrun)) {
      llvm::errs() << "alignc: error: --nproc " << runProcesses << " needs torchrun, not found at " << torchrun
                   << " (give --torchrun PATH)\n";
      return 1;
    }
  }
  const std::string &recipePath = runInputs.front();
  std::optional<std::string> cpp = trainerSource(recipePath, {buildPipeline(), color, buildDiagnostics});
  if (!cpp)
    return 1;

  llvm::SmallString<256> dir(cacheRoot());
  llvm::sys::path::append(dir, cacheKey(*cpp));
  llvm::SmallString<256> trainer(dir);
  llvm::sys::path::append(trainer, llvm::sys::path::stem(recipePath));
  if (!llvm::sys::fs::can_execute(trainer)) {
    if (std::error_code ec = llvm::sys::fs::create_directories(dir)) {
      llvm::errs() << "alignc: error: cannot create the cache directory " << dir << ": " << ec.message() << "\n";
      return 1;
    }
    // Build next to the final name and rename, so a concurrent or interrupted run never execs half a file.
    std::string partial = (trainer + ".partial." + llvm::Twine(::getpid())).str();
    if (!compileTrainer(recipePath, *cpp, partial, false))
      return 1;
    if (std::error_code ec = llvm::sys::fs::rename(partial, trainer)) {
      llvm::errs() << "alignc: error: cannot move the trainer into " << trainer << ": " << ec.message() << "\n";
      return 1;
    }
  } else if (verbose) {
    llvm::errs() << "alignc: cached trainer " << trainer << "\n";
  }

  std::vector<std::string> args = {trainer.str().str()};
  if (runProcesses > 1)
    args = {torchrun, "--no-python", "--standalone", "--nproc-per-node", std::to_string(runProcesses),
            trainer.str().str()};
  args.insert(args.end(), runInputs.begin() + 1, runInputs.end());
  std::vector<char *> argv;
  for (std::string &arg : args)
    argv.push_back(arg.data());
  argv.push_back(nullptr);
  llvm::outs().flush();
  llvm::errs().flush();
  ::execv(argv.front(), argv.data());
  llvm::errs() << "alignc: error: cannot run " << args.front() << ": " << std::strerror(errno) << "\n";
  return 1;
}

} // namespace

bool buildOrRunRequested() { return buildCommand || runCommand; }

int runBuildOrRun(bool color) { return buildCommand ? buildMain(color) : runMain(color); }

} // namespace align::driver
