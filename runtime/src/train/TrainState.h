//===- TrainState.h - Resumable training state on disk ---------*- C++ -*-===//
//
// Everything a stage needs to continue exactly where it stopped: the trained parameters (every named
// parameter of the trained module, adapters and user tables included), the optimizer's moments, the random
// generators, and the position in the data (epoch and batch; the order of each epoch is a pure function of
// the seed and the epoch, so it is not stored). Resuming from it continues bit for bit on the CPU.
//
// The directory is written beside its target, every file fsynced, manifest.json (support/Manifest.h: size and
// CRC-32 of each file) last, and swapped in with renames that keep the version it replaces as `<dir>.prev`
// (support/Files.h rotateDirectory): a crash at any moment leaves a complete state, and a state whose bytes
// were damaged after the fact is refused by its manifest and the previous one used instead.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "train/TrainPosition.h"

#include <torch/torch.h>

#include <map>
#include <string>
#include <vector>

namespace align::rt {

/// Writes the state to `dir` (the state it replaces becomes `dir`.prev): model.safetensors, optimizer.pt,
/// rng.safetensors, trainer_state.json, manifest.json. A failed write is an Error naming the file; `dir` and
/// `dir`.prev are then as they were. `rankGenerators` (many processes: the other ranks' CPU generator
/// states, "cpu.rank<R>") are recorded in rng.safetensors beside this process's "cpu". `rankOptimizers`
/// (a sharded optimizer: ranks 1..P-1's optimizers as torch::optim saves them, each holding its share's state)
/// become optimizer.rank<R>.pt beside this process's optimizer.pt.
void saveTrainState(const std::string &dir, torch::nn::Module &trained, torch::optim::Optimizer &optimizer,
                    const TrainPosition &position, const std::map<std::string, torch::Tensor> &rankGenerators = {},
                    const std::vector<std::string> &rankOptimizers = {});

/// True if `dir` (or `dir`.old, `dir`.prev) holds a state: then the parameters, the optimizer and the random
/// generators are restored and `position` filled in. The newest version whose manifest checks out is used
/// (a warning on stderr names what was skipped); none usable, or settings that differ, is an Error. A rank
/// R > 0 restores its own CPU generator ("cpu.rank<R>"); a state saved by fewer processes has none for it,
/// and the rank keeps the stream it was seeded with. The optimizer gets the state of optimizer.pt and of every
/// optimizer.rank<R>.pt (a sharded run's shares): the whole state, at any world size.
bool loadTrainState(const std::string &dir, torch::nn::Module &trained, torch::optim::Optimizer &optimizer,
                    TrainPosition &position, int rank = 0);

/// This process's CPU generator state (a byte tensor), and setting it: what ranks exchange so rank 0 records
/// every rank's dropout stream.
torch::Tensor cpuGeneratorState();

/// Removes the state in `dir` with its other versions (`.prev`, `.old`): a stage that starts over must not
/// later fall back to a version of an earlier start.
void removeTrainState(const std::string &dir);

} // namespace align::rt
