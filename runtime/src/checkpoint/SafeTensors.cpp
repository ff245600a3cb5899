//===- SafeTensors.cpp - safetensors files and checkpoints ----------------===//
//
// Reading validates the header completely (dtypes, shapes, offsets that tile the data section exactly, as
// the format's specification demands) before allocating a tensor, then reads each tensor's bytes straight
// into its own storage with pread, so a checkpoint is never held twice in memory. Writing follows the
// Python library's layout rules so our files are byte-identical to its files.
//
//===----------------------------------------------------------------------===//

#include "checkpoint/SafeTensors.h"

#include "align/rt/Error.h"
#include "support/Files.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <utility>
#include <vector>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__,
              "safetensors data is little-endian; tensors are copied byte for byte");

namespace align::rt {
namespace {

using Json = nlohmann::json;

struct DtypeInfo {
  const char *name;
  at::ScalarType scalarType;
  size_t elementSize;
  /// The Python library lays tensors out by descending rank (its dtype enum order, which follows element
  /// size), then by name; with an 8-byte-aligned header this keeps every tensor aligned to its element size.
  int layoutRank;
};

const DtypeInfo kDtypes[] = {{"BOOL", at::kBool, 1, 0}, {"U8", at::kByte, 1, 1},   {"I8", at::kChar, 1, 2},
                             {"I16", at::kShort, 2, 3}, {"F16", at::kHalf, 2, 4},  {"BF16", at::kBFloat16, 2, 5},
                             {"I32", at::kInt, 4, 6},   {"F32", at::kFloat, 4, 7}, {"F64", at::kDouble, 8, 8},
                             {"I64", at::kLong, 8, 9}};

template <typename Predicate> const DtypeInfo *findDtype(Predicate matches) {
  const DtypeInfo *found = std::find_if(std::begin(kDtypes), std::end(kDtypes), matches);
  return found == std::end(kDtypes) ? nullptr : found;
}

// The Python library refuses headers above 100 MB; so do we, before allocating one.
constexpr uint64_t kMaxHeaderBytes = 100'000'000;

/// A read-only file descriptor that closes itself.
class InputFile {
  int fd = -1;

public:
  explicit InputFile(const std::string &path) : path(path) {
    fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0)
      throw Error(path + ": cannot open: " + std::strerror(errno));
    struct stat info;
    if (::fstat(fd, &info) != 0 || !S_ISREG(info.st_mode)) {
      ::close(fd);
      throw Error(path + ": not a regular file");
    }
    size = static_cast<uint64_t>(info.st_size);
  }
  ~InputFile() { ::close(fd); }
  InputFile(const InputFile &) = delete;
  InputFile &operator=(const InputFile &) = delete;

  /// Reads exactly `count` bytes at `offset`; `what` names the bytes in the error.
  void readAt(void *buffer, uint64_t count, uint64_t offset, const std::string &what) const {
    auto *out = static_cast<char *>(buffer);
    while (count > 0) {
      ssize_t got = ::pread(fd, out, std::min<uint64_t>(count, 1 << 30), static_cast<off_t>(offset));
      if (got < 0 && errno == EINTR)
        continue;
      if (got < 0)
        throw Error(path + ": cannot read " + what + ": " + std::strerror(errno));
      if (got == 0)
        throw Error(path + ": truncated while reading " + what);
      out += got, count -= got, offset += got;
    }
  }

