//===- Manifest.cpp - Checksummed contents of a state or checkpoint directory -===//

#include "support/Manifest.h"

#include "align/rt/Error.h"
#include "support/AtomicWrite.h"
#include "support/Files.h"

#include <nlohmann/json.hpp>
#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace align::rt {

namespace {

/// Every regular file below `dir`, relative and sorted; temporaries of an atomic write in progress
/// (".tmp-<pid>") are not part of the directory's contents.
void listFiles(const std::string &dir, const std::string &prefix, std::vector<std::string> &out) {
  DIR *handle = ::opendir(joinPath(dir, prefix).c_str());
  if (!handle)
    throw Error(joinPath(dir, prefix) + ": cannot list: " + std::strerror(errno));
  while (const dirent *entry = ::readdir(handle)) {
    const std::string name = entry->d_name;
    if (name == "." || name == ".." || name.find(".tmp-") != std::string::npos)
      continue;
    const std::string relative = prefix.empty() ? name : prefix + "/" + name;
    struct stat info;
    if (::lstat(joinPath(dir, relative).c_str(), &info) != 0)
      continue;
    if (S_ISDIR(info.st_mode))
      listFiles(dir, relative, out);
    else if (S_ISREG(info.st_mode) && relative != kManifestFile)
      out.push_back(relative);
  }
  ::closedir(handle);
  if (prefix.empty())
    std::sort(out.begin(), out.end());
}

std::string hex(uint32_t value) {
  char text[9];
  std::snprintf(text, sizeof text, "%08x", value);
  return text;
}

} // namespace

ManifestEntry checksumFile(const std::string &dir, const std::string &relative) {
  const std::string path = joinPath(dir, relative);
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    throw Error(path + ": cannot open: " + std::strerror(errno));
  ManifestEntry entry;
  entry.path = relative;
  uLong crc = ::crc32(0L, Z_NULL, 0);
  std::vector<unsigned char> buffer(1 << 20);
  for (;;) {
    ssize_t n = ::read(fd, buffer.data(), buffer.size());
    if (n == 0)
      break;
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0) {
      int err = errno;
      ::close(fd);
      throw Error(path + ": read failed: " + std::strerror(err));
    }
    crc = ::crc32(crc, buffer.data(), static_cast<uInt>(n));
    entry.size += static_cast<uint64_t>(n);
  }
  ::close(fd);
  entry.crc32 = static_cast<uint32_t>(crc);
  return entry;
}

void writeManifest(const std::string &dir) {
  std::vector<std::string> files;
  listFiles(dir, "", files);
  nlohmann::json list = nlohmann::json::array();
  for (const std::string &file : files) {
    const ManifestEntry entry = checksumFile(dir, file);
    list.push_back({{"path", entry.path}, {"size", entry.size}, {"crc32", hex(entry.crc32)}});
  }
  const nlohmann::json manifest = {{"format", "alignc-manifest-1"}, {"files", list}};
  writeFileAtomically(joinPath(dir, kManifestFile), manifest.dump(1) + "\n");
}

std::vector<ManifestEntry> parseManifest(const std::string &text, const std::string &path) {
  const nlohmann::json manifest = nlohmann::json::parse(text, nullptr, false);
  if (manifest.is_discarded() || !manifest.is_object() || !manifest.contains("files") ||
      !manifest["files"].is_array())
    throw Error(path + ": damaged (not a manifest)");
  std::vector<ManifestEntry> entries;
  for (const nlohmann::json &item : manifest["files"]) {
    if (!item.is_object() || !item.contains("path") || !item["path"].is_string() || !item.contains("size") ||
        !item["size"].is_number_unsigned() || !item.contains("crc32") || !item["crc32"].is_string())
      throw Error(path + ": damaged (an entry without path, size and crc32)");
    ManifestEntry entry;
    entry.path = item["path"].get<std::string>();
    // Relative, inside the directory: no empty, absolute or parent components.
    bool inside = !entry.path.empty() && entry.path[0] != '/';
    for (size_t start = 0; inside && start <= entry.path.size();) {
      size_t slash = entry.path.find('/', start);
      if (slash == std::string::npos)
        slash = entry.path.size();
      const std::string part = entry.path.substr(start, slash - start);
      inside = !part.empty() && part != "." && part != "..";
      start = slash + 1;
    }
    if (!inside)
      throw Error(path + ": damaged (entry '" + entry.path + "' is not a path inside the directory)");
    entry.size = item["size"].get<uint64_t>();
    const std::string crc = item["crc32"].get<std::string>();
    if (crc.size() != 8 || crc.find_first_not_of("0123456789abcdef") != std::string::npos)
      throw Error(path + ": damaged (entry '" + entry.path + "': crc32 '" + crc + "' is not 8 hexadecimal digits)");
    entry.crc32 = static_cast<uint32_t>(std::stoul(crc, nullptr, 16));
    entries.push_back(std::move(entry));
  }
  return entries;
}

bool hasManifest(const std::string &dir) { return pathExists(joinPath(dir, kManifestFile)); }

std::string checkManifest(const std::string &dir) {
  const std::string manifestPath = joinPath(dir, kManifestFile);
  std::ifstream in(manifestPath, std::ios::binary);
  if (!in)
    return manifestPath + ": missing (the directory was not completely written)";
  std::ostringstream contents;
  contents << in.rdbuf();
  const std::string text = contents.str();
  std::vector<ManifestEntry> entries;
  try {
    entries = parseManifest(text, manifestPath);
  } catch (const Error &e) {
    return e.what();
  }
  for (const ManifestEntry &listed : entries) {
    const std::string path = joinPath(dir, listed.path);
    struct stat info;
    if (::stat(path.c_str(), &info) != 0 || !S_ISREG(info.st_mode))
      return path + ": missing (listed in " + kManifestFile + ")";
    if (static_cast<uint64_t>(info.st_size) != listed.size)
      return path + ": " + std::to_string(info.st_size) + " bytes, but " + kManifestFile + " says " +
             std::to_string(listed.size) + " (torn or replaced)";
    ManifestEntry entry;
    try {
      entry = checksumFile(dir, listed.path);
    } catch (const Error &e) {
      return e.what();
    }
    if (entry.crc32 != listed.crc32)
      return path + ": checksum " + hex(entry.crc32) + " differs from " + hex(listed.crc32) + " in " +
             kManifestFile + " (the bytes are damaged)";
  }
  return "";
}

} // namespace align::rt
