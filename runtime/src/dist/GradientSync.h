//===- GradientSync.h - Data-parallel gradients through c10d's DDP Reducer -*- C++ -*-===//
//
// The reducer of torch's DistributedDataParallel, used directly: it assigns the trained parameters to ~25 MB
// buckets (the first 1 MB) and hooks each parameter's gradient accumulator, so a bucket's all-reduce starts
// as soon as backward has produced all of its gradients and overlaps the rest of backward. Only the backward
// of a step's last micro-batch synchronises; the others accumulate locally (DDP's no_sync).
//
// The reducer averages over ranks. The runtime's losses are already normalised by the whole global batch
// (objectives/ObjectiveTerms.h: the units are counted over every rank's examples), so the step's gradient is
// the *sum* of the ranks' gradients: each rank's loss is scaled by the world size before backward.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "dist/World.h"

#include <memory>

namespace c10d {
class Reducer;
}

namespace align::rt::dist {

class GradientSync {
public:
  /// Broadcasts rank 0's values of `parameters` (those that require grad) to every rank, then builds the
  /// reducer over them.
  GradientSync(const World &world, std::vector<torch::Tensor> parameters);
  ~GradientSync();

  /// Before the forward of the micro-batch whose backward completes the step.
  void beforeLastForward();
  /// The loss of a micro-batch as this rank backpropagates it (scaled so the reducer's mean is the sum);
  /// `last`: this backward all-reduces the accumulated gradients. The loss must reach every parameter's
  /// gradient or be the zero loss of zeroLoss().
  torch::Tensor beforeBackward(const torch::Tensor &loss, bool last);
  /// A loss of 0 that still reaches every parameter: what a rank with no examples in a step backpropagates,
  /// so its buckets take part in the all-reduce.
  torch::Tensor zeroLoss() const;

private:
  const World &world_;
  std::vector<torch::Tensor> parameters_;
  std::unique_ptr<c10d::Reducer> reducer_;
};

} // namespace align::rt::dist
