//===- BarChartTest.cpp - Grouped bar charts as SVG -----------------------===//
//
// The picture is a complete SVG document naming every category, series and value; non-finite values are
// gaps, and no series (or no categories) is a valid picture saying so, never a crash.

#include "report/BarChart.h"

#include "TestFiles.h"

#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <sstream>

using namespace align::rt;

namespace {

std::string readFile(const std::string &path) {
  std::ifstream in(path);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

bool wellFormed(const std::string &svg) {
  const std::string end = "</svg>\n";
  return svg.rfind("<svg", 0) == 0 && svg.size() > end.size() &&
         svg.compare(svg.size() - end.size(), end.size(), end) == 0;
}

size_t count(const std::string &text, const std::string &needle) {
  size_t n = 0;
  for (size_t at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1))
    ++n;
  return n;
}

} // namespace

TEST(BarChart, WritesCategoriesSeriesAndValues) {
  const std::string path = align::rt::testing::scratchDir("barchart", "basic") + "/length.svg";
  writeBarChart(path, "Generated length by user group", "mean length (tokens)", {"long", "short"},
                {{"vanilla", {31.5, 30.25}}, {"personalized", {42.0, 17.75}}});
  const std::string svg = readFile(path);
  EXPECT_TRUE(wellFormed(svg)) << svg;
  for (const char *text : {"Generated length by user group", "mean length (tokens)", ">long<", ">short<",
                           ">vanilla<", ">personalized<", ">31.5<", ">30.25<", ">42<", ">17.75<"})
    EXPECT_NE(svg.find(text), std::string::npos) << text;
  // Four bars plus the white background and two legend swatches.
  EXPECT_EQ(count(svg, "<rect"), 4u + 1u + 2u);
  EXPECT_EQ(count(svg, "<svg"), 1u);
  // The axis starts at zero for non-negative values and ends at a round tick above the largest (ticks of 10).
  EXPECT_EQ(svg.find(">-"), std::string::npos);
  EXPECT_NE(svg.find(">0</text>"), std::string::npos);
  EXPECT_NE(svg.find(">50</text>"), std::string::npos);
  EXPECT_EQ(svg.find(">60</text>"), std::string::npos);
  EXPECT_EQ(count(svg, "<g>"), count(svg, "</g>"));
}

TEST(BarChart, NonFiniteAndMissingValuesAreGaps) {
  const std::string svg = renderBarChartSvg("t", "y", {"a", "b", "c"},
                                            {{"one", {1.0, NAN, INFINITY}}, {"two", {2.0}}});
  EXPECT_TRUE(wellFormed(svg));
  EXPECT_EQ(svg.find("nan"), std::string::npos);
  EXPECT_EQ(svg.find("inf"), std::string::npos);
  EXPECT_EQ(count(svg, ">n/a<"), 4u); // one NaN, one infinity, two values "two" does not have
  EXPECT_EQ(count(svg, "<rect"), 2u + 1u + 2u);
}

TEST(BarChart, NegativeValuesAndEscapedText) {
  const std::string svg = renderBarChartSvg("a < b & c", "margin", {"x\"y"}, {{"s", {-0.5}}, {"t", {1.5}}});
  EXPECT_TRUE(wellFormed(svg));
  EXPECT_NE(svg.find("a &lt; b &amp; c"), std::string::npos);
  EXPECT_NE(svg.find("x&quot;y"), std::string::npos);
  EXPECT_NE(svg.find(">-0.5<"), std::string::npos);
  EXPECT_EQ(svg.find("height=\"-"), std::string::npos); // no negative bar heights
}

TEST(BarChart, EmptyInputsAreValidPictures) {
  for (const std::string &svg : {renderBarChartSvg("t", "y", {"a", "b"}, {}),
                                 renderBarChartSvg("t", "y", {}, {{"s", {1.0}}}),
                                 renderBarChartSvg("t", "y", {}, {})}) {
    EXPECT_TRUE(wellFormed(svg));
    EXPECT_NE(svg.find("no data"), std::string::npos);
  }
  const std::string path = align::rt::testing::scratchDir("barchart", "empty") + "/empty.svg";
  writeBarChart(path, "t", "y", {"a"}, {});
  EXPECT_TRUE(wellFormed(readFile(path)));
}

TEST(BarChart, UnwritablePathThrows) {
  EXPECT_ANY_THROW(writeBarChart("/nonexistent-dir/x/chart.svg", "t", "y", {"a"}, {{"s", {1.0}}}));
}
