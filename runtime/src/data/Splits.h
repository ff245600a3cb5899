//===- Splits.h - Deterministic shuffles and train/eval splits --*- C++ -*-===//
//
// A recipe's `split` declarations (docs/language.md §Splits) decide, row by row, which split of a data
// source a row lands in. The decision must be the same on every machine and standard library, so the
// shuffle is SplitMix64 (Steele, Lea & Flood 2014; the constants of Vigna's reference code) driving a
// Fisher-Yates shuffle written here, never std::shuffle or std::uniform_int_distribution, whose outputs are
// implementation-defined. The training loop's batch order (Collate.h) uses the same generator.
//
// The rule, in order:
//   1. `where` splits, in declaration order: a row whose raw column equals the value goes to the first such
//      split. Equality: strings to strings, bools to bools, numbers to numbers by value (1 equals 1.0); a
//      value of another type, or a missing column, is not equal.
//   2. The rows left (N of them) are shuffled with `shuffle_seed`. Each percentage split, in declaration
//      order, takes round(fraction × N) of them in shuffled order (fewer if fewer are left). A split named
//      `train` is filled last, with every row still left, so that percentages adding up to 100% with an
//      explicit `train` leave no rounding remainder behind.
//      `by ROLE`: the distinct ids of the rows left are sorted, shuffled, and whole groups are taken until
//      the split holds at least its target count; a group never straddles two splits.
//   3. Every row no split took goes to `train`.
//   `file` splits take no rows of the main file: their rows come from their own file (Examples.cpp).
// Within each split, rows keep their order in the file.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "align/rt/Error.h"

#include <nlohmann/json.hpp>

#include "align/rt/Trainer.h"
#include "support/SplitMix64.h"

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace align::rt::data {

using rt::SplitMix64; // support/SplitMix64.h

/// Fisher-Yates from the back with SplitMix64(seed): the same permutation everywhere.
template <typename T> void deterministicShuffle(std::vector<T> &items, uint64_t seed) {
  SplitMix64 rng(seed);
  for (size_t i = items.size(); i > 1; --i)
    std::swap(items[i - 1], items[rng.below(i)]);
}

/// 0..n-1 shuffled with `seed`.
std::vector<int64_t> shuffledIndices(int64_t n, uint64_t seed);

/// A split rule is the public SplitRule (align/rt/Trainer.h): kind percent, where or file; a `where` value
/// as JSON text; a file path already resolved against --data-root.
using SplitSpec = SplitRule;

/// The `where` value of a rule, parsed; an Error naming the split when it is not JSON.
nlohmann::json whereValue(const SplitRule &rule);

/// The `where` comparison of the header comment.
bool whereMatches(const nlohmann::json &row, const std::string &column, const nlohmann::json &equals);

/// For each of `n` rows, the index into `splits` of the split it goes to, or -1 for the implicit rows of
/// `train` (the leftovers). `rawRow(i)` is row i's JSON object (for `where`); `idOf(i, role)` is its id for
/// `by` (only asked for roles that a split groups by).
std::vector<int> assignSplits(int64_t n, const std::vector<SplitSpec> &splits, uint64_t seed,
                              const std::function<const nlohmann::json &(int64_t)> &rawRow,
                              const std::function<std::string(int64_t, const std::string &)> &idOf);

} // namespace align::rt::data
