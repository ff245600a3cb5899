//===- NcclBackend.cpp - A c10d NCCL backend for CUDA tensors -------------===//

#include "dist/NcclBackend.h"

#include <torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp>

namespace align::rt::dist {

c10::intrusive_ptr<c10d::Backend> makeNcclBackend(const c10::intrusive_ptr<c10d::Store> &store, int rank, int size,
                                                  std::chrono::milliseconds timeout) {
  auto options = c10d::ProcessGroupNCCL::Options::create();
  options->timeout = timeout;
  auto group = c10::make_intrusive<c10d::ProcessGroupNCCL>(store, rank, size, std::move(options));
  return c10::static_intrusive_pointer_cast<c10d::Backend>(std::move(group));
}

} // namespace align::rt::dist
