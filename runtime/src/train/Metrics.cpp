//===- Metrics.cpp - Training metrics as JSON lines and CSV ---------------===//

#include "train/Metrics.h"

#include "align/rt/Error.h"
#include "support/AtomicWrite.h"
#include "support/Files.h"
#include "report/CurvePlot.h"

#include <nlohmann/json.hpp>

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <set>
#include <sstream>

namespace align::rt {

namespace {

nlohmann::json toJson(const MetricRecord &r) {
  nlohmann::json line = {{"stage", r.stage}, {"split", r.split}, {"step", r.step}};
  for (const auto &[key, value] : r.values)
    line[key] = std::isfinite(value) ? nlohmann::json(value) : nlohmann::json(nullptr);
  return line;
}

std::string csvNumber(double value) {
  if (!std::isfinite(value))
    return "";
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.9g", value);
  return buffer;
}

} // namespace

MetricsLog::MetricsLog(std::string outDir) : outDir_(std::move(outDir)) {
  makeDirectories(outDir_);
  std::ifstream in(jsonlPath(), std::ios::binary);
  std::ostringstream whole;
  whole << in.rdbuf();
  const std::string contents = whole.str();
  bool tornTail = false;
  int64_t lineNo = 0;
  for (size_t begin = 0; begin < contents.size();) {
    size_t end = contents.find('\n', begin);
    const bool complete = end != std::string::npos;
    const std::string text = contents.substr(begin, complete ? end - begin : std::string::npos);
    begin = complete ? end + 1 : contents.size();
    ++lineNo;
    if (text.empty())
      continue;
    nlohmann::json line = nlohmann::json::parse(text, nullptr, false);
    if (!complete && (line.is_discarded() || !line.is_object())) {
      // The record being appended when the process died (or the disk filled): it is after the last saved
      // state, so the resumed run logs it again.
      tornTail = true;
      std::fprintf(stderr, "warning: %s:%lld: dropping an incomplete last line (an interrupted write)\n",
                   jsonlPath().c_str(), static_cast<long long>(lineNo));
      break;
    }
    if (line.is_discarded() || !line.is_object() || !line.contains("stage") || !line["stage"].is_string() ||
        !line.contains("step") || !line["step"].is_number_integer())
      throw Error(jsonlPath() + ":" + std::to_string(lineNo) + ": not a metrics record (expected stage and step)");
    MetricRecord r;
    r.stage = line["stage"].get<std::string>();
    r.split = line.contains("split") && line["split"].is_string() ? line["split"].get<std::string>() : "train";
    r.step = line["step"].get<int64_t>();
    for (auto it = line.begin(); it != line.end(); ++it)
      if (it.key() != "stage" && it.key() != "split" && it.key() != "step")
        r.values[it.key()] = it.value().is_number() ? it.value().get<double>() : NAN;
    records_.push_back(std::move(r));
  }
  if (tornTail)
    rewrite();
}

std::string MetricsLog::jsonlPath() const { return joinPath(outDir_, "metrics.jsonl"); }
std::string MetricsLog::csvPath() const { return joinPath(outDir_, "metrics.csv"); }
std::string MetricsLog::plotPath() const { return joinPath(outDir_, "curves.svg"); }

void MetricsLog::rewrite() const {
  std::string text;
  for (const MetricRecord &r : records_)
    text += toJson(r).dump() + "\n";
  writeFileAtomically(jsonlPath(), text);
}

void MetricsLog::dropAfter(const std::string &stage, int64_t step) {
  const size_t before = records_.size();
  std::vector<MetricRecord> kept;
  for (MetricRecord &r : records_)
    if (!(r.stage == stage && r.step > step))
      kept.push_back(std::move(r));
  records_ = std::move(kept);
  if (records_.size() != before)
    rewrite();
}

void MetricsLog::record(const MetricRecord &record) {
  records_.push_back(record);
  std::FILE *file = std::fopen(jsonlPath().c_str(), "a");
  if (!file)
    throw Error(jsonlPath() + ": cannot append: " + std::strerror(errno));
  const std::string line = toJson(record).dump() + "\n";
  const bool ok = std::fwrite(line.data(), 1, line.size(), file) == line.size();
  if (std::fclose(file) != 0 || !ok)
    throw Error(jsonlPath() + ": write failed: " + std::strerror(errno));
}

void MetricsLog::writeSummaries() const {
  std::set<std::string> columns;
  for (const MetricRecord &r : records_)
    for (const auto &item : r.values)
      columns.insert(item.first);
  std::ostringstream csv;
  csv << "stage,split,step";
  for (const std::string &c : columns)
    csv << ',' << c;
  csv << '\n';
  for (const MetricRecord &r : records_) {
    csv << r.stage << ',' << r.split << ',' << r.step;
    for (const std::string &c : columns) {
      auto it = r.values.find(c);
      csv << ',' << (it == r.values.end() ? "" : csvNumber(it->second));
    }
    csv << '\n';
  }
  writeFileAtomically(csvPath(), csv.str());
  writeFileAtomically(plotPath(), renderCurvesSvg(records_));
}

} // namespace align::rt
