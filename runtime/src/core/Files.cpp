//===- Files.cpp - Directory and path helpers without std::filesystem -----===//

#include "core/Files.h"

#include "align/rt/Error.h"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <ftw.h>
#include <sys/stat.h>
#include <unistd.h>

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

} // namespace align::rt
