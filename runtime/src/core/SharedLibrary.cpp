//===- SharedLibrary.cpp - The runtime as one shared library --------------===//
//
// libalign_rt.so is the whole static runtime (linked with --whole-archive) behind the public headers; this
// file only gives the target a source of its own, as CMake requires.
//
//===----------------------------------------------------------------------===//

#include "align/rt/Inference.h"
#include "align/rt/Trainer.h"
