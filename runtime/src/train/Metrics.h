//===- Metrics.h - Training metrics as JSON lines and CSV ------*- C++ -*-===//
//
// Every logged step and evaluation becomes one line of OUT/metrics.jsonl (flushed as it is written, so a
// crashed run keeps what it logged) and, at the end of each stage, OUT/metrics.csv — one row per record,
// one column per metric — which spreadsheets, pandas and plotting tools open directly. A resumed run first
// drops the records of the resumed stage beyond the checkpoint's step, so the files never hold a step twice.
//
//===----------------------------------------------------------------------===//
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace align::rt {

struct MetricRecord {
  std::string stage;
  std::string split = "train"; ///< "train" for step metrics, the data split's name for evaluations
  int64_t step = 0;
  std::map<std::string, double> values;
};

class MetricsLog {
public:
  /// Opens OUT/metrics.jsonl, reading back the records already there.
  explicit MetricsLog(std::string outDir);
  /// Forgets the records of `stage` with a step above `step` and rewrites the file.
  void dropAfter(const std::string &stage, int64_t step);
  void record(const MetricRecord &record);
  const std::vector<MetricRecord> &records() const { return records_; }
  /// OUT/metrics.csv (atomically) and OUT/curves.svg.
  void writeSummaries() const;
  std::string jsonlPath() const;
  std::string csvPath() const;
  std::string plotPath() const;

private:
  void rewrite() const;
  std::string outDir_;
  std::vector<MetricRecord> records_;
};

} // namespace align::rt
