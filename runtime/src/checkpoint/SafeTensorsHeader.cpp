//===- SafeTensorsHeader.cpp - The header of a safetensors file -----------===//

#include "checkpoint/SafeTensorsHeader.h"

#include "align/rt/Error.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstring>

namespace align::rt {
namespace {

using Json = nlohmann::json;

/// A non-negative JSON integer, or an error naming the file, tensor and field.
uint64_t unsignedField(const Json &value, const std::string &where) {
  if (!value.is_number_unsigned())
    throw Error(where + " must be a non-negative integer, got " + value.dump());
  return value.get<uint64_t>();
}

} // namespace

const std::vector<SafeTensorsDtype> &safeTensorsDtypes() {
  static const std::vector<SafeTensorsDtype> dtypes = {{"BOOL", 1, 0}, {"U8", 1, 1},  {"I8", 1, 2},  {"I16", 2, 3},
                                                       {"F16", 2, 4},  {"BF16", 2, 5}, {"I32", 4, 6}, {"F32", 4, 7},
                                                       {"F64", 8, 8},  {"I64", 8, 9}};
  return dtypes;
}

const SafeTensorsDtype *findSafeTensorsDtype(const std::string &name) {
  for (const SafeTensorsDtype &d : safeTensorsDtypes())
    if (name == d.name)
      return &d;
  return nullptr;
}

void checkSafeTensorsHeaderLength(uint64_t headerLength, uint64_t fileSize, const std::string &path) {
  if (fileSize < 8)
    throw Error(path + ": truncated: the file has " + std::to_string(fileSize) +
                " bytes, fewer than the 8-byte header length");
  if (headerLength > std::min(fileSize - 8, kMaxSafeTensorsHeaderBytes))
    throw Error(path + ": header length " + std::to_string(headerLength) + " exceeds the " +
                std::to_string(fileSize - 8) + " bytes after the length field or the 100 MB limit (corrupt file?)");
}

SafeTensorsHeader parseSafeTensorsHeader(const std::string &headerJson, uint64_t fileSize, const std::string &path) {
  checkSafeTensorsHeaderLength(headerJson.size(), fileSize, path);
  Json root;
  try {
    root = Json::parse(headerJson);
  } catch (const Json::exception &e) { // parse_error, and out_of_range for a number like 1e999
    throw Error(path + ": header is not valid JSON: " + e.what());
  }
  if (!root.is_object())
    throw Error(path + ": header must be a JSON object, got " + std::string(root.type_name()));

  SafeTensorsHeader header;
  header.dataStart = 8 + headerJson.size();
  uint64_t dataSize = fileSize - header.dataStart;
  for (const auto &[name, entry] : root.items()) {
    if (name == "__metadata__") {
      if (!entry.is_object())
        throw Error(path + ": __metadata__ must be an object of strings");
      for (const auto &[key, value] : entry.items()) {
        if (!value.is_string())
          throw Error(path + ": __metadata__ field '" + key + "' must be a string, got " + value.dump());
        header.metadata[key] = value.get<std::string>();
      }
      continue;
    }
    std::string where = path + ": tensor '" + name + "'";
    if (!entry.is_object())
      throw Error(where + " must be an object with dtype, shape and data_offsets");
    for (const char *field : {"dtype", "shape", "data_offsets"})
      if (!entry.contains(field))
        throw Error(where + ": missing field '" + field + "'");
    const Json &dtype = entry["dtype"], &shape = entry["shape"], &offsets = entry["data_offsets"];
    SafeTensorsEntry t;
    t.name = name;
    t.dtype = dtype.is_string() ? findSafeTensorsDtype(dtype.get<std::string>()) : nullptr;
    if (!t.dtype)
      throw Error(where + ": unsupported dtype " + dtype.dump() +
                  " (supported: F32, F16, BF16, F64, I64, I32, I16, I8, U8, BOOL)");
    if (!shape.is_array())
      throw Error(where + ": field 'shape' must be an array, got " + shape.dump());
    uint64_t bytes = t.dtype->elementSize;
    bool overflow = false;
    for (const Json &dim : shape) {
      uint64_t extent = unsignedField(dim, where + ": dimension in 'shape'");
      t.shape.push_back(static_cast<int64_t>(extent));
      overflow |= extent > uint64_t(INT64_MAX) || __builtin_mul_overflow(bytes, extent, &bytes);
    }
    if (!offsets.is_array() || offsets.size() != 2)
      throw Error(where + ": field 'data_offsets' must be [begin, end], got " + offsets.dump());
    t.begin = unsignedField(offsets[0], where + ": data_offsets begin");
    t.end = unsignedField(offsets[1], where + ": data_offsets end");
    if (t.begin > t.end)
      throw Error(where + ": data_offsets [" + std::to_string(t.begin) + ", " + std::to_string(t.end) +
                  "] are out of order");
    if (t.end > dataSize)
      throw Error(path + ": truncated: tensor '" + name + "' ends at byte " +
                  std::to_string(header.dataStart + t.end) + " but the file has " + std::to_string(fileSize));
    if (overflow || bytes != t.end - t.begin)
      throw Error(where + ": data_offsets span " + std::to_string(t.end - t.begin) + " bytes but dtype " +
                  t.dtype->name + " and shape " + shape.dump() + " need " +
                  (overflow ? std::string("an impossible size") : std::to_string(bytes)));
    header.tensors.push_back(std::move(t));
  }

  // The specification forbids holes and overlaps: sorted by offset, each tensor starts where the previous
  // one ended and the last one ends at the end of the file.
  std::vector<const SafeTensorsEntry *> byOffset;
  for (const SafeTensorsEntry &t : header.tensors)
    byOffset.push_back(&t);
  std::sort(byOffset.begin(), byOffset.end(), [](const SafeTensorsEntry *a, const SafeTensorsEntry *b) {
    return a->begin != b->begin ? a->begin < b->begin : a->end < b->end;
  });
  uint64_t expected = 0;
  for (size_t i = 0; i < byOffset.size(); ++i) {
    const SafeTensorsEntry *t = byOffset[i];
    if (t->begin < expected)
      throw Error(path + ": tensor '" + t->name + "' at data_offsets [" + std::to_string(t->begin) + ", " +
                  std::to_string(t->end) + "] overlaps tensor '" + byOffset[i - 1]->name + "' ending at " +
                  std::to_string(expected));
    if (t->begin > expected)
      throw Error(path + ": tensor '" + t->name + "' starts at data offset " + std::to_string(t->begin) +
                  " leaving a hole after " + std::to_string(expected));
    expected = t->end;
  }
  if (expected != dataSize)
    throw Error(path + ": " + std::to_string(dataSize - expected) + " bytes after the last tensor" +
                (byOffset.empty() ? std::string() : " '" + byOffset.back()->name + "'") +
                " are not part of any tensor");
  return header;
}

SafeTensorsHeader parseSafeTensorsFile(const std::string &bytes, uint64_t fileSize, const std::string &path) {
  if (bytes.size() < 8 || fileSize < 8)
    throw Error(path + ": truncated: the file has " + std::to_string(std::min<uint64_t>(bytes.size(), fileSize)) +
                " bytes, fewer than the 8-byte header length");
  uint64_t headerLength = 0; // little-endian on disk; SafeTensors.cpp asserts a little-endian host
  std::memcpy(&headerLength, bytes.data(), 8);
  checkSafeTensorsHeaderLength(headerLength, fileSize, path);
  if (headerLength > bytes.size() - 8)
    throw Error(path + ": truncated while reading the header");
  return parseSafeTensorsHeader(bytes.substr(8, headerLength), fileSize, path);
}

std::map<std::string, std::vector<std::string>> parseSafeTensorsIndex(const std::string &text,
                                                                      const std::string &path) {
  Json root;
  try {
    root = Json::parse(text);
  } catch (const Json::exception &e) {
    throw Error(path + ": not valid JSON: " + e.what());
  }
  if (!root.is_object() || !root.contains("weight_map") || !root["weight_map"].is_object())
    throw Error(path + ": missing field 'weight_map' (an object of tensor name to shard file)");
  std::map<std::string, std::vector<std::string>> tensorsByShard;
  for (const auto &[name, shard] : root["weight_map"].items()) {
    if (!shard.is_string())
      throw Error(path + ": weight_map entry '" + name + "' must be a file name, got " + shard.dump());
    std::string shardName = shard.get<std::string>();
    // Shards are files in the checkpoint directory; an index must not point a reader elsewhere.
    if (shardName.empty() || shardName.find('/') != std::string::npos || shardName == "..")
      throw Error(path + ": weight_map entry '" + name + "' names shard '" + shardName +
                  "', which is not a file name in the checkpoint directory");
    tensorsByShard[shardName].push_back(name);
  }
  return tensorsByShard;
}

} // namespace align::rt
