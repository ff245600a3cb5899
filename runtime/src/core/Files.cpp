//===- Files.cpp - Directory and path helpers without std::filesystem -----===//

#include "core/Files.h"

#include "align/rt/Error.h"

#include <cerrno>
#include <cstring>
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

} // namespace align::rt
