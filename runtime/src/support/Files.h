//===- Files.h - Directory and path helpers without std::filesystem -*- C++ -*-===//
//
// The torch wheel's libtorch.so carries its own copies of std::filesystem symbols, and in a program linked
// against it they win over libstdc++'s — std::filesystem::remove_all then jumps to a null address. Code that
// links torch (the runtime, its tools and tests, generated trainers) uses these POSIX-based helpers instead.
//
//===----------------------------------------------------------------------===//
#pragma once

#include <string>

namespace align::rt {

bool pathExists(const std::string &path);
bool isDirectory(const std::string &path);
/// `a/b`, without doubling a separator.
std::string joinPath(const std::string &dir, const std::string &name);
/// mkdir -p; throws align::rt::Error naming the directory that could not be made.
void makeDirectories(const std::string &dir);
/// rm -rf (without following links); a missing path is not an error.
void removeTree(const std::string &path);
/// `path` made absolute against the working directory, lexically (no links resolved); "" stays "".
std::string absolutePath(const std::string &path);
/// Copies the bytes of file `from` to `to` (created or truncated); throws naming the file that failed.
void copyFile(const std::string &from, const std::string &to);
/// fsync a file or directory (so its contents, or the names in it, survive a crash); throws on failure.
void syncPath(const std::string &path);
/// Puts the complete directory `staged` in the place of `target`, whose old version (if any) is removed only
/// after the new one is in place: readers see the old directory, the new one, or — for an instant between two
/// renames — `target + ".old"`, which findDirectoryVersion() also accepts. Both names are fsynced.
void replaceDirectory(const std::string &staged, const std::string &target);
/// `target` if it is a directory, else a `target.old` left by an interrupted replaceDirectory, else "".
std::string findDirectoryVersion(const std::string &target);
/// replaceDirectory that keeps the version it replaces as `target.prev` (a still older `.prev` is removed), so
/// a reader that finds `target` damaged can go back one version. A crash between the renames leaves only
/// `target.prev`, which readers also accept.
void rotateDirectory(const std::string &staged, const std::string &target);
/// Removes what interrupted writes leave in `dir`: entries named `*.tmp-<digits>` (AtomicWrite's files,
/// staged state directories) and, when `recursive`, `*.tmp` directories (staged checkpoints) and all of it below. Only
/// for directories one process owns (the trainer's state/ and checkpoints/, under its lock: an --out may also
/// hold a user's own files, so its top level is cleaned without recursing). Returns how many were removed.
int removeStaleTemporaries(const std::string &dir, bool recursive);
/// An exclusive advisory lock on `dir`/.lock, held until destruction (or the process's end: the kernel releases
/// it even after SIGKILL). Taking it throws naming the directory when another holder has it — two trainers
/// writing one --out would overwrite each other's state.
class DirectoryLock {
public:
  explicit DirectoryLock(const std::string &dir);
  ~DirectoryLock();
  DirectoryLock(const DirectoryLock &) = delete;
  DirectoryLock &operator=(const DirectoryLock &) = delete;

private:
  int fd_ = -1;
};

} // namespace align::rt
