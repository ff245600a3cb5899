//===- SplitMix64.h - The seeded stream behind align-data ------*- C++ -*-===//
//
// SplitMix64 and the few draws the generators make from it, all defined here (no std::shuffle or
// std::uniform_int_distribution, whose algorithms differ between standard libraries), so a seed gives the
// same bytes on every machine.
//
//===----------------------------------------------------------------------===//
#pragma once

#include <cstdint>
#include <utility>
#include <vector>

namespace align::data {

struct SplitMix64 {
  uint64_t state;
  uint64_t next() {
    uint64_t z = (state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  /// An integer in [0, n) (n > 0; the modulo bias is negligible for the small n used here).
  uint64_t below(uint64_t n) { return next() % n; }
  template <class T> const T &pick(const std::vector<T> &items) { return items[below(items.size())]; }
  /// Fisher–Yates.
  template <class T> void shuffle(std::vector<T> &items) {
    for (size_t i = items.size(); i > 1; --i)
      std::swap(items[i - 1], items[below(i)]);
  }
};

} // namespace align::data
