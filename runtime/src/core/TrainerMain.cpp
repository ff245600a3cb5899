//===- TrainerMain.cpp - The command line of a generated trainer ----------===//
//
//   TRAINER [--out DIR] [--data-root DIR] [--set KEY=VALUE]... [--steps N] [--eval-limit N] [--resume DIR]
//           [--device cpu|cuda] [--threads N] [--collective-timeout SECONDS] [--help]
//
// Runs the recipe's body, then computes the eval block for every stage into OUT/eval.json and prints a
// table and where everything is. Errors are printed as `error: ...` with exit code 1; nothing is thrown
// out of main.
//
//===----------------------------------------------------------------------===//

#include "core/TrainerImpl.h"
#include "core/Contract.h"

#include "align/rt/Inference.h"

#include "support/AtomicWrite.h"
#include "report/EvalReport.h"
#include "support/Files.h"
#include "dist/RankOutput.h"

#include <nlohmann/json.hpp>

#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <sstream>

namespace align::rt {

namespace {

void printHelp(const RecipeInfo &recipe, const char *program) {
  std::printf("Trainer for recipe '%s' (compiled by alignc from %s).\n\n", recipe.name.c_str(), recipe.source.c_str());
  std::printf("usage: %s [options]\n\n", program);
  std::printf("  --out DIR          where checkpoints, metrics, curves and eval.json go (default: out/%s)\n",
              recipe.name.c_str());
  std::printf("  --data-root DIR    prefix of the recipe's relative data paths (default: .)\n");
  std::printf("  --set KEY=VALUE    replace a value the recipe names (keys below)\n");
  std::printf("  --steps N          optimizer steps per stage, replacing epochs/steps\n");
  std::printf("  --eval-limit N     evaluate on at most the first N rows of each held-out split (quick runs)\n");
  std::printf("  --resume DIR       continue an interrupted run in DIR\n");
  std::printf("  --device cpu|cuda  (default: cpu)\n");
  std::printf("  --threads N        CPU threads (default: all)\n");
  std::printf("  --collective-timeout SECONDS\n"
              "                     under torchrun: how long a rank waits for a lost or stalled one before\n"
              "                     every rank stops with an error (default: 1800)\n\n");
  std::printf("stages:");
  for (const std::string &s : recipe.stages)
    std::printf(" %s", s.c_str());
  std::printf("\n\nsettings (--set KEY=VALUE):\n");
  for (const Setting &s : recipe.settings)
    std::printf("  %-40s %s   (%s)\n", s.key.c_str(), s.value.c_str(), s.location.c_str());
}

std::string validKeys(const RecipeInfo &recipe) {
  std::string out;
  for (const Setting &s : recipe.settings)
    out += "\n  " + s.key + " (recipe: " + s.value + ")";
  return out;
}

/// Whether OUT holds what --resume continues from.
bool holdsTrainingState(const std::string &outDir) {
  return isDirectory(joinPath(outDir, "state")) || isDirectory(joinPath(outDir, "checkpoints"));
}

/// What the command line says about the launch rather than the training: help, and the processes' patience.
struct LaunchOptions {
  bool help = false;
  /// How long a collective (and the first meeting of the processes) may wait for a slow or lost rank.
  std::chrono::milliseconds collectiveTimeout = std::chrono::minutes(30);
};

TrainerOptions parseOptions(int argc, char **argv, const RecipeInfo &recipe, LaunchOptions &launch) {
  TrainerOptions options;
  std::string resumeDir;
  auto value = [&](int &i, const std::string &flag) -> std::string {
    if (i + 1 >= argc)
      throw Error(flag + " needs a value");
    return argv[++i];
  };
  auto integer = [](const std::string &flag, const std::string &text) {
    char *end = nullptr;
    long long v = std::strtoll(text.c_str(), &end, 10);
    if (text.empty() || *end != '\0' || v < 1)
      throw Error(flag + " " + text + ": expected a positive integer");
    return static_cast<int64_t>(v);
  };
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    std::string inlineValue;
    if (arg.rfind("--", 0) == 0 && arg.find('=') != std::string::npos && arg.rfind("--set", 0) != 0) {
      inlineValue = arg.substr(arg.find('=') + 1);
      arg = arg.substr(0, arg.find('='));
    }
    auto next = [&](const std::string &flag) { return inlineValue.empty() ? value(i, flag) : inlineValue; };
    if (arg == "--help" || arg == "-h")
      launch.help = true;
    else if (arg == "--collective-timeout")
      launch.collectiveTimeout = std::chrono::seconds(integer(arg, next(arg)));
    else if (arg == "--out")
      options.outDir = next(arg);
    else if (arg == "--data-root")
      options.dataRoot = next(arg);
    else if (arg == "--device")
      options.device = next(arg);
    else if (arg == "--threads")
      options.threads = static_cast<int>(integer(arg, next(arg)));
    else if (arg == "--steps")
      options.steps = integer(arg, next(arg));
    else if (arg == "--eval-limit")
      options.evalLimit = integer(arg, next(arg));
    else if (arg == "--resume")
      resumeDir = next(arg);
    else if (arg == "--set" || arg.rfind("--set=", 0) == 0) {
      std::string kv = arg == "--set" ? value(i, arg) : arg.substr(6);
      size_t eq = kv.find('=');
      if (eq == std::string::npos || eq == 0)
        throw Error("--set " + kv + ": expected KEY=VALUE");
      const std::string key = kv.substr(0, eq);
      bool known = false;
      for (const Setting &s : recipe.settings)
        known = known || s.key == key;
      if (!known)
        throw Error("--set: recipe '" + recipe.name + "' has no setting '" + key + "'; the settings are:" +
                    validKeys(recipe));
      options.sets[key] = kv.substr(eq + 1);
    } else
      throw Error("unknown option '" + arg + "' (see --help)");
  }
  if (!resumeDir.empty()) {
    if (!options.outDir.empty() && options.outDir != resumeDir)
      throw Error("--resume " + resumeDir + " continues in that directory; --out " + options.outDir + " differs");
    if (!isDirectory(resumeDir))
      throw Error("--resume " + resumeDir + ": no such directory");
    // Resuming from nothing would silently train from scratch into DIR: refuse it.
    if (!holdsTrainingState(resumeDir))
      throw Error("--resume " + resumeDir + ": the directory holds no training state to continue (no state/ or " +
                  "checkpoints/); start a run there with --out " + resumeDir);
    options.outDir = resumeDir;
    options.resume = true;
  }
  if (options.outDir.empty())
    options.outDir = "out/" + recipe.name;
  return options;
}

/// "rank R: " in the errors of a process of a many-process launch.
std::string rankPrefix() {
  const char *world = std::getenv("WORLD_SIZE"), *rank = std::getenv("RANK");
  if (!world || !rank || std::string(world) == "1")
    return "";
  return "rank " + std::string(rank) + ": ";
}

/// Prints `error: [rank R: ]MESSAGE` where errors go (rank 0's stderr; see RankOutput) and returns exit code 1.
int reportError(const std::exception &e, const char *message, const LaunchOptions &launch) {
  std::fflush(stdout);
  // A collective failed: another rank died or stalled, and this one saw its connection go or waited out the
  // timeout. Say so, since Gloo's own message names neither.
  std::string hint;
  if (dist::isCollectiveFailure(e))
    hint = "a collective among the processes failed (another rank died or stalled; each waits "
           "--collective-timeout, " +
           std::to_string(std::chrono::duration_cast<std::chrono::seconds>(launch.collectiveTimeout).count()) +
           " s): ";
  std::fprintf(dist::RankOutput::errorStream(), "error: %s%s%s\n", rankPrefix().c_str(), hint.c_str(), message);
  return 1;
}

} // namespace