  std::string path;
  uint64_t size = 0;
};

struct TensorEntry {
  std::string name;
  const DtypeInfo *dtype;
  std::vector<int64_t> shape;
  uint64_t begin, end; // offsets into the data section
};

struct Header {
  std::vector<TensorEntry> tensors; // in file order
  std::map<std::string, std::string> metadata;
  uint64_t dataStart = 0;
};

/// A non-negative JSON integer, or an error naming the file, tensor and field.
uint64_t unsignedField(const Json &value, const std::string &where) {
  if (!value.is_number_unsigned())
    throw Error(where + " must be a non-negative integer, got " + value.dump());
  return value.get<uint64_t>();
}

Header readHeader(const InputFile &file) {
  const std::string &path = file.path;
  if (file.size < 8)
    throw Error(path + ": truncated: the file has " + std::to_string(file.size) +
                " bytes, fewer than the 8-byte header length");
  uint64_t headerLength = 0; // little-endian on disk and (static_assert above) in memory
  file.readAt(&headerLength, 8, 0, "the header length");
  if (headerLength > std::min(file.size - 8, kMaxHeaderBytes))
    throw Error(path + ": header length " + std::to_string(headerLength) + " exceeds the " +
                std::to_string(file.size - 8) + " bytes after the length field or the 100 MB limit (corrupt file?)");
  std::string text(headerLength, '\0');
  file.readAt(text.data(), headerLength, 8, "the header");

  Json root;
  try {
    root = Json::parse(text);
  } catch (const Json::parse_error &e) {
    throw Error(path + ": header is not valid JSON: " + e.what());
  }
  if (!root.is_object())
    throw Error(path + ": header must be a JSON object, got " + std::string(root.type_name()));

  Header header;
  header.dataStart = 8 + headerLength;
  uint64_t dataSize = file.size - header.dataStart;
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
    TensorEntry t;
    t.name = name;
    t.dtype =
        dtype.is_string() ? findDtype([&](const DtypeInfo &d) { return dtype.get<std::string>() == d.name; }) : nullptr;
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
      throw Error(path + ": truncated: tensor '" + name + "' ends at byte " + std::to_string(header.dataStart + t.end) +
                  " but the file has " + std::to_string(file.size));
    if (overflow || bytes != t.end - t.begin)
      throw Error(where + ": data_offsets span " + std::to_string(t.end - t.begin) + " bytes but dtype " +
                  t.dtype->name + " and shape " + shape.dump() + " need " +
                  (overflow ? std::string("an impossible size") : std::to_string(bytes)));
    header.tensors.push_back(std::move(t));
  }

