//===- DirectionTest.cpp - DPA directions: rendering, selection, direction.json ---===//
//
// The rendering is checked against strings written by hand from the authors' rule (papers.md §4.1:
// round(100·cos θ), round(100·sin θ), a negative weight written literally), for the README's system template
// and the shorter appendix one; the RSF selection against ties; direction.json against a round trip.
//
//===----------------------------------------------------------------------===//

#include "TestFiles.h"

#include "data/Direction.h"
#include "report/ParetoPlot.h"
#include "train/RejectionSampling.h"

#include <gtest/gtest.h>

namespace align::rt {
namespace {

DirectionSpec readmeDirection() {
  DirectionSpec d;
  d.name = "dir";
  d.objectives = {"helpfulness", "verbosity"};
  d.render = "You are a helpful, respectful, and honest assistant who always responds to the user in a harmless way. "
             "Your response should maximize weighted rating = helpfulness*{weight.helpfulness} + "
             "verbosity*{weight.verbosity}";
  return d;
}

TEST(Direction, ReadmeTemplateRendersIntegerWeights) {
  const DirectionSpec d = readmeDirection();
  const std::string prefix = "You are a helpful, respectful, and honest assistant who always responds to the user in a "
                             "harmless way. Your response should maximize weighted rating = ";
  EXPECT_EQ(renderDirection(d, directionVector(0)), prefix + "helpfulness*100 + verbosity*0");
  // θ = −15°: the README's own example, a negative weight written literally.
  EXPECT_EQ(renderDirection(d, directionVector(-15)), prefix + "helpfulness*97 + verbosity*-26");
  EXPECT_EQ(renderDirection(d, directionVector(45)), prefix + "helpfulness*71 + verbosity*71");
  EXPECT_EQ(renderDirection(d, directionVector(-45)), prefix + "helpfulness*71 + verbosity*-71");
}

TEST(Direction, AppendixTemplateAndScale) {
  DirectionSpec d = readmeDirection();
  d.render = "You are a helpful assistant. Your response should maximize weighted rating = "
             "helpfulness*{weight.helpfulness} + verbosity*{weight.verbosity}.";
  EXPECT_EQ(renderDirection(d, directionVector(30)),
            "You are a helpful assistant. Your response should maximize weighted rating = helpfulness*87 + verbosity*50.");
  d.scale = 10;
  EXPECT_EQ(renderDirection(d, {0.8, -0.6}),
            "You are a helpful assistant. Your response should maximize weighted rating = helpfulness*8 + verbosity*-6.");
  EXPECT_EQ(renderedWeight(0.005, 100), 1);   // halves away from zero
  EXPECT_EQ(renderedWeight(-0.005, 100), -1);
}

TEST(Direction, TemplateEscapesAndBadPlaceholders) {
  DirectionSpec d = readmeDirection();
  d.render = "\\{literal\\} \\\\ {weight.verbosity}";
  EXPECT_EQ(renderDirection(d, {1, 0}), "{literal} \\ 0");
  d.render = "{weight.length}";
  EXPECT_THROW(renderDirection(d, {1, 0}), Error);
  d.render = "{prompt}";
  EXPECT_THROW(renderDirection(d, {1, 0}), Error);
  d.render = "open {weight.verbosity";
  EXPECT_THROW(renderDirection(d, {1, 0}), Error);
  d.render = "fine";
  EXPECT_THROW(renderDirection(d, {1, 0, 0}), Error); // three weights for two objectives
}

TEST(Direction, GridAnglesIncludeTheEnds) {
  EXPECT_EQ(gridAngles(-45, 45, 9), (std::vector<double>{-45, -33.75, -22.5, -11.25, 0, 11.25, 22.5, 33.75, 45}));
  EXPECT_EQ(gridAngles(-30, 30, 1), (std::vector<double>{0}));
  EXPECT_EQ(conditionedPrompt("SYSTEM", "Question?"), "SYSTEM\nQuestion?");
}

TEST(Direction, ArgumentsAreUnitVectorsOrAngles) {
  const DirectionSpec d = readmeDirection();
  std::vector<double> v = parseDirectionArgument("0.8,-0.6", d);
  EXPECT_NEAR(v[0], 0.8, 1e-12);
  EXPECT_NEAR(v[1], -0.6, 1e-12);
  v = parseDirectionArgument("4,3", d);
  EXPECT_NEAR(v[0], 0.8, 1e-12);
  v = parseDirectionArgument("-15deg", d);
  EXPECT_NEAR(v[1], std::sin(-15 * 3.14159265358979323846 / 180), 1e-12);
  for (const char *bad : {"0.8", "0.8,x", "0,0", "1,2,3", "nan,1", "deg", ""})
    EXPECT_THROW(parseDirectionArgument(bad, d), Error) << bad;
}

TEST(Direction, FileRoundTrip) {
  const std::string dir = testing::scratchDir("direction", "roundtrip");
  SavedDirection saved{readmeDirection(), "User: {prompt}\nAssistant: {response}"};
  saved.spec.angleLow = -30, saved.spec.angleHigh = 40, saved.spec.scale = 50;
  writeDirectionFile(dir, saved);
  SavedDirection back = readDirectionFile(dir);
  EXPECT_EQ(back.spec.objectives, saved.spec.objectives);
  EXPECT_EQ(back.spec.render, saved.spec.render);
  EXPECT_EQ(back.spec.angleLow, -30);
  EXPECT_EQ(back.spec.angleHigh, 40);
  EXPECT_EQ(back.spec.scale, 50);
  EXPECT_EQ(back.promptTemplate, saved.promptTemplate);
  EXPECT_THROW(readDirectionFile(testing::scratchDir("direction", "none")), Error);
}

DirectedSample scored(int64_t prompt, int64_t sample, double helpfulness, double verbosity) {
  DirectedSample s;
  s.prompt = prompt, s.sample = sample, s.rewards = {helpfulness, verbosity};
  return s;
}

TEST(RejectionSampling, SelectsArgmaxOfTheScalarizedRewardWithTiesToTheLowestIndex) {
  // Prompt 0 at θ = 0 (helpfulness only): samples 1 and 2 tie at 3, the lower index wins, whatever the order.
  // Prompt 1 at θ = 90° would be verbosity only; at θ = −45° verbosity counts against.
  std::vector<DirectedPrompt> prompts = {{"a", 0}, {"b", -45}};
  std::vector<DirectedSample> samples = {scored(0, 2, 3, 0), scored(0, 0, 1, 9), scored(0, 1, 3, 5),
                                         scored(1, 0, 2, 2), scored(1, 1, 2, 0), scored(1, 2, 1, -3)};
  std::vector<size_t> best = selectBest(samples, prompts);
  EXPECT_EQ(best[0], 2u); // sample 1 of prompt 0 (index 2 in the list), tied with sample 2
  EXPECT_EQ(best[1], 5u); // (1 + 3)/√2 beats (2 − 0)/√2 and (2 − 2)/√2
  EXPECT_NEAR(scalarized(samples[5], -45), 4 / std::sqrt(2.0), 1e-12);
  EXPECT_THROW(selectBest({scored(0, 0, 1, 1)}, prompts), Error); // prompt 1 has no samples
  DirectionSpec d = readmeDirection();
  EXPECT_EQ(objectiveOutputs(d, {"coherence", "verbosity", "helpfulness"}), (std::vector<int64_t>{2, 1}));
  EXPECT_THROW(objectiveOutputs(d, {"helpfulness"}), Error);
}

TEST(ParetoPlot, DrawsOneLinePerFrontAndSaysWhenEmpty) {
  std::string svg = renderParetoSvg("t", "verbosity", "helpfulness",
                                    {{"start", {{1, 2}, {2, 1.5}}}, {"iteration 1", {{1.2, 2.5}, {2.2, 1.9}}}});
  EXPECT_NE(svg.find("<svg"), std::string::npos);
  size_t lines = 0;
  for (size_t at = svg.find("<polyline"); at != std::string::npos; at = svg.find("<polyline", at + 1))
    ++lines;
  EXPECT_EQ(lines, 2u);
  EXPECT_NE(renderParetoSvg("t", "x", "y", {}).find("no data"), std::string::npos);
}

} // namespace
} // namespace align::rt
