//===- Files.cpp - Directory and path helpers without std::filesystem -----===//

#include "support/Files.h"

#include "align/rt/Error.h"

#include <cerrno>
#include <cstring>
#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <ftw.h>
#include <sys/stat.h>
#include <unistd.h>

#include <string>
#include <utility>
#include <vector>

namespace align::rt {

bool pathExists(const std::string &path) {
  struct stat info;
  return ::stat(path.c_str(), &info) == 0;
}

bool isDirectory(const std::string &path) {
  struct stat info;
  return ::stat(path.c_str(), &info) == 0 && S_ISDIR(info.st_mode);
}

std::string joinPath(const std::string &dir, const std::string &name) {
  if (dir.empty())
    return name;
  return dir.back() == '/' ? dir + name : dir + "/" + name;
}

void makeDirectories(const std::string &dir) {
  if (dir.empty() || isDirectory(dir))
    return;
  size_t slash = dir.find_last_of('/', dir.size() > 1 ? dir.size() - 2 : 0);
  if (slash != std::string::npos && slash > 0)
    makeDirectories(dir.substr(0, slash));
  if (::mkdir(dir.c_str(), 0777) != 0 && errno != EEXIST)
    throw Error(dir + ": cannot create directory: " + std::strerror(errno));
  if (!isDirectory(dir))
    throw Error(dir + ": exists and is not a directory");
}

static int removeEntry(const char *path, const struct stat *, int, struct FTW *) { return ::remove(path); }

void removeTree(const std::string &path) {
  if (pathExists(path))
    ::nftw(path.c_str(), removeEntry, 16, FTW_DEPTH | FTW_PHYS);
}

std::string absolutePath(const std::string &path) {
  if (path.empty() || path[0] == '/')
    return path;
  char cwd[4096];
  if (!::getcwd(cwd, sizeof cwd))
    throw Error(std::string("cannot read the working directory: ") + std::strerror(errno));
  std::string rest = path;
  while (rest.rfind("./", 0) == 0)
    rest = rest.substr(2);
  return rest.empty() || rest == "." ? std::string(cwd) : joinPath(cwd, rest);
}

void copyFile(const std::string &from, const std::string &to) {
  int in = ::open(from.c_str(), O_RDONLY);
  if (in < 0)
    throw Error(from + ": cannot open: " + std::strerror(errno));
  int out = ::open(to.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (out < 0) {
    int err = errno;
    ::close(in);
    throw Error(to + ": cannot create: " + std::strerror(err));
  }
  char buffer[1 << 16];
  for (;;) {
    ssize_t n = ::read(in, buffer, sizeof buffer);
    if (n == 0)
      break;
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0) {
      int err = errno;
      ::close(in), ::close(out);
      throw Error(from + ": read failed: " + std::strerror(err));
    }
    for (ssize_t done = 0; done < n;) {
      ssize_t w = ::write(out, buffer + done, static_cast<size_t>(n - done));
      if (w < 0 && errno == EINTR)
        continue;
      if (w < 0) {
        int err = errno;
        ::close(in), ::close(out);
        throw Error(to + ": write failed: " + std::strerror(err));
      }
      done += w;
    }
  }
  ::close(in);
  if (::close(out) != 0)
    throw Error(to + ": write failed: " + std::strerror(errno));
}

void syncPath(const std::string &path) {
  int fd = ::open(path.c_str(), O_RDONLY);
  if (fd < 0)
    throw Error(path + ": cannot open to fsync: " + std::strerror(errno));
  int error = ::fsync(fd) == 0 || errno == EINVAL ? 0 : errno; // EINVAL: no fsync on this file system's dirs
  ::close(fd);
  if (error)
    throw Error(path + ": cannot fsync: " + std::strerror(error));
}

static std::string parentOf(const std::string &path) {
  size_t slash = path.find_last_of('/');
  return slash == std::string::npos ? "." : slash == 0 ? "/" : path.substr(0, slash);
}

void replaceDirectory(const std::string &staged, const std::string &target) {
  const std::string old = target + ".old";
  removeTree(old);
  if (isDirectory(target) && ::rename(target.c_str(), old.c_str()) != 0)
    throw Error(target + ": cannot move the previous version aside: " + std::strerror(errno));
  if (::rename(staged.c_str(), target.c_str()) != 0)
    throw Error(target + ": cannot move the new version in place: " + std::strerror(errno));
  syncPath(parentOf(target));
  removeTree(old);
}

std::string findDirectoryVersion(const std::string &target) {
  if (isDirectory(target))
    return target;
  if (isDirectory(target + ".old"))
    return target + ".old";
  return "";
}

void rotateDirectory(const std::string &staged, const std::string &target) {
  const std::string previous = target + ".prev";
  removeTree(previous);
  if (isDirectory(target) && ::rename(target.c_str(), previous.c_str()) != 0)
    throw Error(target + ": cannot keep the previous version as " + previous + ": " + std::strerror(errno));
  if (::rename(staged.c_str(), target.c_str()) != 0)
    throw Error(target + ": cannot move the new version in place: " + std::strerror(errno));
  syncPath(parentOf(target));
}

static bool isStaleTemporary(const std::string &name, bool directory) {
  const size_t mark = name.rfind(".tmp");
  if (mark == std::string::npos || mark == 0)
    return false;
  const std::string rest = name.substr(mark + 4);
  if (rest.empty())
    return directory;
  if (rest[0] != '-' || rest.size() == 1)
    return false;
  return rest.find_first_not_of("0123456789", 1) == std::string::npos;
}

int removeStaleTemporaries(const std::string &dir, bool recursive) {
  DIR *handle = ::opendir(dir.c_str());
  if (!handle)
    return 0;
  std::vector<std::pair<std::string, bool>> entries;
  while (const dirent *entry = ::readdir(handle)) {
    const std::string name = entry->d_name;
    if (name == "." || name == "..")
      continue;
    struct stat info;
    if (::lstat(joinPath(dir, name).c_str(), &info) == 0)
      entries.emplace_back(name, S_ISDIR(info.st_mode));
  }
  ::closedir(handle);
  int removed = 0;
  for (const auto &[name, directory] : entries) {
    const std::string path = joinPath(dir, name);
    // A staged checkpoint (`<stage>.tmp`) lives in checkpoints/; elsewhere a `.tmp` directory may be a user's.
    if (isStaleTemporary(name, directory && recursive)) {
      removeTree(path);
      ++removed;
    } else if (directory && recursive) {
      removed += removeStaleTemporaries(path, true);
    }
  }
  return removed;
}

DirectoryLock::DirectoryLock(const std::string &dir) {
  const std::string path = joinPath(dir, ".lock");
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0)
    throw Error(path + ": cannot create the lock file: " + std::strerror(errno));
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    const int err = errno;
    ::close(fd);
    if (err == EWOULDBLOCK)
      throw Error(dir + ": another trainer is writing to this directory (it holds " + path +
                  "); wait for it to end or choose another --out");
    throw Error(path + ": cannot lock: " + std::strerror(err));
  }
  fd_ = fd;
}

DirectoryLock::~DirectoryLock() {
  if (fd_ >= 0)
    ::close(fd_);
}

} // namespace align::rt
