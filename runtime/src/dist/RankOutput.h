//===- RankOutput.h - Where the processes of a launch write --------*- C++ -*-===//
//
// Rank 0 alone writes --out (checkpoints, state, metrics, pictures, eval.json) and prints the progress line.
// Every other rank runs the same program — its steps are identical to rank 0's — against a private scratch
// directory under TMPDIR, removed when the trainer exits, so no rank ever reads a file another is writing
// and nodes need no shared file system. Its stdout and stderr go to /dev/null; its errors still reach the
// terminal through errorStream(). A --resume gives each rank > 0 a copy of OUT's state and checkpoints
// (so a resume across nodes needs OUT on each of them, as torchrun users arrange). A killed rank's scratch
// directory is removed by the next launch on the machine (its name carries the dead process id).
//
//===----------------------------------------------------------------------===//
#pragma once

#include "dist/World.h"

#include <cstdio>
#include <string>

namespace align::rt::dist {

class RankOutput {
public:
  /// For rank > 0: replaces `outDir` with the scratch directory (copying OUT/state and OUT/checkpoints into
  /// it when `resume`) and silences the process's output. Rank 0 and a single process: nothing changes.
  RankOutput(const World &world, std::string &outDir, bool resume);
  ~RankOutput();
  RankOutput(const RankOutput &) = delete;
  RankOutput &operator=(const RankOutput &) = delete;

  /// Where error messages go: the process's stderr as it was before silencing.
  static std::FILE *errorStream();

private:
  std::string scratch_;
};

} // namespace align::rt::dist
