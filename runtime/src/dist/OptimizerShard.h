//===- OptimizerShard.h - ZeRO-1: each rank keeps its share's optimizer state -*- C++ -*-===//
//
// `schedule { shard: optimizer; }` under torchrun. Gradients are still all-reduced in full (GradientSync.h)
// and clipped on every rank; then each rank steps only the parameters it owns, so the optimizer's state
// (AdamW's two moments, RMSprop's averages, SGD's momentum) exists for them alone, and every parameter is
// broadcast from its owner. The parameters stay identical on every rank and the step is the one of a single
// process; the state memory per rank is about 1/world of it. docs/distributed.md, "Sharded optimizer state".
//
//===----------------------------------------------------------------------===//
#pragma once

#include "dist/World.h"

#include <torch/torch.h>

#include <string>
#include <vector>

namespace align::rt::dist {

class OptimizerShard {
public:
  /// Splits `trained` (every rank lists the same parameters in the same order) into contiguous shares of
  /// about equal size, one per rank.
  OptimizerShard(const World &world, std::vector<torch::Tensor> trained);

  /// Before the optimizer step, after the gradients are summed and clipped: forgets the gradients of the
  /// parameters other ranks own, so the optimizer steps (and keeps state for) this rank's share only.
  void keepOwnGradients() const;
  /// After the optimizer step: every parameter becomes its owner's.
  void broadcastFromOwners() const;
  /// Drops the state of parameters other ranks own (a resume loads the whole state on every rank).
  void dropOthersState(torch::optim::Optimizer &optimizer) const;
  /// On rank 0, ranks 1..P-1's optimizers serialized as torch::optim saves them (each holds its share's
  /// state): what rank 0 writes into the training state beside its own optimizer. The other ranks get
  /// nothing back.
  std::vector<std::string> gatherStates(torch::optim::Optimizer &optimizer) const;

  /// This rank's share of the trained elements, and all of them (for the log line).
  int64_t ownedElements() const { return owned_; }
  int64_t totalElements() const { return total_; }

private:
  const World &world_;
  std::vector<torch::Tensor> trained_;
  std::vector<int> owner_; ///< the rank that steps each of trained_
  int64_t owned_ = 0, total_ = 0;
};

} // namespace align::rt::dist
