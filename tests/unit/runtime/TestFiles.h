//===- TestFiles.h - Scratch directories for runtime tests -----*- C++ -*-===//
#pragma once

#include "support/Files.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <stdexcept>
#include <string>
#include <sys/stat.h>

namespace align::rt::testing {

/// The directory `prefix`_`name` (made on first use) inside one mkdtemp directory per process, which is removed when the
/// process exits.
inline std::string scratchDir(const std::string &prefix, const std::string &name) {
  static const std::string *base = [] { // never destroyed, so the exit handler can still read it
    auto *pattern = new std::string(::testing::TempDir() + "align_runtime_tests_XXXXXX");
    if (!::mkdtemp(pattern->data()))
      throw std::runtime_error("cannot create a directory like " + *pattern);
    std::atexit([] { removeTree(*base); });
    return pattern;
  }();
  std::string dir = *base + "/" + prefix + "_" + name;
  ::mkdir(dir.c_str(), 0700); // the same name again is the same directory

  return dir;
}

} // namespace align::rt::testing
