//===- PackedLayout.h - A decoder pass over real tokens, prefixes decoded once -*- C++ -*-===//
//
// Collation right-pads a micro-batch to its longest sequence, and the responses of a preference pair or a
// ranking repeat their prompt. A decoder pass given the layout of its rows does neither: every projection,
// norm and MLP runs on the real tokens laid end to end ([1, S, hidden]), and the rows of one group (one
// example's responses) that begin with the same tokens decode that prefix once. Attention puts each group's
// tokens back into a row of its own — the prefix, then each row's remaining tokens — and masks it so that a
// token sees the prefix and the earlier tokens of its own row only (a shared-prefix block mask; without
// sharing, plain causal attention per row). By causality a prefix token's state does not depend on what
// follows, so every row's states equal those of its own padded pass; they are copied back to [rows,
// length, hidden], zero at the padding, and every caller (heads, losses, pooling) is unchanged.
//
//===----------------------------------------------------------------------===//
#pragma once

#include <torch/torch.h>

#include <vector>

namespace align::rt {

/// What a decoder pass may know about its right-padded rows [rows, length].
struct RowLayout {
  RowLayout() = default;
  /// `lengths` [rows]: the real tokens of each row (undefined: every position is real).
  RowLayout(torch::Tensor lengths) : lengths(std::move(lengths)) {} // NOLINT: a row's lengths are a layout
  torch::Tensor lengths;
  /// Consecutive groups of rows, in order: group g is the next groupSizes[g] rows, which share their first
  /// sharedPrefixes[g] tokens (an example's responses after their common prompt). Empty: nothing is shared.
  std::vector<int64_t> groupSizes, sharedPrefixes;

  /// The same rows with `tokens` more after the first (P-RLHF's soft tokens follow BOS): lengths grow by it,
  /// and so does every prefix that covers the first token.
  RowLayout shifted(int64_t tokens) const;
  /// Prefix tokens decoded once instead of once per row of their group.
  int64_t sharedTokens() const;
};

/// Where each token of a packed pass comes from and goes. Packed token j reads its input at grid position
/// index[j] (row * length + position) and its rotary position is positions[j]; in attention it sits at
/// slot[j] of an [attentionRows, attentionLength] grid, masked by `mask` [attentionRows, 1, L, L] (true:
/// attend; undefined: causal). The output at grid position outputIndex[r] is packed token outputSource[r]
/// (undefined: outputIndex = index, token for token).
struct PackedTokens {
  torch::Tensor index, positions;
  int64_t rows = 0, length = 0;
  torch::Tensor slot;
  int64_t attentionRows = 0, attentionLength = 0;
  torch::Tensor mask;
  torch::Tensor outputIndex, outputSource;
  int64_t tokens() const { return index.size(0); }
};

/// The layout of a right-padded batch whose rows hold `lengths` [rows] real tokens of `length` positions,
/// each row attending causally in its own row.
PackedTokens packTokens(const torch::Tensor &lengths, int64_t length);
/// The same, decoding each group's shared prefix once (layout.groupSizes non-empty). A group's rows must all
/// hold at least its prefix; groups must cover the rows.
PackedTokens packTokens(const RowLayout &layout, int64_t length);

/// Whether a decoder pass over `layout` in rows of `length` positions should run packed: when it shares
/// prefixes, or when padding would be at least `minPadding` of the positions. Packing costs copies around each
/// attention; below a few per cent of padding they outweigh what it saves.
bool worthPacking(const RowLayout &layout, int64_t length, double minPadding = 0.0625);

/// The longest common prefix of each example's sequences, for the groups of RowLayout: `sequences` are the
/// rows' ids in order and `groupSizes` how many consecutive rows each example has.
std::vector<int64_t> commonPrefixes(const std::vector<const std::vector<int64_t> *> &sequences,
                                    const std::vector<int64_t> &groupSizes);

} // namespace align::rt
