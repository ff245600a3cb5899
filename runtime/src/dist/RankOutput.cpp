//===- RankOutput.cpp - Where the processes of a launch write -------------===//

#include "dist/RankOutput.h"

#include "align/rt/Error.h"
#include "support/Files.h"

#include <fcntl.h>
#include <unistd.h>

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

} // namespace

RankOutput::RankOutput(const World &world, std::string &outDir, bool resume) {
  if (world.isWriter())
    return;
  const char *tmp = std::getenv("TMPDIR");
  std::string pattern = std::string(tmp && *tmp ? tmp : "/tmp") + "/align-rank" + std::to_string(world.rank()) + "-XXXXXX";
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
