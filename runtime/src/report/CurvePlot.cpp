//===- CurvePlot.cpp - Training curves as an SVG picture ------------------===//

#include "report/CurvePlot.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <set>
#include <sstream>

namespace align::rt {

namespace {

constexpr int kPanelWidth = 460, kPanelHeight = 220, kMargin = 48, kColumns = 2;
const char *const kColors[] = {"#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#17becf"};

std::string number(double v) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.4g", v);
  return buffer;
}

/// Panel order: the metrics a reader looks at first, then the rest alphabetically.
std::vector<std::string> panelOrder(const std::set<std::string> &present) {
  const std::vector<std::string> preferred = {"loss", "accuracy", "margin", "lr", "grad_norm"};
  std::vector<std::string> order;
  for (const std::string &p : preferred)
    if (present.count(p))
      order.push_back(p);
  for (const std::string &p : present)
    if (std::find(order.begin(), order.end(), p) == order.end() && p != "tokens_per_s" && p != "epoch" &&
        p != "elapsed_s")
      order.push_back(p);
  if (order.size() > 8)
    order.resize(8);
  return order;
}

} // namespace

std::string renderCurvesSvg(const std::vector<MetricRecord> &records) {
  // Stages end to end: each stage's steps are offset by the steps of the stages before it.
  std::vector<std::string> stages;
  std::map<std::string, int64_t> lastStep;
  for (const MetricRecord &r : records) {
    if (!lastStep.count(r.stage))
      stages.push_back(r.stage);
    lastStep[r.stage] = std::max(lastStep[r.stage], r.step);
  }
  std::map<std::string, int64_t> offset;
  int64_t total = 0;
  for (const std::string &s : stages) {
    offset[s] = total;
    total += std::max<int64_t>(1, lastStep[s]);
  }
  std::set<std::string> present;
  for (const MetricRecord &r : records)
    for (const auto &item : r.values)
      if (std::isfinite(item.second))
        present.insert(item.first);
  const std::vector<std::string> panels = panelOrder(present);
  const int rows = std::max<int>(1, (static_cast<int>(panels.size()) + kColumns - 1) / kColumns);
  const int width = kColumns * (kPanelWidth + kMargin) + kMargin, height = rows * (kPanelHeight + kMargin) + kMargin;

  std::ostringstream svg;
  svg << "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" << width << "\" height=\"" << height
      << "\" font-family=\"sans-serif\" font-size=\"11\">\n<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n";
  if (panels.empty()) {
    svg << "<text x=\"20\" y=\"30\">no metrics recorded</text>\n</svg>\n";
    return svg.str();
  }
  for (size_t p = 0; p < panels.size(); ++p) {
    const std::string &metric = panels[p];
    const double x0 = kMargin + static_cast<double>(p % kColumns) * (kPanelWidth + kMargin);
    const double y0 = kMargin / 2.0 + static_cast<double>(p / kColumns) * (kPanelHeight + kMargin);
    double lo = INFINITY, hi = -INFINITY;
    for (const MetricRecord &r : records) {
      auto it = r.values.find(metric);
      if (it != r.values.end() && std::isfinite(it->second))
        lo = std::min(lo, it->second), hi = std::max(hi, it->second);
    }
    if (hi - lo < 1e-12)
      hi = lo + 1, lo = lo - 1;
    auto px = [&](const MetricRecord &r) {
      return x0 + static_cast<double>(offset[r.stage] + r.step) / static_cast<double>(std::max<int64_t>(1, total)) *
                      kPanelWidth;
    };
    auto py = [&](double v) { return y0 + kPanelHeight - (v - lo) / (hi - lo) * kPanelHeight; };
    svg << "<g>\n<rect x=\"" << x0 << "\" y=\"" << y0 << "\" width=\"" << kPanelWidth << "\" height=\""
        << kPanelHeight << "\" fill=\"none\" stroke=\"#888\"/>\n";
    svg << "<text x=\"" << x0 << "\" y=\"" << y0 - 4 << "\" font-weight=\"bold\">" << metric << "</text>\n";
    svg << "<text x=\"" << x0 - 4 << "\" y=\"" << y0 + 10 << "\" text-anchor=\"end\">" << number(hi) << "</text>\n";
    svg << "<text x=\"" << x0 - 4 << "\" y=\"" << y0 + kPanelHeight << "\" text-anchor=\"end\">" << number(lo)
        << "</text>\n";
    for (size_t s = 0; s < stages.size(); ++s) {
      const double sx = x0 + static_cast<double>(offset[stages[s]]) / static_cast<double>(std::max<int64_t>(1, total)) *
                                 kPanelWidth;
      svg << "<line x1=\"" << sx << "\" y1=\"" << y0 << "\" x2=\"" << sx << "\" y2=\"" << y0 + kPanelHeight
          << "\" stroke=\"#ccc\"/><text x=\"" << sx + 3 << "\" y=\"" << y0 + kPanelHeight - 4 << "\" fill=\"#666\">"
          << stages[s] << "</text>\n";
    }
    // One polyline per (stage, split == train); evaluations as dots, one colour per split.
    std::map<std::string, std::string> splitColor;
    for (size_t s = 0; s < stages.size(); ++s) {
      std::ostringstream points;
      int count = 0;
      for (const MetricRecord &r : records) {
        auto it = r.values.find(metric);
        if (r.stage != stages[s] || r.split != "train" || it == r.values.end() || !std::isfinite(it->second))
          continue;
        points << px(r) << ',' << py(it->second) << ' ';
        ++count;
      }
      if (count > 0)
        svg << "<polyline fill=\"none\" stroke=\"" << kColors[0] << "\" stroke-width=\"1.5\" points=\""
            << points.str() << "\"/>\n";
    }
    for (const MetricRecord &r : records) {
      auto it = r.values.find(metric);
      if (r.split == "train" || it == r.values.end() || !std::isfinite(it->second))
        continue;
      if (!splitColor.count(r.split))
        splitColor[r.split] = kColors[1 + splitColor.size() % 5];
      svg << "<circle cx=\"" << px(r) << "\" cy=\"" << py(it->second) << "\" r=\"3\" fill=\"" << splitColor[r.split]
          << "\"/>\n";
    }
    double ly = y0 + 14;
    svg << "<text x=\"" << x0 + kPanelWidth - 4 << "\" y=\"" << ly << "\" text-anchor=\"end\" fill=\"" << kColors[0]
        << "\">train</text>\n";
    for (const auto &[split, color] : splitColor) {
      ly += 13;
      svg << "<text x=\"" << x0 + kPanelWidth - 4 << "\" y=\"" << ly << "\" text-anchor=\"end\" fill=\"" << color
          << "\">" << split << "</text>\n";
    }
    svg << "</g>\n";
  }
  svg << "</svg>\n";
  return svg.str();
}

} // namespace align::rt
