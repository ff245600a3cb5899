//===- GlooBackend.h - A c10d Gloo backend behind c10d-only types -*- C++ -*-===//
//
// c10d's ProcessGroupGloo.hpp includes Gloo's headers, which the torch wheel does not ship (Gloo is linked
// into libtorch_cpu.so). This header is the only way the runtime makes a Gloo backend: only c10d and std
// types cross it, and GlooBackend.cpp is the one translation unit that sees ProcessGroupGloo.hpp, compiled
// against declaration-only stand-ins (gloo-declarations/; docs/distributed.md says why that is sound).
//
//===----------------------------------------------------------------------===//
#pragma once

#include <torch/csrc/distributed/c10d/Backend.hpp>
#include <torch/csrc/distributed/c10d/Store.hpp>

#include <chrono>

namespace align::rt::dist {

/// c10d::ProcessGroupGloo(store, rank, size) with its default device (GLOO_SOCKET_IFNAME, else the host
/// name's address, else loopback: chosen inside libtorch_cpu.so) and `timeout` for every collective.
c10::intrusive_ptr<c10d::Backend> makeGlooBackend(const c10::intrusive_ptr<c10d::Store> &store, int rank, int size,
                                                  std::chrono::milliseconds timeout);

} // namespace align::rt::dist
