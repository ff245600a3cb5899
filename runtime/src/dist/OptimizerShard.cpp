#include "dist/OptimizerShard.h"

namespace align::rt::dist {

OptimizerShard::OptimizerShard(const World &world, std::vector<torch::Tensor> trained)
    : world_(world), trained_(std::move(trained)) {
  for (const torch::Tensor &p : trained_)
    total_ += p.numel();
  // Contiguous shares: parameter i goes to the rank whose slice of [0, total) holds its first element's
  // midpoint, so shares differ by at most about one parameter's size.
  int64_t before = 0;
  for (const torch::Tensor &p : trained_) {
    const int64_t middle = before + p.numel() / 2;
    const int rank = total_ > 0 ? static_cast<int>(std::min<int64_t>(world_.size() - 1, middle * world_.size() / total_))
                                : 0;
    owner_.push_back(rank);
    if (rank == world_.rank())
      owned_ += p.numel();
    before += p.numel();
  }
}

void OptimizerShard::keepOwnGradients() const {
  for (size_t i = 0; i < trained_.size(); ++i)
    if (owner_[i] != world_.rank())
      trained_[i].mutable_grad() = torch::Tensor(); // optimizers skip a parameter without a gradient
}

void OptimizerShard::broadcastFromOwners() const {
  torch::NoGradGuard noGrad;
  for (int r = 0; r < world_.size(); ++r) {
    std::vector<torch::Tensor> share;
    for (size_t i = 0; i < trained_.size(); ++i)
      if (owner_[i] == r)
        share.push_back(trained_[i].detach());
    world_.broadcastFrom(r, share); // copies into the parameters' storage
  }
}

void OptimizerShard::dropOthersState(torch::optim::Optimizer &optimizer) const {
  for (size_t i = 0; i < trained_.size(); ++i)
    if (owner_[i] != world_.rank())
      optimizer.state().erase(trained_[i].unsafeGetTensorImpl());
}

std::vector<std::string> OptimizerShard::gatherStates(torch::optim::Optimizer &optimizer) const {
  // One rank after another streams its serialized optimizer to rank 0 as torch::optim writes it, so a
  // sender never holds a serialized copy of its share besides the share itself.
  std::vector<std::string> states;
  for (int r = 1; r < world_.size(); ++r) {
    std::string received =
        world_.streamToWriter(r, [&](const std::function<void(const void *, size_t)> &write) {
          torch::serialize::OutputArchive archive;
          optimizer.save(archive);
          archive.save_to([&](const void *data, size_t size) {
            write(data, size);
            return size;
          });
        });
    if (world_.rank() == 0)
      states.push_back(std::move(received));
  }
  return states;
}

} // namespace align::rt::dist
