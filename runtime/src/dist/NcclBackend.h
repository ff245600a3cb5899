//===- NcclBackend.h - A c10d NCCL backend for CUDA tensors ------*- C++ -*-===//
//
// Built when the nvidia-nccl wheel's nccl.h is present (runtime/CMakeLists.txt); used by dist::World for
// `--device cuda` with more than one process. One rank per GPU: the local rank's.
//
//===----------------------------------------------------------------------===//
#pragma once

#include <torch/csrc/distributed/c10d/Backend.hpp>
#include <torch/csrc/distributed/c10d/Store.hpp>

#include <chrono>

namespace align::rt::dist {

c10::intrusive_ptr<c10d::Backend> makeNcclBackend(const c10::intrusive_ptr<c10d::Store> &store, int rank, int size,
                                                  std::chrono::milliseconds timeout);

} // namespace align::rt::dist
