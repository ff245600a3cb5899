//===- CountingAllocator.h - Peak bytes of CPU tensor storage --*- C++ -*-===//
//
// A c10::Allocator that forwards to another one and counts the bytes held through it and their peak. Installed
// in front of c10's CPU allocator (c10::SetCPUAllocator) it sees every CPU tensor's storage; BLAS/oneDNN scratch
// memory bypasses it. The chunked log-prob test and benchmark use it to measure what the loss allocates.
//
//===----------------------------------------------------------------------===//
#pragma once

#include <c10/core/Allocator.h>

#include <atomic>
#include <cstdint>

namespace align::rt {

struct CountingAllocator final : c10::Allocator {
  c10::Allocator *base = nullptr;
  std::atomic<int64_t> current{0}, peak{0};

  struct Block {
    c10::DataPtr inner;
    size_t bytes;
    CountingAllocator *owner;
  };
  static void release(void *context) {
    auto *block = static_cast<Block *>(context);
    block->owner->current -= int64_t(block->bytes);
    delete block;
  }
  c10::DataPtr allocate(size_t bytes) override {
    c10::DataPtr inner = base->allocate(bytes);
    void *data = inner.get();
    c10::Device device = inner.device();
    int64_t now = current += int64_t(bytes);
    for (int64_t seen = peak.load(); now > seen && !peak.compare_exchange_weak(seen, now);)
      ;
    return {data, new Block{std::move(inner), bytes, this}, &release, device};
  }
  void copy_data(void *dest, const void *src, size_t count) const override { default_copy_data(dest, src, count); }
};

} // namespace align::rt
