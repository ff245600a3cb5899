//===- ParetoPlot.h - Fronts over a direction grid as an SVG picture -*- C++ -*-===//
//
// DPA's picture (papers.md §4.4 shows the same): for each policy of an RSF stage (its start and every
// iteration), the mean rewards of its answers under each direction of a grid, one objective per axis, the
// points of one policy joined in angle order. Plain SVG text like BarChart.h.
//
//===----------------------------------------------------------------------===//
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace align::rt {

/// One policy's front: its label and the (x, y) point of each direction, in angle order.
struct ParetoFront {
  std::string label;
  std::vector<std::pair<double, double>> points;
};

/// An SVG document with axes named `xLabel` and `yLabel`, ticks, one polyline with dots per front and a
/// legend. No fronts (or no points) give a valid SVG saying "no data".
std::string renderParetoSvg(const std::string &title, const std::string &xLabel, const std::string &yLabel,
                            const std::vector<ParetoFront> &fronts);

/// renderParetoSvg written to `path` atomically.
void writeParetoPlot(const std::string &path, const std::string &title, const std::string &xLabel,
                     const std::string &yLabel, const std::vector<ParetoFront> &fronts);

} // namespace align::rt
