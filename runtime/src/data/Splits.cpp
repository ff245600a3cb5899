//===- Splits.cpp - Deterministic shuffles and train/eval splits ----------===//

#include "data/Splits.h"

#include "align/rt/Error.h"

#include <algorithm>
#include <cmath>
#include <map>

namespace align::rt::data {

std::vector<int64_t> shuffledIndices(int64_t n, uint64_t seed) {
  std::vector<int64_t> order(static_cast<size_t>(std::max<int64_t>(n, 0)));
  for (size_t i = 0; i < order.size(); ++i)
    order[i] = static_cast<int64_t>(i);
  deterministicShuffle(order, seed);
  return order;
}

bool whereMatches(const nlohmann::json &row, const std::string &column, const nlohmann::json &equals) {
  auto it = row.find(column);
  if (it == row.end())
    return false;
  const nlohmann::json &value = *it;
  if (equals.is_string())
    return value.is_string() && value.get_ref<const std::string &>() == equals.get_ref<const std::string &>();
  if (equals.is_boolean())
    return value.is_boolean() && value.get<bool>() == equals.get<bool>();
  if (equals.is_number()) {
    if (!value.is_number())
      return false;
    if (value.is_number_float() || equals.is_number_float())
      return value.get<double>() == equals.get<double>();
    // Two integers: compare exactly (large ids lose digits as doubles); mixed signedness via the sign first.
    if (value.is_number_unsigned() != equals.is_number_unsigned()) {
      const nlohmann::json &u = value.is_number_unsigned() ? value : equals;
      const nlohmann::json &s = value.is_number_unsigned() ? equals : value;
      return s.get<int64_t>() >= 0 && static_cast<uint64_t>(s.get<int64_t>()) == u.get<uint64_t>();
    }
    return value == equals;
  }
  throw Error("where: 'equals' must be a string, number or bool, got " + std::string(equals.type_name()));
}

namespace {

int64_t targetCount(double fraction, int64_t n) {
  if (!(fraction > 0) || fraction > 1)
    throw Error("a percentage split must lie in (0%, 100%], got " + std::to_string(fraction * 100) + "%");
  return static_cast<int64_t>(std::llround(fraction * static_cast<double>(n)));
}

} // namespace

nlohmann::json whereValue(const SplitRule &rule) {
  nlohmann::json value = nlohmann::json::parse(rule.equalsJson, nullptr, false);
  if (value.is_discarded())
    throw Error("split '" + rule.name + "': the `where` value is not JSON: " + rule.equalsJson);
  return value;
}

std::vector<int> assignSplits(int64_t n, const std::vector<SplitSpec> &splits, uint64_t seed,
                              const std::function<const nlohmann::json &(int64_t)> &rawRow,
                              const std::function<std::string(int64_t, const std::string &)> &idOf) {
  std::vector<int> assigned(static_cast<size_t>(n), -1);

  // 1. where splits, first match wins (each value parsed once).
  std::vector<nlohmann::json> values(splits.size());
  for (size_t s = 0; s < splits.size(); ++s)
    if (splits[s].kind == SplitKind::where)
      values[s] = whereValue(splits[s]);
  for (int64_t i = 0; i < n; ++i)
    for (size_t s = 0; s < splits.size(); ++s)
      if (splits[s].kind == SplitKind::where && whereMatches(rawRow(i), splits[s].column, values[s])) {
        assigned[i] = static_cast<int>(s);
        break;
      }

  // 2. percentage splits over the rest, in one shuffled order. Grouped splits go first so that each holds
  // every remaining row of its groups; an explicit `train` goes last and takes what is left.
  std::vector<int64_t> order;
  for (int64_t i : shuffledIndices(n, seed))
    if (assigned[i] < 0)
      order.push_back(i);
  const int64_t base = static_cast<int64_t>(order.size());
  std::vector<size_t> percentSplits;
  for (size_t s = 0; s < splits.size(); ++s)
    if (splits[s].kind == SplitKind::percent && !splits[s].by.empty() && splits[s].name != "train")
      percentSplits.push_back(s);
  for (size_t s = 0; s < splits.size(); ++s)
    if (splits[s].kind == SplitKind::percent && splits[s].by.empty() && splits[s].name != "train")
      percentSplits.push_back(s);

  for (size_t s : percentSplits) {
    const SplitSpec &split = splits[s];
    int64_t target = targetCount(split.fraction, base);
    int64_t taken = 0;
    if (split.by.empty()) {
      for (int64_t i : order) {
        if (taken >= target)
          break;
        if (assigned[i] < 0) {
          assigned[i] = static_cast<int>(s);
          ++taken;
        }
      }
      continue;
    }
    // Whole groups: ids sorted (a map) then shuffled, so the draw does not depend on the file's order.
    std::map<std::string, std::vector<int64_t>> groups;
    for (int64_t i = 0; i < n; ++i)
      if (assigned[i] < 0)
        groups[idOf(i, split.by)].push_back(i);
    std::vector<const std::vector<int64_t> *> shuffled;
    for (const auto &entry : groups)
      shuffled.push_back(&entry.second);
    deterministicShuffle(shuffled, seed ^ (0xA5A5A5A5ull + s)); // a different draw per split
    for (const auto *members : shuffled) {
      if (taken >= target)
        break;
      for (int64_t i : *members)
        assigned[i] = static_cast<int>(s);
      taken += static_cast<int64_t>(members->size());
    }
  }

  // An explicit percentage `train` takes all that is left.
  for (size_t s = 0; s < splits.size(); ++s)
    if (splits[s].kind == SplitKind::percent && splits[s].name == "train")
      for (int64_t i = 0; i < n; ++i)
        if (assigned[i] < 0)
          assigned[i] = static_cast<int>(s);
  return assigned;
}

} // namespace align::rt::data
