//===- TrainState.cpp - Resumable training state on disk ------------------===//

#include "train/TrainState.h"

#include "align/rt/Error.h"
#include "checkpoint/SafeTensors.h"
#include "support/AtomicWrite.h"
#include "support/Files.h"
#include "support/Manifest.h"
#include "model/Checkpoint.h"

#include <ATen/Context.h>
#include <nlohmann/json.hpp>

#include <cstdio>
#include <fstream>
#include <mutex>
#include <sstream>
#include <unistd.h>
#include <vector>

namespace align::rt {

namespace {

at::Generator cpuGenerator() { return at::globalContext().defaultGenerator(at::kCPU); }

std::map<std::string, torch::Tensor> generatorStates() {
  std::map<std::string, torch::Tensor> states;
  {
    at::Generator gen = cpuGenerator();
    std::lock_guard<std::mutex> lock(gen.mutex());
    states["cpu"] = gen.get_state();
  }
  if (torch::cuda::is_available()) {
    at::Generator gen = at::globalContext().defaultGenerator(at::kCUDA);
    std::lock_guard<std::mutex> lock(gen.mutex());
    states["cuda"] = gen.get_state();
  }
  return states;
}

void restoreGenerators(const std::map<std::string, torch::Tensor> &states, const std::string &file, int rank) {
  if (rank > 0) {
    auto own = states.find("cpu.rank" + std::to_string(rank));
    if (own == states.end())
      return; // saved by fewer processes: keep the stream this rank was seeded with
    at::Generator gen = cpuGenerator();
    std::lock_guard<std::mutex> lock(gen.mutex());
    gen.set_state(own->second);
    return;
  }
  auto cpu = states.find("cpu");
  if (cpu == states.end())
    throw Error(file + ": missing tensor 'cpu' (the CPU generator state)");
  {
    at::Generator gen = cpuGenerator();
    std::lock_guard<std::mutex> lock(gen.mutex());
    gen.set_state(cpu->second);
  }
  auto cuda = states.find("cuda");
  if (cuda != states.end() && torch::cuda::is_available()) {
    at::Generator gen = at::globalContext().defaultGenerator(at::kCUDA);
    std::lock_guard<std::mutex> lock(gen.mutex());
    gen.set_state(cuda->second);
  }
}

std::string readText(const std::string &path) {
  std::ifstream in(path, std::ios::binary);
  if (!in)
    throw Error(path + ": cannot read");
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

} // namespace

void saveTrainState(const std::string &dir, torch::nn::Module &trained, torch::optim::Optimizer &optimizer,
                    const TrainPosition &position, const std::map<std::string, torch::Tensor> &rankGenerators,
                    const std::vector<std::string> &rankOptimizers) {
  const std::string staged = dir + ".tmp-" + std::to_string(::getpid());
  removeTree(staged);
  // At most two complete versions on disk at any moment (the current and the one being written): the version
  // before the current one is dropped now, and the current one becomes `.prev` when the new one is in place.
  removeTree(dir + ".prev");
  makeDirectories(staged);
  try {
    saveParameters(trained, staged);
    torch::serialize::OutputArchive archive;
    optimizer.save(archive);
    // Through writeFileAtomically, so a failed write (a full disk) is an Error naming the file.
    writeFileAtomically(joinPath(staged, "optimizer.pt"), [&](const ByteSink &write) {
      archive.save_to([&](const void *data, size_t size) -> size_t {
        write(data, size);
        return size;
      });
    });
    for (size_t r = 0; r < rankOptimizers.size(); ++r)
      writeFileAtomically(joinPath(staged, "optimizer.rank" + std::to_string(r + 1) + ".pt"), rankOptimizers[r]);
    std::map<std::string, torch::Tensor> generators = generatorStates();
    generators.insert(rankGenerators.begin(), rankGenerators.end());
    writeSafetensors(joinPath(staged, "rng.safetensors"), generators);
    writeFileAtomically(joinPath(staged, "trainer_state.json"), trainPositionJson(position));
    writeManifest(staged);
    syncPath(staged);
    rotateDirectory(staged, dir);
  } catch (...) {
    removeTree(staged);
    throw;
  }
}

namespace {

/// Restores one state directory whose manifest has been checked.
void loadStateDirectory(const std::string &found, torch::nn::Module &trained, torch::optim::Optimizer &optimizer,
                        TrainPosition &position, int rank) {
  const std::string stateFile = joinPath(found, "trainer_state.json");
  const TrainPosition saved = parseTrainPosition(readText(stateFile), stateFile);
  const std::string &fingerprint = saved.fingerprint;
  if (fingerprint != position.fingerprint)
    throw Error(stateFile + ": this state was written by a run with different settings and cannot be resumed by "
                            "this one.\n  saved: " + fingerprint + "\n  now:   " + position.fingerprint);
  const std::string weights = joinPath(found, "model.safetensors");
  loadParametersStrict(trained, readSafetensors(weights), weights, [](const std::string &) { return false; });
  const std::string optimizerFile = joinPath(found, "optimizer.pt");
  if (!pathExists(optimizerFile))
    throw Error(optimizerFile + ": missing (the optimizer state of the checkpoint)");
  torch::Device device = torch::kCPU;
  for (const auto &p : trained.parameters()) {
    device = p.device();
    break;
  }
  // A sharded run's other ranks' shares follow optimizer.pt; each file maps its own parameter order, and a
  // load adds the states it holds.
  for (int r = 0;; ++r) {
    const std::string file = r == 0 ? optimizerFile : joinPath(found, "optimizer.rank" + std::to_string(r) + ".pt");
    if (r > 0 && !pathExists(file))
      break;
    try {
      torch::serialize::InputArchive archive;
      archive.load_from(file, device);
      optimizer.load(archive);
    } catch (const c10::Error &e) {
      throw Error(file + ": cannot be read as the optimizer's state: " + e.what_without_backtrace());
    }
  }
  const std::string rngFile = joinPath(found, "rng.safetensors");
  restoreGenerators(readSafetensors(rngFile), rngFile, rank);
  position = saved;
}

} // namespace

void removeTrainState(const std::string &dir) {
  for (const std::string &version : {dir, dir + ".prev", dir + ".old"})
    removeTree(version);
}

bool loadTrainState(const std::string &dir, torch::nn::Module &trained, torch::optim::Optimizer &optimizer,
                    TrainPosition &position, int rank) {
  // Newest first: the current state, the one an interrupted swap left aside, the version before the current.
  std::vector<std::string> versions;
  for (const std::string &candidate : {dir, dir + ".old", dir + ".prev"})
    if (isDirectory(candidate))
      versions.push_back(candidate);
  if (versions.empty())
    return false;
  std::string problems;
  for (const std::string &version : versions) {
    // Every state this runtime writes has a manifest (it is written last, before the rename); one without it
    // comes from an older alignc and is loaded as it is.
    const std::string problem = hasManifest(version) ? checkManifest(version) : "";
    if (!problem.empty()) {
      problems += "\n  " + problem;
      continue;
    }
    if (!problems.empty())
      std::fprintf(stderr, "warning: the newest training state is damaged:%s\n  resuming from the previous one, %s\n",
                   problems.c_str(), version.c_str());
    loadStateDirectory(version, trained, optimizer, position, rank);
    return true;
  }
  throw Error(dir + ": no usable training state; every version is damaged:" + problems +
              "\n  remove the state directory to start this stage again");
}

torch::Tensor cpuGeneratorState() {
  at::Generator gen = cpuGenerator();
  std::lock_guard<std::mutex> lock(gen.mutex());
  return gen.get_state();
}

} // namespace align::rt
