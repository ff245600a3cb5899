//===- SafeTensors.h - safetensors files and checkpoints --------*- C++ -*-===//
//
// The safetensors format: an 8-byte little-endian header length N, N bytes of JSON
// ({name: {"dtype", "shape", "data_offsets": [begin, end]}, optional "__metadata__": {string: string}}),
// then the tensor bytes, offsets counted from the end of the header. Readers validate the whole header
// before reading a byte of data; writers produce the same bytes as the Python `safetensors` library and
// replace the target atomically, so a crash mid-save never leaves a half-written checkpoint.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "support/AtomicWrite.h"

#include <torch/types.h>

#include <cstddef>
#include <functional>
#include <map>
#include <string>

namespace align::rt {

/// Every tensor of a safetensors file, on CPU, contiguous, owning its memory. Supported dtypes: F32, F16,
/// BF16, F64, I64, I32, I16, I8, U8, BOOL. Throws align::rt::Error naming the file (and tensor) when the
/// file is unreadable, truncated or malformed.
std::map<std::string, torch::Tensor> readSafetensors(const std::string &path);

/// The "__metadata__" table of a safetensors file (empty when it has none). Reads only the header.
std::map<std::string, std::string> readSafetensorsMetadata(const std::string &path);

/// Writes `tensors` (moved to CPU and made contiguous) byte for byte as `safetensors.torch.save_file`
/// would, atomically (see writeFileAtomically). An undefined tensor, an unsupported dtype or the reserved
/// name "__metadata__" is an error, and then `path` is left as it was.
void writeSafetensors(const std::string &path, const std::map<std::string, torch::Tensor> &tensors,
                      const std::map<std::string, std::string> &metadata = {});

/// The tensors of a Hugging Face checkpoint directory: `model.safetensors`, or the shards listed by
/// `model.safetensors.index.json` ({"weight_map": {tensor: shard file}}). The index is authoritative:
/// every tensor it lists must be in its shard, and tensors a shard holds beyond those are ignored.
std::map<std::string, torch::Tensor> readCheckpointTensors(const std::string &dir);

} // namespace align::rt
