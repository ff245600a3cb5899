//===- ParetoPlot.cpp - Fronts over a direction grid as an SVG picture ----===//

#include "report/ParetoPlot.h"

#include "report/SvgText.h"
#include "support/AtomicWrite.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <sstream>

namespace align::rt {

namespace {

constexpr double kLeft = 70, kTop = 44, kPlotWidth = 420, kPlotHeight = 300, kBottom = 56, kLegendWidth = 160;
const char *const kColors[] = {"#7f7f7f", "#1f77b4", "#2ca02c", "#ff7f0e", "#d62728", "#9467bd", "#17becf"};

/// [low, high] widened to round ticks, never empty.
std::pair<double, double> axisRange(double low, double high, double *step) {
  if (!(high > low))
    low -= 0.5, high += 0.5;
  *step = svg::tickStep(high - low, 5);
  return {std::floor(low / *step) * *step, std::ceil(high / *step) * *step};
}

} // namespace

std::string renderParetoSvg(const std::string &title, const std::string &xLabel, const std::string &yLabel,
                            const std::vector<ParetoFront> &fronts) {
  const double width = kLeft + kPlotWidth + kLegendWidth, height = kTop + kPlotHeight + kBottom;
  std::ostringstream out;
  out << "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" << width << "\" height=\"" << height
      << "\" font-family=\"sans-serif\" font-size=\"12\">\n";
  out << "<text x=\"" << kLeft << "\" y=\"24\" font-size=\"14\">" << svg::escape(title) << "</text>\n";
  double xLow = std::numeric_limits<double>::infinity(), xHigh = -xLow, yLow = xLow, yHigh = -xLow;
  for (const ParetoFront &f : fronts)
    for (auto [x, y] : f.points)
      if (std::isfinite(x) && std::isfinite(y))
        xLow = std::min(xLow, x), xHigh = std::max(xHigh, x), yLow = std::min(yLow, y), yHigh = std::max(yHigh, y);
  if (!std::isfinite(xLow)) {
    out << "<text x=\"" << kLeft << "\" y=\"" << kTop + 20 << "\">no data</text>\n</svg>\n";
    return out.str();
  }
  double xStep = 1, yStep = 1;
  auto [x0, x1] = axisRange(xLow, xHigh, &xStep);
  auto [y0, y1] = axisRange(yLow, yHigh, &yStep);
  auto px = [&](double x) { return kLeft + (x - x0) / (x1 - x0) * kPlotWidth; };
  auto py = [&](double y) { return kTop + kPlotHeight - (y - y0) / (y1 - y0) * kPlotHeight; };
  out << "<rect x=\"" << kLeft << "\" y=\"" << kTop << "\" width=\"" << kPlotWidth << "\" height=\"" << kPlotHeight
      << "\" fill=\"none\" stroke=\"#444\"/>\n";
  for (double x = x0; x <= x1 + xStep / 2; x += xStep)
    out << "<text x=\"" << px(x) << "\" y=\"" << kTop + kPlotHeight + 16 << "\" text-anchor=\"middle\">"
        << svg::number(x) << "</text>\n";
  for (double y = y0; y <= y1 + yStep / 2; y += yStep)
    out << "<text x=\"" << kLeft - 6 << "\" y=\"" << py(y) + 4 << "\" text-anchor=\"end\">" << svg::number(y)
        << "</text>\n";
  out << "<text x=\"" << kLeft + kPlotWidth / 2 << "\" y=\"" << height - 12 << "\" text-anchor=\"middle\">"
      << svg::escape(xLabel) << "</text>\n";
  out << "<text transform=\"translate(16," << kTop + kPlotHeight / 2 << ") rotate(-90)\" text-anchor=\"middle\">"
      << svg::escape(yLabel) << "</text>\n";
  for (size_t i = 0; i < fronts.size(); ++i) {
    const char *color = kColors[i % (sizeof kColors / sizeof *kColors)];
    std::string line;
    for (auto [x, y] : fronts[i].points)
      if (std::isfinite(x) && std::isfinite(y)) {
        line += svg::number(px(x)) + "," + svg::number(py(y)) + " ";
        out << "<circle cx=\"" << px(x) << "\" cy=\"" << py(y) << "\" r=\"3\" fill=\"" << color << "\"/>\n";
      }
    out << "<polyline points=\"" << line << "\" fill=\"none\" stroke=\"" << color << "\" stroke-width=\"1.5\"/>\n";
    const double ly = kTop + 10 + 18 * static_cast<double>(i);
    out << "<line x1=\"" << kLeft + kPlotWidth + 16 << "\" y1=\"" << ly << "\" x2=\"" << kLeft + kPlotWidth + 40
        << "\" y2=\"" << ly << "\" stroke=\"" << color << "\" stroke-width=\"2\"/>\n";
    out << "<text x=\"" << kLeft + kPlotWidth + 46 << "\" y=\"" << ly + 4 << "\">" << svg::escape(fronts[i].label)
        << "</text>\n";
  }
  out << "</svg>\n";
  return out.str();
}

void writeParetoPlot(const std::string &path, const std::string &title, const std::string &xLabel,
                     const std::string &yLabel, const std::vector<ParetoFront> &fronts) {
  writeFileAtomically(path, renderParetoSvg(title, xLabel, yLabel, fronts));
}

} // namespace align::rt
