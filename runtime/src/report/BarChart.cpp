//===- BarChart.cpp - Grouped bar charts as an SVG picture ----------------===//

#include "report/BarChart.h"

#include "report/SvgText.h"
#include "support/AtomicWrite.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <sstream>

namespace align::rt {

using svg::escape;
using svg::number;
using svg::tickStep;

namespace {

constexpr double kBarWidth = 26, kGroupGap = 30, kPlotHeight = 240, kLeft = 70, kTop = 44, kBottom = 48;
constexpr double kLegendWidth = 150, kMinPlotWidth = 240;
const char *const kColors[] = {"#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#17becf"};

} // namespace

std::string renderBarChartSvg(const std::string &title, const std::string &yLabel,
                              const std::vector<std::string> &categories, const BarSeries &series) {
  const double groupWidth = static_cast<double>(std::max<size_t>(1, series.size())) * kBarWidth + kGroupGap;
  const double plotWidth =
      std::max(kMinPlotWidth, static_cast<double>(std::max<size_t>(1, categories.size())) * groupWidth);
  const double width = kLeft + plotWidth + kLegendWidth, height = kTop + kPlotHeight + kBottom;

  std::ostringstream svg;
  svg << "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" << width << "\" height=\"" << height
      << "\" font-family=\"sans-serif\" font-size=\"11\">\n<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n";
  svg << "<text x=\"" << kLeft << "\" y=\"" << kTop / 2 << "\" font-size=\"13\" font-weight=\"bold\">"
      << escape(title) << "</text>\n";
  if (categories.empty() || series.empty()) {
    svg << "<text x=\"" << kLeft << "\" y=\"" << kTop + 20 << "\">no data</text>\n</svg>\n";
    return svg.str();
  }

  // The value range: always including zero, so bars start at the zero line; round ticks at both ends.
  double lo = 0, hi = 0;
  for (const auto &s : series)
    for (size_t c = 0; c < std::min(s.second.size(), categories.size()); ++c)
      if (std::isfinite(s.second[c]))
        lo = std::min(lo, s.second[c]), hi = std::max(hi, s.second[c]);
  if (hi - lo < 1e-12)
    hi = lo + 1;
  const double step = tickStep(hi - lo, 5);
  lo = std::floor(lo / step + 1e-9) * step;
  hi = std::ceil(hi / step - 1e-9) * step;
  auto py = [&](double v) { return kTop + kPlotHeight - (v - lo) / (hi - lo) * kPlotHeight; };

  // Axes, ticks with light grid lines, the y label turned along the axis.
  for (double t = lo; t <= hi + step * 1e-6; t += step) {
    const double y = py(t), shown = std::abs(t) < step * 1e-6 ? 0.0 : t;
    svg << "<line x1=\"" << kLeft << "\" y1=\"" << y << "\" x2=\"" << kLeft + plotWidth << "\" y2=\"" << y
        << "\" stroke=\"#e4e4e4\"/><text x=\"" << kLeft - 5 << "\" y=\"" << y + 4 << "\" text-anchor=\"end\">"
        << number(shown) << "</text>\n";
  }
  svg << "<line x1=\"" << kLeft << "\" y1=\"" << kTop << "\" x2=\"" << kLeft << "\" y2=\"" << kTop + kPlotHeight
      << "\" stroke=\"#444\"/>\n";
  svg << "<line x1=\"" << kLeft << "\" y1=\"" << py(0) << "\" x2=\"" << kLeft + plotWidth << "\" y2=\"" << py(0)
      << "\" stroke=\"#444\"/>\n";
  const double labelY = kTop + kPlotHeight / 2;
  svg << "<text x=\"16\" y=\"" << labelY << "\" text-anchor=\"middle\" transform=\"rotate(-90 16 " << labelY
      << ")\">" << escape(yLabel) << "</text>\n";

  // One group per category, centred in its slot; bars from the zero line, values above (below for negatives).
  const double slot = plotWidth / static_cast<double>(categories.size());
  for (size_t c = 0; c < categories.size(); ++c) {
    const double groupX = kLeft + static_cast<double>(c) * slot + (slot - static_cast<double>(series.size()) * kBarWidth) / 2;
    svg << "<g>\n";
    for (size_t s = 0; s < series.size(); ++s) {
      const std::vector<double> &values = series[s].second;
      const double v = c < values.size() ? values[c] : NAN, x = groupX + static_cast<double>(s) * kBarWidth;
      const double centre = x + kBarWidth / 2;
      if (!std::isfinite(v)) {
        svg << "<text x=\"" << centre << "\" y=\"" << py(0) - 4 << "\" text-anchor=\"middle\" fill=\"#999\" "
            << "font-size=\"9\">n/a</text>\n";
        continue;
      }
      const double top = std::min(py(v), py(0)), barHeight = std::abs(py(v) - py(0));
      svg << "<rect x=\"" << x + 1 << "\" y=\"" << top << "\" width=\"" << kBarWidth - 2 << "\" height=\""
          << barHeight << "\" fill=\"" << kColors[s % 6] << "\"/>\n";
      const double textY = v >= 0 ? py(v) - 3 : py(v) + 11;
      svg << "<text x=\"" << centre << "\" y=\"" << textY << "\" text-anchor=\"middle\" font-size=\"9\">"
          << number(v) << "</text>\n";
    }
    svg << "<text x=\"" << kLeft + (static_cast<double>(c) + 0.5) * slot << "\" y=\"" << kTop + kPlotHeight + 18
        << "\" text-anchor=\"middle\">" << escape(categories[c]) << "</text>\n</g>\n";
  }

  // The legend, right of the plot.
  for (size_t s = 0; s < series.size(); ++s) {
    const double x = kLeft + plotWidth + 16, y = kTop + 8 + static_cast<double>(s) * 18;
    svg << "<rect x=\"" << x << "\" y=\"" << y - 9 << "\" width=\"12\" height=\"12\" fill=\"" << kColors[s % 6]
        << "\"/><text x=\"" << x + 18 << "\" y=\"" << y + 1 << "\">" << escape(series[s].first) << "</text>\n";
  }
  svg << "</svg>\n";
  return svg.str();
}

void writeBarChart(const std::string &path, const std::string &title, const std::string &yLabel,
                   const std::vector<std::string> &categories, const BarSeries &series) {
  writeFileAtomically(path, renderBarChartSvg(title, yLabel, categories, series));
}

} // namespace align::rt
