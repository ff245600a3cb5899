//===- AtomicWrite.h - Files that are either old or complete ---*- C++ -*-===//
//
// Every file the runtime writes (safetensors, config.json, metrics, training state, pictures, eval.json) goes
// through here, so a crash or a full disk never leaves a half-written file in the place of a good one.
//
//===----------------------------------------------------------------------===//
#pragma once

#include <cstddef>
#include <functional>
#include <string>

namespace align::rt {

/// Receives the bytes of a file being written; throws align::rt::Error when they cannot be written.
using ByteSink = std::function<void(const void *data, size_t size)>;

/// Writes a file so that readers see either the old contents or the complete new ones: the bytes go to
/// `path + ".tmp-<pid>"`, which is fsynced and renamed over `path`, and then the directory is fsynced so
/// the rename itself survives a crash. If `produce` or any step throws, the temporary file is removed and
/// the exception propagates (the steps here throw align::rt::Errors naming `path`); `path` is untouched.
void writeFileAtomically(const std::string &path, const std::function<void(const ByteSink &)> &produce);

/// writeFileAtomically for contents already in memory (small files such as config.json).
inline void writeFileAtomically(const std::string &path, const std::string &contents) {
  writeFileAtomically(path, [&](const ByteSink &write) { write(contents.data(), contents.size()); });
}

} // namespace align::rt
