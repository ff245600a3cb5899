//===- GradientSync.cpp - Data-parallel gradients through c10d's DDP Reducer ----===//

#include "dist/GradientSync.h"

#include <torch/csrc/distributed/c10d/reducer.hpp>

namespace align::rt::dist {

GradientSync::GradientSync(const World &world, std::vector<torch::Tensor> parameters)
    : world_(world), parameters_(std::move(parameters)) {
  {
    // DDP's _sync_module_states: every rank starts from rank 0's values.
    torch::NoGradGuard noGrad;
    world_.broadcastFromWriter(parameters_);
  }
  // DDP's defaults: the first bucket small (its all-reduce starts early), the others 25 MB; buckets are
  // filled in reverse parameter order, the order backward produces gradients.
  const std::vector<size_t> limits{static_cast<size_t>(c10d::kDefaultFirstBucketBytes),
                                   static_cast<size_t>(c10d::kDefaultBucketBytesCap)};
  std::vector<std::vector<size_t>> buckets = std::get<0>(c10d::compute_bucket_assignment_by_size(parameters_, limits));
  std::reverse(buckets.begin(), buckets.end());
  std::unordered_map<size_t, std::string> names;
  reducer_ = std::make_unique<c10d::Reducer>(
      parameters_, std::move(buckets), world_.group(), std::vector<bool>(parameters_.size(), false),
      c10d::kDefaultBucketBytesCap,
      /*find_unused_parameters=*/true, // a reward stage leaves its LM head out unless a term reads it
      /*gradient_as_bucket_view=*/false, std::move(names), c10d::kDefaultFirstBucketBytes,
      /*skip_all_reduce_unused_params=*/false, /*use_python_reducer=*/false,
      /*bucket_bytes_cap_list=*/std::vector<int64_t>{});
}

GradientSync::~GradientSync() = default;

void GradientSync::beforeLastForward() { reducer_->prepare_for_forward(); }

torch::Tensor GradientSync::beforeBackward(const torch::Tensor &loss, bool last) {
  torch::Tensor scaled = loss * static_cast<double>(world_.size());
  if (last)
    reducer_->prepare_for_backward({scaled});
  return scaled;
}

torch::Tensor GradientSync::zeroLoss() const {
  torch::Tensor zero = torch::zeros({}, parameters_.front().options());
  for (const torch::Tensor &p : parameters_)
    zero = zero + p.sum() * 0.0;
  return zero;
}

} // namespace align::rt::dist
