//===- TrainState.cpp - Resumable training state on disk ------------------===//

#include "train/TrainState.h"

#include "align/rt/Error.h"
#include "checkpoint/SafeTensors.h"
#include "support/Files.h"
#include "model/Checkpoint.h"

#include <ATen/Context.h>
#include <nlohmann/json.hpp>

#include <fstream>
#include <mutex>
#include <sstream>
#include <unistd.h>

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

void restoreGenerators(const std::map<std::string, torch::Tensor> &states, const std::string &file) {
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
                    const TrainPosition &position) {
  const std::string staged = dir + ".tmp-" + std::to_string(::getpid());
  removeTree(staged);
  makeDirectories(staged);
  try {
    saveParameters(trained, staged);
    const std::string optimizerFile = joinPath(staged, "optimizer.pt");
    torch::serialize::OutputArchive archive;
    optimizer.save(archive);
    archive.save_to(optimizerFile);
    syncPath(optimizerFile);
    writeSafetensors(joinPath(staged, "rng.safetensors"), generatorStates());
    nlohmann::json state = {{"stage", position.stage},
                            {"step", position.step},
                            {"total_steps", position.totalSteps},
                            {"epoch", position.epoch},
                            {"batch_in_epoch", position.batchInEpoch},
                            {"elapsed_seconds", position.elapsedSeconds},
                            {"fingerprint", position.fingerprint}};
    writeFileAtomically(joinPath(staged, "trainer_state.json"), state.dump(2) + "\n");
    syncPath(staged);
    replaceDirectory(staged, dir);
  } catch (...) {
    removeTree(staged);
    throw;
  }
}

bool loadTrainState(const std::string &dir, torch::nn::Module &trained, torch::optim::Optimizer &optimizer,
                    TrainPosition &position) {
  const std::string found = findDirectoryVersion(dir);
  if (found.empty())
    return false;
  const std::string stateFile = joinPath(found, "trainer_state.json");
  nlohmann::json state = nlohmann::json::parse(readText(stateFile), nullptr, false);
  if (state.is_discarded() || !state.is_object())
    throw Error(stateFile + ": not valid JSON");
  for (const char *field : {"stage", "step", "total_steps", "epoch", "batch_in_epoch", "fingerprint"})
    if (!state.contains(field))
      throw Error(stateFile + ": missing field '" + field + "'");
  const std::string fingerprint = state["fingerprint"].get<std::string>();
  if (fingerprint != position.fingerprint)
    throw Error(stateFile + ": this state was written by a run with different settings and cannot be resumed by "
                            "this one.\n  saved: " + fingerprint + "\n  now:   " + position.fingerprint);
  const std::string weights = joinPath(found, "model.safetensors");
  loadParametersStrict(trained, readSafetensors(weights), weights, [](const std::string &) { return false; });
  torch::serialize::InputArchive archive;
  const std::string optimizerFile = joinPath(found, "optimizer.pt");
  if (!pathExists(optimizerFile))
    throw Error(optimizerFile + ": missing (the optimizer state of the checkpoint)");
  torch::Device device = torch::kCPU;
  for (const auto &p : trained.parameters()) {
    device = p.device();
    break;
  }
  archive.load_from(optimizerFile, device);
  optimizer.load(archive);
  const std::string rngFile = joinPath(found, "rng.safetensors");
  restoreGenerators(readSafetensors(rngFile), rngFile);
  position.stage = state["stage"].get<std::string>();
  position.step = state["step"].get<int64_t>();
  position.totalSteps = state["total_steps"].get<int64_t>();
  position.epoch = state["epoch"].get<int64_t>();
  position.batchInEpoch = state["batch_in_epoch"].get<int64_t>();
  position.elapsedSeconds = state.value("elapsed_seconds", 0.0);
  return true;
}

} // namespace align::rt
