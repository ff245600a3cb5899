//===- SharedLibrary.cpp - The runtime as one shared library --------------===//
//
// libalign_rt.so is the whole static runtime (linked with --whole-archive) behind the public header; this
// file only gives the target a source of its own, as CMake requires.
//
//===----------------------------------------------------------------------===//

#include "align/rt/api.h"
