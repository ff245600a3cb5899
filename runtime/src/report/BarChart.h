//===- BarChart.h - Grouped bar charts as an SVG picture -------*- C++ -*-===//
//
// A small grouped bar chart (one group of bars per category, one bar per series, a legend naming the series)
// for results that are a few numbers per group, such as the generated length by user group of a vanilla and
// a personalized model. Plain SVG text like CurvePlot.h: no plotting library in the trainer.
//
//===----------------------------------------------------------------------===//
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace align::rt {

/// Series of a bar chart: a name and one value per category (a missing or non-finite value is drawn as a gap
/// marked "n/a").
using BarSeries = std::vector<std::pair<std::string, std::vector<double>>>;

/// An SVG document: a y axis with a few round ticks from zero (or the most negative value) to the largest value,
/// bars with their values written above them, the category names under their groups and a legend. No categories
/// or no series give a valid SVG saying "no data".
std::string renderBarChartSvg(const std::string &title, const std::string &yLabel,
                              const std::vector<std::string> &categories, const BarSeries &series);

/// renderBarChartSvg written to `path` atomically (throws align::rt::Error naming the path on failure).
void writeBarChart(const std::string &path, const std::string &title, const std::string &yLabel,
                   const std::vector<std::string> &categories, const BarSeries &series);

} // namespace align::rt
