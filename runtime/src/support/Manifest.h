//===- Manifest.h - Checksummed contents of a state or checkpoint directory -*- C++ -*-===//
//
// A directory the runtime writes as a unit (a training state, a stage's checkpoint) ends with manifest.json:
// every file below it with its size and CRC-32. Renames make a directory swap atomic, but not the bytes in it:
// a disk that lies about fsync, a copy cut short, or a bit flip leaves a directory that parses and holds the
// wrong numbers. checkManifest finds that before anything is loaded, so a resume can refuse the torn state
// and fall back to the previous one instead of continuing from garbage.
//
// CRC-32 (zlib's, the checksum of zip and PNG) rather than a cryptographic hash: it detects torn and flipped
// bytes, which is the question here, and zlib is on every machine the runtime builds on.
//
//===----------------------------------------------------------------------===//
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace align::rt {

inline constexpr const char *kManifestFile = "manifest.json";

struct ManifestEntry {
  std::string path; ///< relative to the directory, '/'-separated
  uint64_t size = 0;
  uint32_t crc32 = 0;
};

/// The CRC-32 and size of a file's bytes; throws align::rt::Error naming the file when it cannot be read.
ManifestEntry checksumFile(const std::string &dir, const std::string &relative);

/// Checksums every regular file below `dir` (except a manifest.json already there) and writes
/// `dir`/manifest.json atomically and fsynced. Call it last, after every other file is complete.
void writeManifest(const std::string &dir);

/// What is wrong with `dir` against its manifest.json ("" when every listed file is present with its size
/// and checksum): the first problem found, naming the file. A directory without a manifest is reported as
/// such; callers that also accept directories written by other tools ask hasManifest() first.
std::string checkManifest(const std::string &dir);

bool hasManifest(const std::string &dir);

/// The entries of manifest.json's text; an Error naming `path` when it is not a manifest, or an entry is not
/// a relative path inside the directory with a size and an 8-digit hexadecimal CRC-32.
std::vector<ManifestEntry> parseManifest(const std::string &text, const std::string &path);

} // namespace align::rt
