//===- FuzzSafeTensors.cpp - libFuzzer target: safetensors headers and index files ===//
//
// The bytes are a whole .safetensors file (runtime/src/checkpoint/SafeTensorsHeader.h: the 8-byte length,
// the JSON header, the data section), or, when they start with '{', a model.safetensors.index.json. A header
// that parses must describe tensors that a reader can allocate and read without trusting anything more:
// each inside the data section, its size = product(shape) × element size, and together tiling it exactly.
//
//===----------------------------------------------------------------------===//

#include "FuzzHarness.h"

#include "checkpoint/SafeTensorsHeader.h"

#include <algorithm>

using namespace align::rt;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  const std::string input = align::fuzz::bytes(data, size);
  if (!input.empty() && input[0] == '{') {
    const std::string path = "fuzz/model.safetensors.index.json";
    std::map<std::string, std::vector<std::string>> shards;
    if (align::fuzz::parsedOrRefused(path, [&] { shards = parseSafeTensorsIndex(input, path); }))
      for (const auto &[shard, names] : shards)
        if (shard.empty() || shard.find('/') != std::string::npos || shard == ".." || names.empty())
          std::abort(); // an index must not send a reader outside the checkpoint directory
    return 0;
  }
  const std::string path = "fuzz.safetensors";
  SafeTensorsHeader header;
  if (!align::fuzz::parsedOrRefused(path, [&] { header = parseSafeTensorsFile(input, input.size(), path); }))
    return 0;
  uint64_t expected = header.dataStart;
  std::vector<std::pair<uint64_t, uint64_t>> spans;
  for (const SafeTensorsEntry &t : header.tensors) {
    uint64_t bytes = t.dtype->elementSize;
    for (int64_t extent : t.shape)
      if (extent < 0 || __builtin_mul_overflow(bytes, static_cast<uint64_t>(extent), &bytes))
        std::abort();
    if (t.begin > t.end || bytes != t.end - t.begin || header.dataStart + t.end > input.size())
      std::abort();
    spans.push_back({t.begin, t.end});
  }
  std::sort(spans.begin(), spans.end());
  for (const auto &[begin, end] : spans) {
    if (header.dataStart + begin != expected)
      std::abort(); // a hole or an overlap got through
    expected = header.dataStart + end;
  }
  if (expected != input.size())
    std::abort();
  return 0;
}
