//===- Progress.cpp - The live progress line of a training stage ----------===//

#include "train/Progress.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <unistd.h>

namespace align::rt {

std::string formatDuration(double seconds) {
  if (!std::isfinite(seconds) || seconds < 0)
    return "?";
  const int64_t s = static_cast<int64_t>(std::llround(seconds));
  char buffer[32];
  if (s >= 3600)
    std::snprintf(buffer, sizeof buffer, "%lldh%02lldm", static_cast<long long>(s / 3600),
                  static_cast<long long>((s % 3600) / 60));
  else if (s >= 60)
    std::snprintf(buffer, sizeof buffer, "%lldm%02llds", static_cast<long long>(s / 60), static_cast<long long>(s % 60));
  else
    std::snprintf(buffer, sizeof buffer, "%llds", static_cast<long long>(s));
  return buffer;
}

bool ProgressLine::stderrIsInteractive() {
  if (std::getenv("ALIGN_PLAIN_PROGRESS"))
    return false;
  const char *term = std::getenv("TERM");
  return isatty(STDERR_FILENO) && !(term && std::string(term) == "dumb");
}

ProgressLine::ProgressLine(std::string stage, int64_t totalSteps, int64_t firstStep, int64_t logEvery,
                           bool interactive)
    : stage_(std::move(stage)), total_(totalSteps), first_(firstStep), logEvery_(logEvery < 1 ? 1 : logEvery),
      interactive_(interactive), start_(std::chrono::steady_clock::now()) {}

void ProgressLine::clearLine() {
  if (interactive_ && drawn_) {
    std::fprintf(stderr, "\r\033[2K");
    drawn_ = false;
  }
}

void ProgressLine::update(int64_t step, double loss, double tokensPerSecond, double lr) {
  const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  const int64_t done = step - first_;
  const double eta = done > 0 ? elapsed / static_cast<double>(done) * static_cast<double>(total_ - step) : NAN;
  char numbers[160];
  std::snprintf(numbers, sizeof numbers, "%lld/%lld loss %.4f  %.0f tok/s  lr %.2e  %s<%s",
                static_cast<long long>(step), static_cast<long long>(total_), loss, tokensPerSecond, lr,
                formatDuration(elapsed).c_str(), formatDuration(eta).c_str());
  if (interactive_) {
    const int width = 24;
    const int filled = total_ > 0 ? static_cast<int>(width * step / total_) : width;
    std::string bar(filled, '#');
    bar += std::string(width - filled, '.');
    std::fprintf(stderr, "\r\033[2K[%s] |%s| %s", stage_.c_str(), bar.c_str(), numbers);
    drawn_ = true;
  } else if (step % logEvery_ == 0 || step == total_ || step == first_ + 1) {
    std::fprintf(stderr, "[%s] step %s\n", stage_.c_str(), numbers);
  }
  std::fflush(stderr);
}

void ProgressLine::note(const std::string &text) {
  clearLine();
  std::fprintf(stderr, "[%s] %s\n", stage_.c_str(), text.c_str());
  std::fflush(stderr);
}

void ProgressLine::finish() {
  if (interactive_ && drawn_) {
    std::fprintf(stderr, "\n");
    drawn_ = false;
  }
  std::fflush(stderr);
}

} // namespace align::rt