  // The specification forbids holes and overlaps: sorted by offset, each tensor starts where the previous
  // one ended and the last one ends at the end of the file.
  std::vector<const TensorEntry *> byOffset;
  for (const TensorEntry &t : header.tensors)
    byOffset.push_back(&t);
  std::sort(byOffset.begin(), byOffset.end(), [](const TensorEntry *a, const TensorEntry *b) {
    return a->begin != b->begin ? a->begin < b->begin : a->end < b->end;
  });
  uint64_t expected = 0;
  for (size_t i = 0; i < byOffset.size(); ++i) {
    const TensorEntry *t = byOffset[i];
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

} // namespace

std::map<std::string, torch::Tensor> readSafetensors(const std::string &path) {
  InputFile file(path);
  Header header = readHeader(file);
  std::map<std::string, torch::Tensor> tensors;
  for (const TensorEntry &t : header.tensors) {
    at::Tensor tensor = at::empty(t.shape, at::TensorOptions().dtype(t.dtype->scalarType));
    uint64_t bytes = t.end - t.begin;
    file.readAt(tensor.data_ptr(), bytes, header.dataStart + t.begin, "tensor '" + t.name + "'");
    // A bool byte other than 0 or 1 is undefined behaviour in torch's kernels.
    const auto *raw = static_cast<const unsigned char *>(tensor.data_ptr());
    if (t.dtype->scalarType == at::kBool && std::any_of(raw, raw + bytes, [](unsigned char b) { return b > 1; }))
      throw Error(path + ": tensor '" + t.name + "': BOOL bytes must be 0 or 1");
    tensors.emplace(t.name, std::move(tensor));
  }
  return tensors;
}

std::map<std::string, std::string> readSafetensorsMetadata(const std::string &path) {
  InputFile file(path);
  return readHeader(file).metadata;
}

void writeSafetensors(const std::string &path, const std::map<std::string, torch::Tensor> &tensors,
                      const std::map<std::string, std::string> &metadata) {
  struct Prepared {
    const std::string *name;
    at::Tensor data; // CPU, contiguous
    const DtypeInfo *dtype;
  };
  std::vector<Prepared> prepared;
  for (const auto &[name, tensor] : tensors) {
    if (name == "__metadata__")
      throw Error(path + ": tensor name '__metadata__' is reserved for the metadata table");
    if (!tensor.defined())
      throw Error(path + ": tensor '" + name + "' is undefined");
    const DtypeInfo *dtype = findDtype([&](const DtypeInfo &d) { return d.scalarType == tensor.scalar_type(); });
    if (!dtype)
      throw Error(path + ": tensor '" + name + "' has unsupported dtype " +
                  std::string(c10::toString(tensor.scalar_type())));
    prepared.push_back({&name, tensor.detach().to(at::kCPU).contiguous(), dtype});
  }
  std::stable_sort(prepared.begin(), prepared.end(), [](const Prepared &a, const Prepared &b) {
    return a.dtype->layoutRank != b.dtype->layoutRank ? a.dtype->layoutRank > b.dtype->layoutRank : *a.name < *b.name;
  });

  // ordered_json keeps insertion order: metadata first, then tensors in layout order, each with its
  // fields in the order the Python library writes them.
  nlohmann::ordered_json header = nlohmann::ordered_json::object();
  if (!metadata.empty())
    header["__metadata__"] = metadata;
  uint64_t offset = 0;
  for (const Prepared &p : prepared) {
    uint64_t bytes = static_cast<uint64_t>(p.data.numel()) * p.dtype->elementSize;
    header[*p.name] = {
        {"dtype", p.dtype->name}, {"shape", p.data.sizes().vec()}, {"data_offsets", {offset, offset + bytes}}};
    offset += bytes;
  }
  std::string headerText;
  try {
    headerText = header.dump();
  } catch (const nlohmann::ordered_json::type_error &e) {
    throw Error(path + ": a tensor name or metadata entry is not valid UTF-8: " + e.what());
  }
  headerText.append((8 - headerText.size() % 8) % 8, ' ');

  writeFileAtomically(path, [&](const ByteSink &write) {
    uint64_t headerLength = headerText.size();
    write(&headerLength, 8);
    write(headerText.data(), headerText.size());
    for (const Prepared &p : prepared)
      write(p.data.data_ptr(), static_cast<size_t>(p.data.numel()) * p.dtype->elementSize);
  });
}

std::map<std::string, torch::Tensor> readCheckpointTensors(const std::string &dir) {
  std::string single = dir + "/model.safetensors";
  std::string index = dir + "/model.safetensors.index.json";
  // Like transformers, a single-file checkpoint wins over an index beside it.
  if (pathExists(single))
    return readSafetensors(single);
  if (!pathExists(index))
    throw Error(dir + ": no model.safetensors or model.safetensors.index.json in the checkpoint directory");

  InputFile indexFile(index);
  std::string text(indexFile.size, '\0');
  indexFile.readAt(text.data(), text.size(), 0, "the index");
  Json root;
  try {
    root = Json::parse(text);
  } catch (const Json::parse_error &e) {
    throw Error(index + ": not valid JSON: " + e.what());
  }
  if (!root.is_object() || !root.contains("weight_map") || !root["weight_map"].is_object())
    throw Error(index + ": missing field 'weight_map' (an object of tensor name to shard file)");
  const Json &weightMap = root["weight_map"];

  std::map<std::string, std::vector<std::string>> tensorsByShard;
  for (const auto &[name, shard] : weightMap.items()) {
    if (!shard.is_string())
      throw Error(index + ": weight_map entry '" + name + "' must be a file name, got " + shard.dump());
    std::string shardName = shard.get<std::string>();
    // Shards are files in the checkpoint directory; an index must not point a reader elsewhere.
    if (shardName.empty() || shardName.find('/') != std::string::npos || shardName == "..")
      throw Error(index + ": weight_map entry '" + name + "' names shard '" + shardName +
                  "', which is not a file name in the checkpoint directory");
    tensorsByShard[shardName].push_back(name);
  }

  std::map<std::string, torch::Tensor> tensors;
  for (const auto &[shardName, names] : tensorsByShard) {
    std::string shardPath = dir + "/" + shardName;
    if (!pathExists(shardPath))
      throw Error(index + ": shard '" + shardName + "' (holding tensor '" + names.front() +
                  "') is missing from the checkpoint directory");
    std::map<std::string, torch::Tensor> shardTensors = readSafetensors(shardPath);
    for (const std::string &name : names) {
      auto found = shardTensors.find(name);
      if (found == shardTensors.end())
        throw Error(shardPath + ": tensor '" + name + "' listed in " + index + " is absent");
      tensors.emplace(name, std::move(found->second));
    }
  }
  return tensors;
}

} // namespace align::rt
