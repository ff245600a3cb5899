//===- SafeTensors.cpp - safetensors files and checkpoints ----------------===//
//
// Reading validates the header completely (checkpoint/SafeTensorsHeader.cpp: dtypes, shapes, offsets that
// tile the data section exactly, as the format's specification demands) before allocating a tensor, then
// reads each tensor's bytes straight into its own storage with pread, so a checkpoint is never held twice in memory. Writing follows the
// Python library's layout rules so our files are byte-identical to its files.
//
//===----------------------------------------------------------------------===//

#include "checkpoint/SafeTensors.h"

#include "checkpoint/SafeTensorsHeader.h"

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

/// The LibTorch type of each safetensors dtype (checkpoint/SafeTensorsHeader.h holds the names and sizes).
at::ScalarType scalarTypeOf(const SafeTensorsDtype &dtype) {
  static const std::map<std::string, at::ScalarType> types = {
      {"BOOL", at::kBool}, {"U8", at::kByte},     {"I8", at::kChar}, {"I16", at::kShort}, {"F16", at::kHalf},
      {"BF16", at::kBFloat16}, {"I32", at::kInt}, {"F32", at::kFloat}, {"F64", at::kDouble}, {"I64", at::kLong}};
  return types.at(dtype.name);
}

const SafeTensorsDtype *dtypeOf(at::ScalarType type) {
  for (const SafeTensorsDtype &d : safeTensorsDtypes())
    if (scalarTypeOf(d) == type)
      return &d;
  return nullptr;
}

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

/// The validated header (checkpoint/SafeTensorsHeader.cpp) of an open file.
SafeTensorsHeader readHeader(const InputFile &file) {
  if (file.size < 8)
    checkSafeTensorsHeaderLength(0, file.size, file.path); // throws: truncated
  uint64_t headerLength = 0; // little-endian on disk and (static_assert above) in memory
  file.readAt(&headerLength, 8, 0, "the header length");
  checkSafeTensorsHeaderLength(headerLength, file.size, file.path);
  std::string text(headerLength, '\0');
  file.readAt(text.data(), headerLength, 8, "the header");
  return parseSafeTensorsHeader(text, file.size, file.path);
}

} // namespace

std::map<std::string, torch::Tensor> readSafetensors(const std::string &path) {
  InputFile file(path);
  SafeTensorsHeader header = readHeader(file);
  std::map<std::string, torch::Tensor> tensors;
  for (const SafeTensorsEntry &t : header.tensors) {
    const at::ScalarType type = scalarTypeOf(*t.dtype);
    at::Tensor tensor = at::empty(t.shape, at::TensorOptions().dtype(type));
    uint64_t bytes = t.end - t.begin;
    file.readAt(tensor.data_ptr(), bytes, header.dataStart + t.begin, "tensor '" + t.name + "'");
    // A bool byte other than 0 or 1 is undefined behaviour in torch's kernels.
    const auto *raw = static_cast<const unsigned char *>(tensor.data_ptr());
    if (type == at::kBool && std::any_of(raw, raw + bytes, [](unsigned char b) { return b > 1; }))
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
    const SafeTensorsDtype *dtype;
  };
  std::vector<Prepared> prepared;
  for (const auto &[name, tensor] : tensors) {
    if (name == "__metadata__")
      throw Error(path + ": tensor name '__metadata__' is reserved for the metadata table");
    if (!tensor.defined())
      throw Error(path + ": tensor '" + name + "' is undefined");
    const SafeTensorsDtype *dtype = dtypeOf(tensor.scalar_type());
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
  std::map<std::string, std::vector<std::string>> tensorsByShard = parseSafeTensorsIndex(text, index);

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
