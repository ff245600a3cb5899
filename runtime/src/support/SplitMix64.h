//===- SplitMix64.h - The one seeded stream of the runtime and its tools -*- C++ -*-===//
//
// SplitMix64 (Steele, Lea & Flood 2014; the constants of Vigna's reference code): a 64-bit state advanced by
// a Weyl sequence and finalised by a bijective mixer. Written out rather than taken from <random>, whose
// distributions differ between standard libraries, so a seed gives the same shuffle, split and generated
// data on every machine. The runtime's data splits and batch orders and align-data's generators draw from it.
//
//===----------------------------------------------------------------------===//
#pragma once

#include <cstdint>

namespace align::rt {

class SplitMix64 {
public:
  explicit SplitMix64(uint64_t seed) : state_(seed) {}
  uint64_t next() {
    uint64_t z = (state_ += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  /// A value in [0, n) (n > 0): the high word of next() × n, Lemire's multiply-shift without the
  /// rejection step (bias below n / 2^64).
  uint64_t below(uint64_t n) { return static_cast<uint64_t>((static_cast<unsigned __int128>(next()) * n) >> 64); }
  /// A value in [0, 1): the top 53 bits of next().
  double uniform() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }

private:
  uint64_t state_;
};

} // namespace align::rt
