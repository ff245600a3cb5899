//===- PackedLayout.cpp - A decoder pass over real tokens, prefixes decoded once ===//

#include "model/PackedLayout.h"

#include "align/rt/Error.h"

#include <algorithm>
#include <numeric>

namespace align::rt {

RowLayout RowLayout::shifted(int64_t tokens) const {
  RowLayout out = *this;
  if (tokens == 0)
    return out;
  if (lengths.defined())
    out.lengths = lengths + tokens;
  for (int64_t &prefix : out.sharedPrefixes)
    if (prefix > 0)
      prefix += tokens;
  return out;
}

int64_t RowLayout::sharedTokens() const {
  int64_t saved = 0;
  for (size_t g = 0; g < groupSizes.size() && g < sharedPrefixes.size(); ++g)
    saved += std::max<int64_t>(0, groupSizes[g] - 1) * sharedPrefixes[g];
  return saved;
}

namespace {

std::vector<int64_t> lengthsOf(const torch::Tensor &lengths, int64_t length) {
  torch::Tensor n = lengths.to(torch::kCPU).to(torch::kInt64).contiguous();
  std::vector<int64_t> out(n.data_ptr<int64_t>(), n.data_ptr<int64_t>() + n.numel());
  for (size_t row = 0; row < out.size(); ++row)
    if (out[row] < 0 || out[row] > length)
      throw Error("packed decoding: row " + std::to_string(row) + " has " + std::to_string(out[row]) +
                  " tokens, outside [0, " + std::to_string(length) + "]");
  return out;
}

torch::Tensor indexTensor(const std::vector<int64_t> &values, torch::Device device) {
  return torch::tensor(values, torch::kInt64).to(device);
}

} // namespace

PackedTokens packTokens(const torch::Tensor &lengths, int64_t length) {
  const std::vector<int64_t> len = lengthsOf(lengths, length);
  PackedTokens packed;
  packed.rows = static_cast<int64_t>(len.size());
  packed.length = length;
  std::vector<int64_t> index, positions;
  for (int64_t row = 0; row < packed.rows; ++row)
    for (int64_t position = 0; position < len[row]; ++position) {
      index.push_back(row * length + position);
      positions.push_back(position);
    }
  packed.index = indexTensor(index, lengths.device());
  packed.positions = indexTensor(positions, lengths.device());
  packed.slot = packed.index;
  packed.attentionRows = packed.rows;
  packed.attentionLength = length;
  packed.outputIndex = packed.index;
  return packed;
}

PackedTokens packTokens(const RowLayout &layout, int64_t length) {
  if (layout.groupSizes.empty())
    return packTokens(layout.lengths, length);
  const std::vector<int64_t> len = lengthsOf(layout.lengths, length);
  const int64_t rows = static_cast<int64_t>(len.size()), groups = static_cast<int64_t>(layout.groupSizes.size());
  if (layout.sharedPrefixes.size() != layout.groupSizes.size())
    throw Error("packed decoding: " + std::to_string(groups) + " groups but " +
                std::to_string(layout.sharedPrefixes.size()) + " shared prefixes");
  if (std::accumulate(layout.groupSizes.begin(), layout.groupSizes.end(), int64_t{0}) != rows)
    throw Error("packed decoding: the groups do not cover the " + std::to_string(rows) + " rows");

  // Each group's attention row: its prefix, then each row's own tokens; its length decides the grid's.
  std::vector<int64_t> prefix(groups), groupLength(groups);
  for (int64_t g = 0, first = 0; g < groups; first += layout.groupSizes[g], ++g) {
    const int64_t size = layout.groupSizes[g];
    if (size < 1)
      throw Error("packed decoding: group " + std::to_string(g) + " has no rows");
    prefix[g] = size > 1 ? layout.sharedPrefixes[g] : 0; // one row shares nothing
    groupLength[g] = prefix[g];
    for (int64_t r = first; r < first + size; ++r) {
      if (prefix[g] < 0 || len[r] < prefix[g])
        throw Error("packed decoding: row " + std::to_string(r) + " holds " + std::to_string(len[r]) +
                    " tokens, fewer than its group's shared prefix of " + std::to_string(prefix[g]));
      groupLength[g] += len[r] - prefix[g];
    }
  }
  const int64_t attentionLength = std::max<int64_t>(1, *std::max_element(groupLength.begin(), groupLength.end()));

  PackedTokens packed;
  packed.rows = rows;
  packed.length = length;
  packed.attentionRows = groups;
  packed.attentionLength = attentionLength;
  std::vector<int64_t> index, positions, slot, outputIndex, outputSource;
  // branch[g][s]: 0 for a prefix token, k + 1 for row k's own tokens, -1 for the grid's padding.
  torch::Tensor branch = torch::full({groups, attentionLength}, -1, torch::kInt64);
  int64_t *branchOf = branch.data_ptr<int64_t>();
  for (int64_t g = 0, first = 0; g < groups; first += layout.groupSizes[g], ++g) {
    int64_t offset = 0;
    const int64_t prefixStart = static_cast<int64_t>(index.size());
    auto place = [&](int64_t row, int64_t position, int64_t label) {
      index.push_back(row * length + position);
      positions.push_back(position);
      slot.push_back(g * attentionLength + offset);
      branchOf[g * attentionLength + offset] = label;
      ++offset;
    };
    for (int64_t position = 0; position < prefix[g]; ++position)
      place(first, position, 0);
    for (int64_t k = 0; k < layout.groupSizes[g]; ++k) {
      const int64_t row = first + k, ownStart = static_cast<int64_t>(index.size());
      for (int64_t position = 0; position < len[row]; ++position) {
        outputIndex.push_back(row * length + position);
        outputSource.push_back(position < prefix[g] ? prefixStart + position : ownStart + position - prefix[g]);
      }
      for (int64_t position = prefix[g]; position < len[row]; ++position)
        place(row, position, k + 1);
    }
  }
  // A query sees an earlier key of the prefix or of its own row; every query sees itself, so a padding slot's
  // softmax has a term (its output is never read).
  torch::Tensor query = branch.unsqueeze(2), key = branch.unsqueeze(1); // [G, L, 1], [G, 1, L]
  torch::Tensor causal = torch::ones({attentionLength, attentionLength}, torch::kBool).tril();
  torch::Tensor mask = causal & key.ge(0) & (key.eq(0) | key.eq(query));
  mask = mask | torch::eye(attentionLength, torch::kBool);

  const torch::Device device = layout.lengths.device();
  packed.index = indexTensor(index, device);
  packed.positions = indexTensor(positions, device);
  packed.slot = indexTensor(slot, device);
  packed.mask = mask.unsqueeze(1).to(device);
  packed.outputIndex = indexTensor(outputIndex, device);
  packed.outputSource = indexTensor(outputSource, device);
  return packed;
}

bool worthPacking(const RowLayout &layout, int64_t length, double minPadding) {
  if (!layout.lengths.defined())
    return false;
  if (!layout.groupSizes.empty() && layout.sharedTokens() > 0)
    return true;
  const double positions = static_cast<double>(layout.lengths.size(0) * length);
  const double tokens = layout.lengths.sum().item<double>();
  return positions > 0 && (positions - tokens) >= minPadding * positions;
}

std::vector<int64_t> commonPrefixes(const std::vector<const std::vector<int64_t> *> &sequences,
                                    const std::vector<int64_t> &groupSizes) {
  std::vector<int64_t> prefixes;
  size_t next = 0;
  for (int64_t size : groupSizes) {
    if (size < 1 || next + static_cast<size_t>(size) > sequences.size())
      throw Error("commonPrefixes: the groups do not match the " + std::to_string(sequences.size()) + " sequences");
    const std::vector<int64_t> &first = *sequences[next];
    size_t common = size > 1 ? first.size() : 0;
    for (int64_t k = 1; k < size; ++k) {
      const std::vector<int64_t> &other = *sequences[next + static_cast<size_t>(k)];
      common = std::min(common, other.size());
      common = static_cast<size_t>(std::mismatch(first.begin(), first.begin() + static_cast<int64_t>(common),
                                                 other.begin())
                                       .first -
                                   first.begin());
    }
    prefixes.push_back(static_cast<int64_t>(common));
    next += static_cast<size_t>(size);
  }
  return prefixes;
}

} // namespace align::rt
