//===- Progress.h - The live progress line of a training stage -*- C++ -*-===//
//
// On a terminal: one line redrawn in place (stage, bar, step/total, loss, tokens/s, elapsed and ETA). When
// stderr is not a terminal (CI logs, files), a plain line every `logEvery` steps instead of carriage
// returns, so logs stay readable.
//
//===----------------------------------------------------------------------===//
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace align::rt {

class ProgressLine {
public:
  /// `firstStep` is where a resumed stage starts; the ETA counts only steps run in this process.
  ProgressLine(std::string stage, int64_t totalSteps, int64_t firstStep, int64_t logEvery, bool interactive);
  /// After optimizer step `step` (1-based count of steps done).
  void update(int64_t step, double loss, double tokensPerSecond, double lr);
  /// A line of its own (evaluation results, checkpoints), without breaking the bar.
  void note(const std::string &text);
  void finish();

  /// True when stderr is a terminal and NO_COLOR/ALIGN_PLAIN_PROGRESS do not ask for plain lines.
  static bool stderrIsInteractive();

private:
  void clearLine();
  std::string stage_;
  int64_t total_, first_, logEvery_;
  bool interactive_, drawn_ = false;
  std::chrono::steady_clock::time_point start_;
};

/// "1h02m", "3m05s", "12s".
std::string formatDuration(double seconds);

} // namespace align::rt
