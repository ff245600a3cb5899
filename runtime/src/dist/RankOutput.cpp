//===- RankOutput.cpp - Where the processes of a launch write -------------===//

#include "dist/RankOutput.h"

#include "align/rt/Error.h"
#include "support/Files.h"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <filesystem>

namespace align::rt::dist {

namespace {

std::FILE *savedErrors = nullptr;

void copyTreeIfPresent(const std::string &from, const std::string &to) {
  if (!isDirectory(from))
    return;
  std::error_code ec;
  std::filesystem::copy(from, to, std::filesystem::copy_options::recursive, ec);
  if (ec)
    throw Error("copying " + from + " to " + to + " for this rank's resume: " + ec.message());
}

/// Scratch directories of killed ranks (align-rank<R>-<PID>-XXXXXX whose process is gone): a SIGKILL leaves
/// them behind, the next launch on this machine removes them.
void removeDeadScratch(const std::string &tmp) {
  std::error_code ec;
  for (const auto &entry : std::filesystem::directory_iterator(tmp, ec)) {
    const std::string name = entry.path().filename().string();
    long rank = 0, pid = 0;
    int consumed = 0;
    if (std::sscanf(name.c_str(), "align-rank%ld-%ld-%n", &rank, &pid, &consumed) != 2 || consumed == 0 || pid <= 0)
      continue;
    if (::kill(static_cast<pid_t>(pid), 0) != 0 && errno == ESRCH) {
      try {
        removeTree(entry.path().string());
      } catch (...) {
        // Another user's directory, say: not ours to insist on.
      }
    }
  }
}

} // namespace

RankOutput::RankOutput(const World &world, std::string &outDir, bool resume) {
  if (world.isWriter())
    return;
  const char *tmpVariable = std::getenv("TMPDIR");
  const std::string tmp = tmpVariable && *tmpVariable ? tmpVariable : "/tmp";
  removeDeadScratch(tmp);
  std::string pattern =
      tmp + "/align-rank" + std::to_string(world.rank()) + "-" + std::to_string(::getpid()) + "-XXXXXX";
  if (!::mkdtemp(pattern.data()))
    throw Error("rank " + std::to_string(world.rank()) + ": cannot make a scratch directory " + pattern);
  scratch_ = pattern;
  if (resume) {
    copyTreeIfPresent(joinPath(outDir, "state"), joinPath(scratch_, "state"));
    copyTreeIfPresent(joinPath(outDir, "checkpoints"), joinPath(scratch_, "checkpoints"));
  }
  outDir = scratch_;
  std::fflush(stdout);
  std::fflush(stderr);
  const int errors = ::dup(2);
  savedErrors = errors >= 0 ? ::fdopen(errors, "w") : nullptr;
  const int null = ::open("/dev/null", O_WRONLY);
  if (null >= 0) {
    ::dup2(null, 1);
    ::dup2(null, 2);
    ::close(null);
  }
}

RankOutput::~RankOutput() {
  if (!scratch_.empty()) {
    try {
      removeTree(scratch_);
    } catch (...) {
      // A scratch directory left in TMPDIR is not worth failing a finished run for.
    }
  }
}

std::FILE *RankOutput::errorStream() { return savedErrors ? savedErrors : stderr; }

} // namespace align::rt::dist
