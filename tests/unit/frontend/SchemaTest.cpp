//===- SchemaTest.cpp - The constructor table is consistent ---------------===//

#include "Diagnostics.h"
#include "Schema.h"
#include "SemaImpl.h"

#include <gtest/gtest.h>

#include <set>
#include <sstream>

using namespace align;

// Every default in the table must parse and satisfy its own parameter's type and range: a default a user
// could not write is a bug in the table.
TEST(Schema, EveryDefaultChecksAgainstItsParameter) {
  SourceFile f("defaults", "");
  DiagnosticEngine diags(f);
  sema::Sema sema(diags);
  unsigned checked = 0;
  for (const schema::Constructor &c : schema::constructors())
    for (const schema::Param &p : c.params) {
      if (!p.defaultValue)
        continue;
      EXPECT_FALSE(p.required) << c.name << "." << p.name << " is required and has a default";
      ast::ExprPtr value = sema.defaultValue(p, {{1, 1}, {1, 2}});
      EXPECT_TRUE(sema.checkValue(value, p, c.name)) << c.name << "." << p.name << " = " << *p.defaultValue;
      ++checked;
    }
  std::ostringstream os;
  diags.printText(os);
  EXPECT_FALSE(diags.hasErrors()) << os.str();
  EXPECT_GT(checked, 80u);
}

TEST(Schema, NamesAreUniquePerFamilyAndParameterNamesPerConstructor) {
  std::set<std::pair<std::string, std::string>> seen;
  for (const schema::Constructor &c : schema::constructors()) {
    EXPECT_TRUE(seen.insert({c.family, c.name}).second) << c.family << " " << c.name;
    std::set<std::string> params;
    for (const schema::Param &p : c.params)
      EXPECT_TRUE(params.insert(p.name).second) << c.name << "." << p.name;
  }
}

TEST(Schema, CallParametersNameExistingFamilies) {
  for (const schema::Constructor &c : schema::constructors())
    for (const schema::Param &p : c.params)
      if (p.type == schema::Ty::Call)
        EXPECT_FALSE(schema::names(p.detail).empty()) << c.name << "." << p.name << " → " << p.detail;
}

TEST(Schema, ObjectivesReadKnownDataSources) {
  std::set<std::string> sources;
  for (const std::string &n : schema::names("data"))
    sources.insert(n);
  for (const schema::Constructor &c : schema::constructors()) {
    ASSERT_EQ(c.family == "objective", c.objective.has_value()) << c.name;
    if (c.objective)
      for (const std::string &s : c.objective->sources)
        EXPECT_TRUE(sources.count(s)) << c.name << " reads unknown source " << s;
  }
}

TEST(Schema, DescribeReadsAsWords) {
  const schema::Constructor *dpo = schema::find("objective", "dpo");
  ASSERT_NE(dpo, nullptr);
  EXPECT_EQ(schema::describe(dpo->params[0]), "a number > 0");
  const schema::Constructor *scalar = schema::find("reward", "scalar");
  EXPECT_EQ(schema::describe(scalar->params[1]), "one of: last, eos, mean, max");
  const schema::Constructor *lora = schema::find("adapter", "lora");
  EXPECT_EQ(schema::describe(lora->params[2]), "a number in [0, 1)");
}
