//===- Shares.h - This rank's share of a data set's work, and gathering it back -*- C++ -*-===//
//
// Scoring and sampling a data set over the ranks (docs/distributed.md, "What each rank does"): each rank takes
// a contiguous share in the units one process uses (rows, or whole batches, so each batch and each sampling
// seed is the one process's), and all ranks gather the results in order. Without a many-process world the
// share is everything and nothing is gathered.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "dist/World.h"

#include <algorithm>
#include <cstdint>
#include <utility>
#include <vector>

namespace align::rt::dist {

/// This rank's contiguous share [first, last) of `count` units.
inline std::pair<size_t, size_t> shareOf(size_t count, const World *world) {
  if (!world || !world->distributed())
    return {0, count};
  const auto [first, last] = sliceOf(static_cast<int64_t>(count), world->rank(), world->size());
  return {static_cast<size_t>(first), static_cast<size_t>(last)};
}

/// The rows [first, last) of this rank's share of the batches of `batch` rows that `count` rows make.
inline std::pair<size_t, size_t> shareOfBatches(size_t count, size_t batch, const World *world) {
  const auto [first, last] = shareOf((count + batch - 1) / batch, world);
  return {std::min(count, first * batch), std::min(count, last * batch)};
}

/// Every rank's rows of token ids (each its share, in order), concatenated in rank order; `local` itself
/// without a many-process world.
inline std::vector<std::vector<int64_t>> allGatherRows(const std::vector<std::vector<int64_t>> &local,
                                                       const World *world) {
  if (!world || !world->distributed())
    return local;
  std::vector<double> flat; // a row's length, then its ids
  for (const auto &row : local) {
    flat.push_back(static_cast<double>(row.size()));
    flat.insert(flat.end(), row.begin(), row.end());
  }
  const std::vector<double> all = world->allGather(flat);
  std::vector<std::vector<int64_t>> rows;
  for (size_t at = 0; at < all.size();) {
    const auto n = static_cast<size_t>(all[at++]);
    rows.emplace_back(all.begin() + static_cast<std::ptrdiff_t>(at), all.begin() + static_cast<std::ptrdiff_t>(at + n));
    at += n;
  }
  return rows;
}

} // namespace align::rt::dist
