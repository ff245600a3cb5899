//===- SafeTensorsHeader.h - The header of a safetensors file ---*- C++ -*-===//
//
// The torch-free half of checkpoint/SafeTensors.h: an 8-byte little-endian header length N, N bytes of JSON
// ({name: {"dtype", "shape", "data_offsets": [begin, end]}, optional "__metadata__": {string: string}}),
// then the tensor bytes, offsets counted from the end of the header. Everything a reader must trust before it
// allocates a tensor is checked here, so the checks can be fuzzed without LibTorch (tests/fuzz/).
//
//===----------------------------------------------------------------------===//
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace align::rt {

/// A safetensors dtype. `layoutRank`: the Python library lays tensors out by descending rank (its dtype enum
/// order, which follows element size), then by name; with an 8-byte-aligned header this keeps every tensor
/// aligned to its element size.
struct SafeTensorsDtype {
  const char *name;
  size_t elementSize;
  int layoutRank;
};

/// BOOL, U8, I8, I16, F16, BF16, I32, F32, F64, I64, in layout-rank order.
const std::vector<SafeTensorsDtype> &safeTensorsDtypes();

/// The dtype spelled `name`, or nullptr.
const SafeTensorsDtype *findSafeTensorsDtype(const std::string &name);

struct SafeTensorsEntry {
  std::string name;
  const SafeTensorsDtype *dtype = nullptr;
  std::vector<int64_t> shape; ///< every extent ≤ INT64_MAX; their product × element size = end − begin
  uint64_t begin = 0, end = 0; ///< offsets into the data section
};

struct SafeTensorsHeader {
  std::vector<SafeTensorsEntry> tensors; ///< in the header's (sorted-key) order
  std::map<std::string, std::string> metadata;
  uint64_t dataStart = 0; ///< 8 + header length: where the data section starts in the file
};

/// The Python library refuses headers above 100 MB; so do we, before allocating one.
constexpr uint64_t kMaxSafeTensorsHeaderBytes = 100'000'000;

/// Checks the header length read from the first 8 bytes of a file of `fileSize` (≥ 8) bytes: it must fit in
/// the file and under the 100 MB limit. Errors name `path`.
void checkSafeTensorsHeaderLength(uint64_t headerLength, uint64_t fileSize, const std::string &path);

/// Parses and validates the header JSON of a file of `fileSize` bytes whose header is `headerJson`: dtypes,
/// shapes (no overflow of extent × element size), offsets inside the file, and tensors that tile the data
/// section exactly (no hole, no overlap, nothing after the last), as the format's specification demands.
/// Every problem is an align::rt::Error naming `path` (and the tensor and field).
SafeTensorsHeader parseSafeTensorsHeader(const std::string &headerJson, uint64_t fileSize, const std::string &path);

/// The same for a whole file (or its first bytes: `bytes` may stop after the header when `fileSize` says how
/// long the file is; pass bytes.size() for an entire file held in memory).
SafeTensorsHeader parseSafeTensorsFile(const std::string &bytes, uint64_t fileSize, const std::string &path);

/// The shards of a checkpoint's model.safetensors.index.json ({"weight_map": {tensor: shard file}}): each
/// shard file name with the tensors it must hold, in name order. A shard must be a file name in the
/// checkpoint directory (no '/', not ".."). Errors name `path` and the entry.
std::map<std::string, std::vector<std::string>> parseSafeTensorsIndex(const std::string &text,
                                                                      const std::string &path);

} // namespace align::rt
