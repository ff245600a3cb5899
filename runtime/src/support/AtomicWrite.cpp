//===- AtomicWrite.cpp - Files that are either old or complete -----------===//
//
// POSIX rather than std::filesystem: libtorch.so exports its own copies of std::filesystem's functions, which
// take precedence over libstdc++'s and crash (support/Files.h).
//
//===----------------------------------------------------------------------===//

#include "support/AtomicWrite.h"

#include "align/rt/Error.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <utility>

#include <fcntl.h>
#include <unistd.h>

namespace align::rt {

namespace {

/// The directory holding `path` ("." for a bare file name, "/" for a file in the root).
std::string parentDirectory(const std::string &path) {
  size_t slash = path.find_last_of('/');
  return slash == std::string::npos ? "." : slash == 0 ? "/" : path.substr(0, slash);
}

} // namespace

void writeFileAtomically(const std::string &path, const std::function<void(const ByteSink &)> &produce) {
  std::string tempPath = path + ".tmp-" + std::to_string(::getpid());
  int fd = ::open(tempPath.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
  if (fd < 0)
    throw Error(path + ": cannot create temporary file '" + tempPath + "': " + std::strerror(errno));
  auto fail = [&](const std::string &what) { return Error(path + ": " + what + ": " + std::strerror(errno)); };
  try {
    ByteSink sink = [&](const void *data, size_t size) {
      const auto *bytes = static_cast<const char *>(data);
      while (size > 0) {
        ssize_t written = ::write(fd, bytes, std::min<size_t>(size, 1 << 30));
        if (written < 0 && errno == EINTR)
          continue;
        if (written < 0)
          throw fail("cannot write '" + tempPath + "'");
        bytes += written, size -= written;
      }
    };
    produce(sink);
    if (::fsync(fd) != 0)
      throw fail("cannot fsync '" + tempPath + "'");
    int closed = ::close(std::exchange(fd, -1));
    if (closed != 0)
      throw fail("cannot close '" + tempPath + "'");
    if (::rename(tempPath.c_str(), path.c_str()) != 0)
      throw fail("cannot rename '" + tempPath + "' over it");
  } catch (...) {
    if (fd >= 0)
      ::close(fd);
    ::unlink(tempPath.c_str());
    throw;
  }
  // Without this the rename may be lost in a crash even though the data blocks were synced.
  int dirFd = ::open(parentDirectory(path).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dirFd < 0)
    throw fail("cannot open its directory to fsync the rename");
  // EINVAL: the file system does not support fsync on directories; there is nothing more to do.
  int syncError = ::fsync(dirFd) == 0 ? 0 : errno;
  ::close(dirFd);
  if (syncError != 0 && syncError != EINVAL)
    throw Error(path + ": cannot fsync its directory: " + std::strerror(syncError));
}

} // namespace align::rt
