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

} // namespace align::rt
