//===- DiagnosticsTest.cpp - Rendering and hints of the diagnostic engine -===//

#include "Diagnostics.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <sstream>

using namespace align;

TEST(SourceFile, LinesWithoutNewlines) {
  SourceFile f("a.align", "one\r\ntwo\n\nfour");
  EXPECT_EQ(f.lineCount(), 4u);
  EXPECT_EQ(f.line(1), "one");
  EXPECT_EQ(f.line(2), "two");
  EXPECT_EQ(f.line(3), "");
  EXPECT_EQ(f.line(4), "four");
  EXPECT_EQ(f.line(5), "");
  EXPECT_EQ(f.line(0), "");
}

TEST(Diagnostics, TextHasLocationSourceLineCaretNotesAndHints) {
  SourceFile f("r.align", "recipe r {\n  model m = lama();\n}\n");
  DiagnosticEngine diags(f);
  auto &d = diags.error({{2, 13}, {2, 17}}, "unknown model 'lama'");
  d.notes.push_back({{{1, 8}, {1, 9}}, "in this recipe"});
  d.hints.push_back("did you mean 'llama'?");
  std::ostringstream os;
  diags.printText(os);
  EXPECT_EQ(os.str(), "r.align:2:13: error: unknown model 'lama'\n"
                      "    model m = lama();\n"
                      "              ^~~~\n"
                      "r.align:1:8: note: in this recipe\n"
                      "  recipe r {\n"
                      "         ^\n"
                      "  hint: did you mean 'llama'?\n");
  EXPECT_EQ(diags.errorCount(), 1u);
}

TEST(Diagnostics, JsonIsOneValidObjectPerLine) {
  SourceFile f("r.align", "x\n");
  DiagnosticEngine diags(f);
  diags.error({{1, 1}, {1, 2}}, "bad \"quote\" and \xff byte").hints.push_back("h");
  diags.warning({{1, 1}, {1, 2}}, "second");
  std::ostringstream os;
  diags.printJson(os);
  std::istringstream lines(os.str());
  std::string line;
  std::vector<nlohmann::json> objects;
  while (std::getline(lines, line))
    objects.push_back(nlohmann::json::parse(line));
  ASSERT_EQ(objects.size(), 2u);
  EXPECT_EQ(objects[0]["file"], "r.align");
  EXPECT_EQ(objects[0]["line"], 1);
  EXPECT_EQ(objects[0]["column"], 1);
  EXPECT_EQ(objects[0]["severity"], "error");
  EXPECT_EQ(objects[0]["hints"][0], "h");
  EXPECT_EQ(objects[1]["severity"], "warning");
}

TEST(Diagnostics, ErrorLimitKeepsCounting) {
  SourceFile f("r.align", "x\n");
  DiagnosticEngine diags(f);
  for (unsigned i = 0; i < DiagnosticEngine::kErrorLimit + 7; ++i)
    diags.error({{1, 1}, {1, 2}}, "e");
  EXPECT_EQ(diags.diagnostics().size(), DiagnosticEngine::kErrorLimit);
  EXPECT_EQ(diags.errorCount(), DiagnosticEngine::kErrorLimit + 7);
  EXPECT_EQ(diags.droppedCount(), 7u);
}

TEST(ClosestMatch, SuggestsOnlyPlausibleTypos) {
  std::vector<std::string> words{"lr", "batch", "epochs", "warmup", "max_length"};
  EXPECT_EQ(closestMatch("bacth", words), "batch");
  EXPECT_EQ(closestMatch("epoch", words), "epochs");
  EXPECT_EQ(closestMatch("max_lenght", words), "max_length");
  EXPECT_EQ(closestMatch("zzzzzz", words), "");
  EXPECT_EQ(closestMatch("batch", words), ""); // exact: nothing to suggest
  EXPECT_EQ(closestMatch("x", {}), "");
}
