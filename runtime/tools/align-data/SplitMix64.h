//===- SplitMix64.h - The draws align-data's generators make ---*- C++ -*-===//
//
// The generators draw from the runtime's SplitMix64 stream (runtime/src/support/SplitMix64.h) with the few
// draws defined here (no std::shuffle or std::uniform_int_distribution, whose algorithms differ between
// standard libraries), so a seed gives the same bytes on every machine. `below` is next() mod n — not the
// stream's multiply-shift — because the shipped data and its measured results were made with it.
// `uniform` and `normal` are written out for the same reason (std::normal_distribution differs between
// libraries).
//
//===----------------------------------------------------------------------===//
#pragma once

#include "support/SplitMix64.h"

#include <cmath>
#include <cstdint>
#include <utility>
#include <vector>

namespace align::data {

struct SplitMix64 {
  explicit SplitMix64(uint64_t seed) : stream(seed) {}
  rt::SplitMix64 stream;
  uint64_t next() { return stream.next(); }
  /// An integer in [0, n) (n > 0; the modulo bias is negligible for the small n used here).
  uint64_t below(uint64_t n) { return next() % n; }
  template <class T> const T &pick(const std::vector<T> &items) { return items[below(items.size())]; }
  /// A double in (0, 1) from 53 random bits (never 0, so its log is finite).
  double uniform() { return (static_cast<double>(next() >> 11) + 0.5) * 0x1.0p-53; }
  /// A standard normal by Box–Muller (two uniform draws).
  double normal() {
    const double u = uniform(), v = uniform();
    return std::sqrt(-2 * std::log(u)) * std::cos(2 * 3.14159265358979323846 * v); // M_PI is POSIX, not C++
  }
  /// Fisher–Yates.
  template <class T> void shuffle(std::vector<T> &items) {
    for (size_t i = items.size(); i > 1; --i)
      std::swap(items[i - 1], items[below(i)]);
  }
};

} // namespace align::data
