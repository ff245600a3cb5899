//===- EvalReport.cpp - The end-of-run table and charts of eval.json ------===//

#include "report/EvalReport.h"

#include "support/Files.h"
#include "report/BarChart.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <set>

namespace align::rt {

namespace {

std::string formatValue(double v) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.4g", v);
  return buffer;
}

/// The stages that have results, in run order.
std::vector<std::string> columns(const Evaluation &evaluation, const std::vector<std::string> &stageOrder) {
  std::vector<std::string> out;
  for (const std::string &s : stageOrder)
    if (evaluation.count(s))
      out.push_back(s);
  for (const auto &[s, metrics] : evaluation)
    if (std::find(out.begin(), out.end(), s) == out.end())
      out.push_back(s);
  return out;
}

} // namespace

std::string formatEvalTable(const Evaluation &evaluation, const std::vector<std::string> &stageOrder) {
  const std::vector<std::string> stages = columns(evaluation, stageOrder);
  // Rows in metric order, then group order, over every stage.
  std::map<std::string, std::set<std::string>> rows;
  for (const auto &[stage, metrics] : evaluation)
    for (const auto &[key, groups] : metrics)
      for (const auto &[group, value] : groups)
        rows[key].insert(group);
  size_t labelWidth = 6;
  for (const auto &[key, groups] : rows)
    for (const std::string &group : groups)
      labelWidth = std::max(labelWidth, key.size() + (group.empty() ? 0 : group.size() + 2));
  std::vector<size_t> widths;
  for (const std::string &s : stages)
    widths.push_back(std::max<size_t>(s.size(), 8));
  auto pad = [](const std::string &text, size_t width) { return text + std::string(width > text.size() ? width - text.size() : 0, ' '); };
  std::string out = pad("metric", labelWidth);
  for (size_t i = 0; i < stages.size(); ++i)
    out += "  " + pad(stages[i], widths[i]);
  out += "\n";
  for (const auto &[key, groups] : rows)
    for (const std::string &group : groups) {
      out += pad(group.empty() ? key : key + "[" + group + "]", labelWidth);
      for (size_t i = 0; i < stages.size(); ++i) {
        std::string cell = "-";
        auto stage = evaluation.find(stages[i]);
        auto metric = stage->second.find(key);
        if (metric != stage->second.end()) {
          auto value = metric->second.find(group);
          if (value != metric->second.end())
            cell = formatValue(value->second);
        }
        out += "  " + pad(cell, widths[i]);
      }
      // No trailing blanks.
      while (!out.empty() && out.back() == ' ')
        out.pop_back();
      out += "\n";
    }
  return out;
}

std::vector<std::string> writeEvalCharts(const std::string &outDir, const Evaluation &evaluation,
                                         const std::vector<std::string> &stageOrder) {
  const std::vector<std::string> stages = columns(evaluation, stageOrder);
  std::map<std::string, std::set<std::string>> broken;
  for (const auto &[stage, metrics] : evaluation)
    for (const auto &[key, groups] : metrics)
      if (key.find("_by_") != std::string::npos)
        for (const auto &[group, value] : groups)
          broken[key].insert(group);
  std::vector<std::string> written;
  for (const auto &[key, groupSet] : broken) {
    const std::vector<std::string> categories(groupSet.begin(), groupSet.end());
    BarSeries series;
    for (const std::string &stage : stages) {
      std::vector<double> values(categories.size(), NAN);
      const auto &metrics = evaluation.at(stage);
      auto metric = metrics.find(key);
      if (metric == metrics.end())
        continue;
      for (size_t i = 0; i < categories.size(); ++i) {
        auto value = metric->second.find(categories[i]);
        if (value != metric->second.end())
          values[i] = value->second;
      }
      series.emplace_back(stage, values);
    }
    const size_t by = key.find("_by_");
    const std::string path = joinPath(outDir, key + ".svg");
    writeBarChart(path, key.substr(0, by) + " by " + key.substr(by + 4) + ", per stage", key.substr(0, by), categories,
                  series);
    written.push_back(path);
  }
  return written;
}

} // namespace align::rt