int trainerMain(int argc, char **argv, const RecipeInfo &recipe, void (*body)(Trainer &)) {
  LaunchOptions launchOptions;
  try {
    auto impl = std::make_unique<Trainer::Impl>();
    impl->options = parseOptions(argc, argv, recipe, launchOptions);
    if (launchOptions.help) {
      printHelp(recipe, argv[0]);
      return 0;
    }
    checkOverrides(recipe, impl->options.sets);
    const dist::LaunchEnvironment launch = dist::readLaunchEnvironment();
    // torchrun's restart (--max-restarts) runs the same command line again after a rank failed: continue
    // from the training state the failed attempt left, as --resume would, instead of starting over.
    if (!impl->options.resume && launch.restartCount != "0" && holdsTrainingState(impl->options.outDir)) {
      impl->options.resume = true;
      if (launch.rank == 0)
        std::fprintf(stderr, "torchrun restart %s: continuing from the training state in %s\n",
                     launch.restartCount.c_str(), impl->options.outDir.c_str());
    }
    impl->recipe = &recipe;
    impl->device = parseDevice(impl->options.device) == Device::CUDA ? torch::Device(torch::kCUDA, launch.localRank)
                                                                     : torch::Device(torch::kCPU);
    setThreads(impl->options.threads);
    impl->world = dist::World::join(launch, impl->device, launchOptions.collectiveTimeout);
    dist::RankOutput rankOutput(*impl->world, impl->options.outDir, impl->options.resume);
    // A write past RLIMIT_FSIZE then fails with EFBIG, an Error naming the file, instead of killing the process.
    std::signal(SIGXFSZ, SIG_IGN);
    makeDirectories(impl->options.outDir);
    DirectoryLock lock(impl->options.outDir);
    const std::string &outDir = impl->options.outDir;
    if (int stale = removeStaleTemporaries(outDir, false) + removeStaleTemporaries(joinPath(outDir, "state"), true) +
                    removeStaleTemporaries(joinPath(outDir, "checkpoints"), true))
      std::fprintf(stderr, "removed %d unfinished temporary file(s) of an interrupted run in %s\n", stale,
                   impl->options.outDir.c_str());
    impl->metrics = std::make_unique<MetricsLog>(impl->options.outDir);
    Trainer trainer(std::move(impl));
    Trainer::Impl &state = *trainer.impl_;
    body(trainer);

    auto evaluation = state.evaluateAll();
    nlohmann::json json = nlohmann::json::object();
    for (const auto &[stage, metrics] : evaluation)
      for (const auto &[key, groups] : metrics) {
        if (groups.size() == 1 && groups.begin()->first.empty())
          json[stage][key] = groups.begin()->second;
        else
          for (const auto &[group, value] : groups)
            json[stage][key][group.empty() ? "(none)" : group] = value;
      }
    for (const auto &[stage, values] : state.extraEval.items())
      for (const auto &[key, value] : values.items())
        json[stage][key] = value;
    const std::string evalPath = joinPath(state.options.outDir, "eval.json");
    writeFileAtomically(evalPath, json.dump(2) + "\n");

    std::vector<std::string> charts;
    if (!evaluation.empty()) {
      std::printf("\n%s", formatEvalTable(evaluation, recipe.stages).c_str());
      charts = writeEvalCharts(state.options.outDir, evaluation, recipe.stages);
    }
    const std::string out = state.options.outDir;
    std::printf("\nresults in %s/\n", out.c_str());
    for (const auto &record : state.stages)
      std::printf("  checkpoint  %s\n", record.checkpointDir.c_str());
    std::printf("  metrics     %s (and metrics.csv)\n", state.metrics->jsonlPath().c_str());
    std::printf("  curves      %s\n", state.metrics->plotPath().c_str());
    std::printf("  evaluation  %s\n", evalPath.c_str());
    for (const std::string &chart : charts)
      std::printf("  chart       %s\n", chart.c_str());
    return 0;
  } catch (const c10::Error &e) {
    // LibTorch's own checks (an optimizer refusing a negative learning rate, say): the message, not its
    // C++ stack of frames.
    return reportError(e, e.what_without_backtrace(), launchOptions);
  } catch (const std::exception &e) {
    return reportError(e, e.what(), launchOptions);
  }
}

} // namespace align::rt
