//===- BuildCommand.h - alignc build / alignc run ---------------*- C++ -*-===//
//
//   alignc build FILE -o TRAINER [--no-fuse] [--no-share-prefix] [-c] [--runtime-dir DIR] [-v]
//       compiles the recipe to C++ (TrainerSource.h), writes it to a temporary file and runs the host C++
//       compiler on it: `c++ -std=c++17 -O1 -I<source>/runtime/include TMP.cpp -o TRAINER` linking
//       <build>/lib/libalign_rt.so with an rpath to it (paths from BuildPaths.h, configured by CMake).
//       `-c` compiles to an object file only (no runtime library needed). When the C++ compiler fails its
//       errors are shown and the generated file is kept; its path is printed. $ALIGN_CXX replaces the
//       configured compiler.
//   alignc run FILE [--no-fuse] [--no-share-prefix] [-- TRAINER ARGS...]
//       builds into a cache directory ($ALIGN_CACHE_DIR, else $XDG_CACHE_HOME/alignc, else
//       ~/.cache/alignc), keyed by a hash of the generated C++, the compile command and the runtime library,
//       and execs the trainer with the arguments after `--`.
//
//===----------------------------------------------------------------------===//
#pragma once

namespace align::driver {

/// True when the command line named `build` or `run` (after cl::ParseCommandLineOptions).
bool buildOrRunRequested();

/// Runs the requested subcommand; returns the exit code (`run` only returns when it could not exec).
int runBuildOrRun(bool color);

} // namespace align::driver
