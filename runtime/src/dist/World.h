//===- World.h - The processes of one training run, on c10d -----*- C++ -*-===//
//
// A trainer launched by torchrun (`torchrun --no-python --nproc-per-node P ./trainer ARGS`) reads RANK,
// WORLD_SIZE, LOCAL_RANK, MASTER_ADDR and MASTER_PORT, meets the other processes at a c10d TCPStore (the
// torchrun agent's own store when TORCHELASTIC_USE_AGENT_STORE says it serves one) and builds one c10d
// ProcessGroup over them: Gloo for CPU tensors, NCCL for CUDA tensors. Everything here is LibTorch's c10d;
// the runtime adds only the environment's validation and a few typed helpers. docs/distributed.md.
//
//===----------------------------------------------------------------------===//
#pragma once

#include <torch/torch.h>

#include <torch/csrc/distributed/c10d/ProcessGroup.hpp>

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace align::rt::dist {

/// What torchrun (or a user starting the processes by hand) says about this process.
struct LaunchEnvironment {
  int rank = 0;
  int worldSize = 1;
  int localRank = 0;
  std::string masterAddr = "127.0.0.1";
  int masterPort = 29500;
  bool agentStore = false;       ///< TORCHELASTIC_USE_AGENT_STORE=True: torchrun's agent serves the store
  std::string restartCount = "0"; ///< TORCHELASTIC_RESTART_COUNT: keys are namespaced per attempt
};

/// Reads the launch variables; an absent WORLD_SIZE is one process. A malformed value is an Error naming the
/// variable (RANK=x, RANK ≥ WORLD_SIZE, a port out of range, RANK or MASTER_ADDR missing when WORLD_SIZE > 1).
LaunchEnvironment readLaunchEnvironment();

/// The process group of a run. One process (WORLD_SIZE absent or 1) makes no group and every collective is
/// the identity, so single-process training runs exactly the code it ran before.
class World {
public:
  /// Joins the others (blocks until all WORLD_SIZE processes are there, up to `timeout`). `device`: CPU
  /// tensors go through Gloo; CUDA selects NCCL on the GPU of the local rank.
  static std::shared_ptr<World> join(const LaunchEnvironment &env, torch::Device device,
                                     std::chrono::milliseconds timeout);
  static std::shared_ptr<World> single();

  int rank() const { return rank_; }
  int size() const { return size_; }
  bool distributed() const { return size_ > 1; }
  /// Rank 0 writes checkpoints, state, metrics, pictures and eval.json, and prints the progress line.
  bool isWriter() const { return rank_ == 0; }
  /// The c10d group (null for one process): what c10d::Reducer takes.
  const c10::intrusive_ptr<c10d::ProcessGroup> &group() const { return group_; }

  /// In place: the sum over ranks of each value (float64 on the wire).
  void allReduceSum(std::vector<double> &values) const;
  /// In place: the sum over ranks (a tensor on the group's device).
  void allReduceSum(torch::Tensor &tensor) const;
  /// In place: every rank's tensors become rank 0's.
  void broadcastFromWriter(std::vector<torch::Tensor> &tensors) const { broadcastFrom(0, tensors); }
  /// In place: every rank's tensors become rank `root`'s (the same shapes and dtype on every rank).
  void broadcastFrom(int root, std::vector<torch::Tensor> &tensors) const;
  /// Point to point from rank `from` (> 0) to rank 0, a stream of byte chunks: the sender calls `produce`
  /// with a sink it writes any number of chunks to (each goes out as it is written, so the sender never
  /// holds the whole), rank 0 gets the concatenation, the other ranks return at once with nothing.
  std::string streamToWriter(int from,
                             const std::function<void(const std::function<void(const void *, size_t)> &)> &produce) const;
  /// Every rank's `local` values, concatenated in rank order (each rank may hold a different count).
  std::vector<double> allGather(const std::vector<double> &local) const;
  /// The sum over ranks of each key's value; a key missing on a rank counts as 0 there (ranks' keys differ
  /// when a rank's slice of a batch lacks a group).
  std::map<std::string, double> sumMaps(const std::map<std::string, double> &local) const;
  void barrier() const;

private:
  int rank_ = 0, size_ = 1;
  torch::Device device_ = torch::kCPU;
  c10::intrusive_ptr<c10d::ProcessGroup> group_;
};

/// Whether `e` is a failed collective: c10d's DistError (NCCL, the store) or an exception of Gloo's
/// own (a peer's connection closed, a timeout), which reaches the trainer raw from inside backward.
bool isCollectiveFailure(const std::exception &e);

/// The contiguous slice [begin, end) of `count` items that `rank` of `size` takes: the first count % size
/// ranks take one more, so slices differ by at most one and cover every item once, in order.
std::pair<int64_t, int64_t> sliceOf(int64_t count, int rank, int size);

} // namespace align::rt::dist
