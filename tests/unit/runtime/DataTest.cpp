//===- DataTest.cpp - Data files, templates, source kinds and splits ------===//
//
// The data layer on small files written here: the row readers' line numbers (.jsonl and .json lists, with
// strings that hide brackets), the template's split at {response} and its escapes, every source kind's
// normalised examples, the exact text of the malformed-row errors, skip counting, limit, and the splits
// (determinism, sizes, whole groups, where, file). The DSP release in ../shared/data/dsp loads when present.
//
//===----------------------------------------------------------------------===//

#include "support/Files.h"
#include "data/Examples.h"

#include "TestFiles.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <fstream>
#include <set>

#include <sys/stat.h>
#include <unistd.h>

using namespace align::rt;
using namespace align::rt::data;
using Json = nlohmann::json;

namespace {

std::string dataTempDir(const std::string &name) { return align::rt::testing::scratchDir("data", name); }

std::string writeFile(const std::string &name, const std::string &text) {
  const auto *info = ::testing::UnitTest::GetInstance()->current_test_info();
  std::string path = dataTempDir(std::string(info->test_suite_name()) + "." + info->name()) + "/" + name;
  std::ofstream(path, std::ios::binary) << text;
  return path;
}

/// JSON lines from a list of objects.
std::string jsonLines(const std::vector<Json> &rows) {
  std::string text;
  for (const Json &row : rows)
    text += row.dump() + "\n";
  return text;
}

/// The message of the Error `f` throws (fails the test if it throws none).
template <typename F> std::string errorOf(F &&f) {
  try {
    f();
  } catch (const Error &e) {
    return e.what();
  }
  ADD_FAILURE() << "no Error thrown";
  return "";
}

SourceSpec specFor(SourceKind kind, const std::string &path) {
  SourceSpec spec;
  spec.name = "d";
  spec.kind = kind;
  spec.path = path;
  return spec;
}

/// The error message of loading a one-row .jsonl file.
std::string rowError(SourceSpec spec, const Json &row) {
  spec.path = writeFile("row.jsonl", "\n" + row.dump() + "\n"); // the row is on line 2
  return errorOf([&] { loadSource(spec); });
}

const std::vector<Example> &train(const LoadedSource &loaded) { return loaded.splits.at("train"); }

} // namespace

//===----------------------------------------------------------------------===//
// Rows
//===----------------------------------------------------------------------===//

TEST(JsonRows, JsonlLinesSkipBlanksAndCarriageReturns) {
  std::string path = writeFile("a.jsonl", "{\"a\": 1}\n\n   \n{\"a\": 2}\r\n{\"a\": 3}");
  auto rows = readJsonRows(path);
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows[0].line, 1);
  EXPECT_EQ(rows[1].line, 4);
  EXPECT_EQ(rows[2].line, 5);
  EXPECT_EQ(rows[2].value["a"], 3);
  EXPECT_EQ(rows[1].file, path);
}

TEST(JsonRows, JsonListElementsKeepTheLineTheyStartOn) {
  // Strings hide brackets, commas, escaped quotes and backslashes from the scanner.
  std::string text = "[\n"
                     "  {\"t\": \"a ] , [ \\\" }\"},\n"  // line 2
                     "  {\"t\": \"\\\\\",\n"            // line 3, ends in an escaped backslash
                     "   \"u\": [1, {\"v\": 2}]},\n"
                     "\n"
                     "  {\"t\": \"x\\ny\"}, {\"t\": \"z\"}\n" // line 6, two elements
                     "]\n";
  auto rows = parseJsonRows(text, "f.json", /*jsonList=*/true);
  ASSERT_EQ(rows.size(), 4u);
  EXPECT_EQ(rows[0].line, 2);
  EXPECT_EQ(rows[0].value["t"], "a ] , [ \" }");
  EXPECT_EQ(rows[1].line, 3);
  EXPECT_EQ(rows[1].value["t"], "\\");
  EXPECT_EQ(rows[1].value["u"][1]["v"], 2);
  EXPECT_EQ(rows[2].line, 6);
  EXPECT_EQ(rows[2].value["t"], "x\ny");
  EXPECT_EQ(rows[3].line, 6);
  EXPECT_TRUE(parseJsonRows(" [ ] ", "e.json", true).empty());
}

TEST(JsonRows, ByteOrderMarksAreSkipped) {
  EXPECT_EQ(parseJsonRows("\xEF\xBB\xBF[{\"a\": 1}]", "b.json", true).at(0).value["a"], 1);
  EXPECT_EQ(parseJsonRows("\xEF\xBB\xBF{\"a\": 2}\n", "b.jsonl", false).at(0).value["a"], 2);
}

TEST(JsonRows, FormatFollowsTheExtensionOrTheFirstCharacter) {
  EXPECT_EQ(readJsonRows(writeFile("l.json", "[{\"a\": 1}, {\"a\": 2}]")).size(), 2u);
  EXPECT_EQ(readJsonRows(writeFile("l.txt", "\n [{\"a\": 1}]")).size(), 1u);
  EXPECT_EQ(readJsonRows(writeFile("l.data", "{\"a\": 1}\n{\"a\": 2}\n")).size(), 2u);
  // A list in a .jsonl file is one row that is not an object.
  EXPECT_EQ(errorOf([&] { readJsonRows(writeFile("x.jsonl", "[{\"a\": 1}]\n")); }),
            dataTempDir("JsonRows.FormatFollowsTheExtensionOrTheFirstCharacter") +
                "/x.jsonl:1: expected a JSON object, got list");
}

TEST(JsonRows, SyntaxErrorsNameTheLine) {
  EXPECT_EQ(errorOf([] { parseJsonRows("{\"a\": 1}\n{\"a\": 2}\n{\"a\": x}\n", "f.jsonl", false); }),
            "f.jsonl:3: invalid JSON: syntax error while parsing value - invalid literal; last read: '\"a\": x'");
  // Inside a multi-line list element: the line of the error, not of the element's start.
  std::string message = errorOf([] { parseJsonRows("[{\"a\": 1},\n {\"b\":\n  2,,\n }]", "f.json", true); });
  EXPECT_EQ(message.rfind("f.json:3: invalid JSON: ", 0), 0u) << message;
  EXPECT_EQ(errorOf([] { parseJsonRows("[{\"a\": 1},\n{\"a\": 2}", "f.json", true); }),
            "f.json:2: invalid JSON: unexpected end of input; expected ',' or ']'");
  EXPECT_EQ(errorOf([] { parseJsonRows("[{\"a\": 1}]\n\n x", "f.json", true); }),
            "f.json:3: invalid JSON: unexpected text after the top-level list");
  EXPECT_EQ(errorOf([] { parseJsonRows("[{\"a\": 1} {\"a\": 2}]", "f.json", true); }).rfind("f.json:1: invalid JSON:", 0),
            0u);
  EXPECT_EQ(errorOf([] { parseJsonRows("\n", "f.json", true); }),
            "f.json:2: invalid JSON: unexpected end of input; expected '[' (a .json data file is a list of objects)");
}

TEST(JsonRows, RowsThatAreNotObjects) {
  EXPECT_EQ(errorOf([] { parseJsonRows("[{\"a\": 1},\n 3]", "f.json", true); }),
            "f.json:2: expected a JSON object, got number");
  EXPECT_EQ(errorOf([] { parseJsonRows("{}\n\"s\"\n", "f.jsonl", false); }), "f.jsonl:2: expected a JSON object, got string");
  EXPECT_EQ(errorOf([] { parseJsonRows("\n{\"a\": [1]}", "f.json", true); }),
            "f.json:2: expected a JSON list of objects, got object");
}

TEST(JsonRows, UnreadableFileNamesPathAndReason) {
  std::string path = dataTempDir("missing") + "/nothing.jsonl";
  EXPECT_EQ(errorOf([&] { readJsonRows(path); }), path + ": cannot read: No such file or directory");
}

TEST(JsonRows, MaxRowsAndCollectedRowErrors) {
  std::string text = "{\"a\": 1}\n{oops}\n7\n{\"a\": 4}\n{\"a\": 5}\n";
  EXPECT_EQ(parseJsonRows(text, "f.jsonl", false, 1).size(), 1u);
  std::vector<RowError> errors;
  auto rows = parseJsonRows(text, "f.jsonl", false, 4, &errors);
  ASSERT_EQ(rows.size(), 2u); // rows 1 and 4; the two bad lines count towards the 4
  EXPECT_EQ(rows[1].line, 4);
  ASSERT_EQ(errors.size(), 2u);
  EXPECT_EQ(errors[0].line, 2);
  EXPECT_EQ(errors[0].message.rfind("f.jsonl:2: invalid JSON: ", 0), 0u);
  EXPECT_EQ(errors[1].line, 3);
  EXPECT_EQ(errors[1].message, "f.jsonl:3: expected a JSON object, got number");
  // A broken .json list is not collected: nothing after the error can be trusted.
  EXPECT_THROW(parseJsonRows("[{}, {]", "f.json", true, -1, &errors), Error);
}

//===----------------------------------------------------------------------===//
// Templates
//===----------------------------------------------------------------------===//

TEST(Template, SplitsAtTheResponsePlaceholder) {
  Template t = Template::parse("## Human:\n{prompt}\n\n## Assistant:\n{response}</s>");
  RenderedPair r = t.render("hi", "hello");
  EXPECT_EQ(r.promptText, "## Human:\nhi\n\n## Assistant:\n");
  EXPECT_EQ(r.responseText, "hello</s>");
  EXPECT_EQ(r.promptText + r.responseText, "## Human:\nhi\n\n## Assistant:\nhello</s>");
  EXPECT_EQ(t.renderPrompt("hi"), r.promptText);
}

TEST(Template, WithoutResponsePlaceholderTheResponseIsAppended) {
  Template t = Template::parse("[{system}] Q: {prompt} A:");
  RenderedPair r = t.render("why?", " because", "be brief");
  EXPECT_EQ(r.promptText, "[be brief] Q: why? A:");
  EXPECT_EQ(r.responseText, " because");
  EXPECT_FALSE(t.uses(Template::Part::Response));
  EXPECT_TRUE(t.uses(Template::Part::System));
  RenderedPair plain = Template::plain().render("p", "r");
  EXPECT_EQ(plain.promptText, "p");
  EXPECT_EQ(plain.responseText, "r");
}

TEST(Template, Escapes) {
  // As the compiler stores them: `\\`, `\{`, `\}` still written (C++ doubles each backslash here).
  EXPECT_EQ(Template::parse("C:\\\\{prompt}").render("x", "").promptText, "C:\\x");
  EXPECT_EQ(Template::parse("\\{prompt\\} {prompt}").render("x", "").promptText, "{prompt} x");
  EXPECT_EQ(Template::parse("a\\qb {prompt}").render("x", "").promptText, "a\\qb x"); // another '\' is literal
  EXPECT_EQ(Template::parse("{response}\\}").render("p", "r").responseText, "r}");
}

TEST(Template, ErrorsNameTheDataSource) {
  SourceSpec spec = specFor(DataKind::prompts, writeFile("p.jsonl", "{\"prompt\": \"x\"}\n"));
  spec.templateText = "{prompt} {answer}";
  EXPECT_EQ(errorOf([&] { loadSource(spec); }),
            "prompts data 'd': template \"{prompt} {answer}\": unknown placeholder '{answer}'; a data template provides "
            "{prompt}, {response} and {system}");
}

TEST(Template, Errors) {
  EXPECT_EQ(errorOf([] { Template::parse("a {prompt"); }),
            "template \"a {prompt\": unclosed '{' at offset 2; write a literal brace as \\{");
  EXPECT_EQ(errorOf([] { Template::parse("a } b"); }),
            "template \"a } b\": unmatched '}' at offset 2; write a literal brace as \\}");
  EXPECT_EQ(errorOf([] { Template::parse("{answer}"); }),
            "template \"{answer}\": unknown placeholder '{answer}'; a data template provides {prompt}, {response} and {system}");
}

//===----------------------------------------------------------------------===//
// Source kinds
//===----------------------------------------------------------------------===//

TEST(Examples, SourceKindNames) {
  for (const char *name : {"pairwise", "ranking", "scored", "rated", "sft", "prompts", "domain_pairs"})
    EXPECT_EQ(sourceKindName(parseSourceKind(name)), name);
  EXPECT_EQ(errorOf([] { parseSourceKind("pairs"); }),
            "unknown data source kind 'pairs'; expected pairwise, ranking, scored, rated, sft, prompts or domain_pairs");
}

TEST(Examples, PairwiseStringsTemplateAndColumns) {
  SourceSpec spec = specFor(DataKind::pairwise, writeFile("p.jsonl", jsonLines({
      {{"q", "2+2?"}, {"good", "4"}, {"bad", "5"}, {"uid", 17}, {"w", 0.5}, {"sys", "math"}, {"kind", 2}},
  })));
  spec.columns = {{"prompt", "q"}, {"chosen", "good"}, {"rejected", "bad"}, {"user", "uid"}, {"weight", "w"},
                  {"system", "sys"}, {"true_type", "kind"}};
  spec.templateText = "<{system}> Q: {prompt}\nA: {response}.";
  LoadedSource loaded = loadSource(spec);
  ASSERT_EQ(train(loaded).size(), 1u);
  const Example &ex = train(loaded)[0];
  EXPECT_EQ(ex.prompt, "<math> Q: 2+2?\nA: ");
  EXPECT_EQ(ex.responses, (std::vector<std::string>{"4.", "5."}));
  EXPECT_EQ(ex.scores, (std::vector<double>{1, 0}));
  EXPECT_EQ(ex.user, "17");
  EXPECT_EQ(ex.annotator, "");
  EXPECT_EQ(ex.trueType, "2"); // an id column: a string or an integer
  EXPECT_EQ(ex.weight, 0.5);
  EXPECT_EQ(ex.line, 1);
  EXPECT_EQ(loaded.rowsRead, 1);
  EXPECT_EQ(loaded.skips.skipped, 0);
}

TEST(Examples, PairwiseMessageLists) {
  Json user = {{"role", "user"}, {"content", "hi"}};
  Json good = {{"role", "assistant"}, {"content", "hello"}};
  Json bad = {{"role", "assistant"}, {"content", "go away"}};
  std::string path = writeFile("m.jsonl", jsonLines({
      {{"prompt", Json::array({user})}, {"chosen", Json::array({good})}, {"rejected", Json::array({bad})}},
      {{"chosen", Json::array({user, good})}, {"rejected", Json::array({user, bad})}}, // TRL's implicit prompt
      {{"chosen", "x"}, {"rejected", "y"}},                                              // implicit, strings: ""
  }));
  auto examples = train(loadSource(specFor(DataKind::pairwise, path)));
  ASSERT_EQ(examples.size(), 3u);
  for (int i : {0, 1}) {
    EXPECT_EQ(examples[i].prompt, "user: hi\n");
    EXPECT_EQ(examples[i].responses, (std::vector<std::string>{"assistant: hello", "assistant: go away"}));
  }
  EXPECT_EQ(examples[2].prompt, "");
  EXPECT_EQ(examples[2].responses, (std::vector<std::string>{"x", "y"}));
  // With a template the message lines fill the placeholders, without the separating newline.
  SourceSpec templated = specFor(DataKind::pairwise, path);
  templated.templateText = "{prompt}\n### {response}";
  EXPECT_EQ(train(loadSource(templated))[0].prompt, "user: hi\n### ");
  // A recipe that names the prompt column wants it in every row.
  SourceSpec named = specFor(DataKind::pairwise, path);
  named.columns["prompt"] = "prompt";
  EXPECT_EQ(errorOf([&] { loadSource(named); }), path + ":2: field 'prompt': missing (the row has: chosen, rejected)");
}

TEST(Examples, RankingOrdersBestFirst) {
  std::string path = writeFile("r.json", "[\n" +
      Json({{"prompt", "p"}, {"responses", {"a", "b", "c"}}, {"order", {2, 0, 1}}}).dump() + ",\n" +
      Json({{"prompt", "p"}, {"responses", {"a", "b", "c", "d"}}, {"order", {3, 1}}}).dump() + "\n]");
  auto examples = train(loadSource(specFor(DataKind::ranking, path)));
  ASSERT_EQ(examples.size(), 2u);
  EXPECT_EQ(examples[0].responses, (std::vector<std::string>{"c", "a", "b"}));
  EXPECT_EQ(examples[0].scores, (std::vector<double>{2, 1, 0}));
  EXPECT_EQ(examples[1].responses, (std::vector<std::string>{"d", "b"})); // a prefix: unranked ones unused
  EXPECT_EQ(examples[1].scores, (std::vector<double>{1, 0}));
  EXPECT_EQ(examples[1].line, 3);
}

TEST(Examples, ScoredPromptIsTheSharedDialogueUpToTheLastAssistantTurn) {
  std::string hh = "\n\nHuman: hi\n\nAssistant: hey\n\nHuman: help?\n\nAssistant:";
  std::string path = writeFile("s.json", Json::array({
      {{"text", {hh + " Sure, here", hh + " Sure, no"}}, {"score", {1.0, 0.0}}},
      {{"text", {"## Human:\nq\n\n## Assistant:\nA1", "## Human:\nq\n\n## Assistant:\nA2", "## Human:\nq\n\n## Assistant:\nB"}},
       {"score", {0.5, 0.5, 2}}},
      {{"text", {"same start one", "same start two"}}, {"score", {0, 1}}},
  }).dump());
  auto examples = train(loadSource(specFor(DataKind::scored, path)));
  ASSERT_EQ(examples.size(), 3u);
  EXPECT_EQ(examples[0].prompt, hh); // not cut at the shared " Sure, "
  EXPECT_EQ(examples[0].responses, (std::vector<std::string>{" Sure, here", " Sure, no"}));
  EXPECT_EQ(examples[1].prompt, "## Human:\nq\n\n## Assistant:");
  EXPECT_EQ(examples[1].responses, (std::vector<std::string>{"\nA1", "\nA2", "\nB"}));
  EXPECT_EQ(examples[1].scores, (std::vector<double>{0.5, 0.5, 2}));
  EXPECT_EQ(examples[2].prompt, ""); // no marker: the whole texts are responses
  EXPECT_EQ(examples[2].responses, (std::vector<std::string>{"same start one", "same start two"}));
  // The template is not applied to scored texts: they are already rendered.
  SourceSpec templated = specFor(DataKind::scored, path);
  templated.templateText = "X{prompt}Y{response}Z";
  EXPECT_EQ(train(loadSource(templated))[0].prompt, hh);
}

TEST(Examples, RatedMasksMissingRatings) {
  SourceSpec spec = specFor(DataKind::rated, writeFile("r.jsonl", jsonLines({
      {{"prompt", "p"}, {"response", "r"}, {"helpful", 3}, {"honest", nullptr}},
      {{"prompt", "p"}, {"response", "r"}, {"honest", 1.5}},
  })));
  spec.ratings = {"helpful", "honest"};
  auto examples = train(loadSource(spec));
  ASSERT_EQ(examples.size(), 2u);
  EXPECT_EQ(examples[0].ratings[0], 3);
  EXPECT_TRUE(std::isnan(examples[0].ratings[1]));
  EXPECT_TRUE(std::isnan(examples[1].ratings[0]));
  EXPECT_EQ(examples[1].ratings[1], 1.5);
  EXPECT_EQ(examples[0].responses, (std::vector<std::string>{"r"}));
  EXPECT_TRUE(examples[0].scores.empty());
}

TEST(Examples, SftTextOrPromptResponse) {
  std::string path = writeFile("s.jsonl", jsonLines({{{"text", "all of it"}, {"q", "Q"}, {"a", "A"}}}));
  SourceSpec text = specFor(DataKind::sft, path);
  text.templateText = "T: {prompt} {response}"; // not applied to whole texts
  Example whole = train(loadSource(text))[0];
  EXPECT_EQ(whole.prompt, "");
  EXPECT_EQ(whole.responses, (std::vector<std::string>{"all of it"}));
  SourceSpec pair = specFor(DataKind::sft, path);
  pair.columns = {{"prompt", "q"}, {"response", "a"}};
  pair.templateText = "T: {prompt} {response}";
  Example split = train(loadSource(pair))[0];
  EXPECT_EQ(split.prompt, "T: Q ");
  EXPECT_EQ(split.responses, (std::vector<std::string>{"A"}));
  pair.columns.erase("response");
  EXPECT_EQ(errorOf([&] { loadSource(pair); }), "sft data 'd' names 'prompt' without 'response'; name both, or neither");
}

TEST(Examples, PromptsRenderThePromptPart) {
  SourceSpec spec = specFor(DataKind::prompts, writeFile("p.jsonl", jsonLines({{{"prompt", "why?"}}})));
  spec.templateText = "## Human:\n{prompt}\n\n## Assistant:\n{response}";
  Example ex = train(loadSource(spec))[0];
  EXPECT_EQ(ex.prompt, "## Human:\nwhy?\n\n## Assistant:\n");
  EXPECT_TRUE(ex.responses.empty());
}

TEST(Examples, DomainPairsOnePairPerOtherDomain) {
  std::string path = writeFile("d.json", Json::array({
      {{"query", "q1"}, {"responses", {{"normal", "n"}, {"academy", "a"}, {"business", "b"}}}},
  }).dump());
  SourceSpec spec = specFor(DataKind::domain_pairs, path);
  spec.preferred = "academy";
  spec.templateText = "H: {prompt}\nA: {response}";
  auto examples = train(loadSource(spec));
  ASSERT_EQ(examples.size(), 2u);
  EXPECT_EQ(examples[0].versus, "business"); // sorted
  EXPECT_EQ(examples[1].versus, "normal");
  for (const Example &ex : examples) {
    EXPECT_EQ(ex.prompt, "H: q1\nA: ");
    EXPECT_EQ(ex.responses[0], "a");
    EXPECT_EQ(ex.domain, "academy");
    EXPECT_EQ(ex.scores, (std::vector<double>{1, 0}));
  }
  EXPECT_EQ(examples[1].responses[1], "n");
  spec.against = {"normal"};
  auto against = train(loadSource(spec));
  ASSERT_EQ(against.size(), 1u);
  EXPECT_EQ(against[0].responses, (std::vector<std::string>{"a", "n"}));
}

//===----------------------------------------------------------------------===//
// Malformed rows: the exact messages, skipping and limits
//===----------------------------------------------------------------------===//

TEST(Examples, MalformedRowMessagesNameLineAndColumn) {
  SourceSpec pairwise = specFor(DataKind::pairwise, "");
  pairwise.columns["chosen"] = "good";
  auto at = [](const std::string &message) { return message.substr(message.find(':') + 1); }; // drop the path
  EXPECT_EQ(at(rowError(pairwise, {{"prompt", "p"}, {"good", 3}, {"rejected", "r"}})),
            "2: field 'good': expected a string or a list of messages, got number");
  EXPECT_EQ(at(rowError(pairwise, {{"prompt", "p"}, {"good", "c"}})),
            "2: field 'rejected': missing (the row has: good, prompt)");
  EXPECT_EQ(at(rowError(pairwise, {{"prompt", "p"}, {"good", Json::array()}, {"rejected", "r"}})),
            "2: field 'good': expected a string or a list of messages, got an empty list");
  EXPECT_EQ(at(rowError(pairwise, {{"prompt", "p"}, {"good", {{{"role", "a"}, {"content", "x"}}, {{"role", "a"}}}},
                                   {"rejected", "r"}})),
            "2: field 'good'[1].content: missing");
  EXPECT_EQ(at(rowError(pairwise, {{"prompt", {{{"role", "u"}, {"content", nullptr}}}}, {"good", "c"}, {"rejected", "r"}})),
            "2: field 'prompt'[0].content: expected a string, got null");

  SourceSpec ranking = specFor(DataKind::ranking, "");
  auto rank = [](const Json &order) { return Json{{"prompt", "p"}, {"responses", {"a", "b", "c"}}, {"order", order}}; };
  EXPECT_EQ(at(rowError(ranking, rank(Json{0, 3}))),
            "2: field 'order'[1]: index 3 is out of range for 3 responses");
  EXPECT_EQ(at(rowError(ranking, rank(Json{1, 1}))), "2: field 'order'[1]: index 1 appears twice");
  EXPECT_EQ(at(rowError(ranking, rank(Json{0, "1"}))),
            "2: field 'order'[1]: expected an integer index, got string");
  EXPECT_EQ(at(rowError(ranking, rank(Json::array({0})))),
            "2: field 'order': expected at least 2 indices (a ranking compares responses), got 1");
  EXPECT_EQ(at(rowError(ranking, {{"prompt", "p"}, {"responses", Json::array()}, {"order", {0, 1}}})),
            "2: field 'responses': expected a list of responses, got an empty list");
  EXPECT_EQ(at(rowError(ranking, {{"prompt", "p"}, {"responses", {"a", 2}}, {"order", {0, 1}}})),
            "2: field 'responses'[1]: expected a string or a list of messages, got number");

  SourceSpec scored = specFor(DataKind::scored, "");
  EXPECT_EQ(at(rowError(scored, {{"text", {"a", "b"}}, {"score", {1, 0, 2}}})),
            "2: field 'score': has 3 scores for 2 texts in 'text'");
  EXPECT_EQ(at(rowError(scored, {{"text", {"a", 3}}, {"score", {1, 0}}})), "2: field 'text'[1]: expected a string, got number");
  EXPECT_EQ(at(rowError(scored, {{"text", {"a", "b"}}, {"score", {1, true}}})),
            "2: field 'score'[1]: expected a number, got bool");
  EXPECT_EQ(at(rowError(scored, {{"text", {"a"}}, {"score", {1}}})),
            "2: field 'text': expected at least 2 texts (a scored row compares them), got 1");

  SourceSpec rated = specFor(DataKind::rated, "");
  rated.ratings = {"helpful", "honest"};
  EXPECT_EQ(at(rowError(rated, {{"prompt", "p"}, {"response", "r"}, {"honest", nullptr}})),
            "2: no rating: 'helpful', 'honest' are all null or missing");
  EXPECT_EQ(at(rowError(rated, {{"prompt", "p"}, {"response", "r"}, {"honest", "5"}})),
            "2: field 'honest': expected a number or null, got string");

  SourceSpec ids = specFor(DataKind::prompts, "");
  ids.columns = {{"user", "uid"}, {"weight", "w"}};
  EXPECT_EQ(at(rowError(ids, {{"prompt", "p"}, {"uid", 1.5}, {"w", 1}})),
            "2: field 'uid': expected a string or an integer id, got number");
  EXPECT_EQ(at(rowError(ids, {{"prompt", "p"}, {"uid", "u"}, {"w", "1"}})), "2: field 'w': expected a number, got string");
  EXPECT_EQ(at(rowError(ids, {{"prompt", "p"}, {"uid", "u"}, {"w", -1}})), "2: field 'w': expected a weight >= 0, got -1");

  SourceSpec domains = specFor(DataKind::domain_pairs, "");
  domains.preferred = "academy";
  EXPECT_EQ(at(rowError(domains, {{"query", "q"}, {"responses", {{"normal", "n"}, {"business", "b"}}}})),
            "2: field 'responses': no response for the preferred domain 'academy' (has: business, normal)");
  EXPECT_EQ(at(rowError(domains, {{"query", "q"}, {"responses", {{"academy", "a"}, {"normal", nullptr}}}})),
            "2: field 'responses'.normal: expected a string, got null");
  EXPECT_EQ(at(rowError(domains, {{"query", "q"}, {"responses", {{"academy", "a"}}}})),
            "2: field 'responses': has no domain besides the preferred 'academy' to compare with");
}

TEST(Examples, SkipCountsEveryMalformedRowAndKeepsFiveReasons) {
  std::vector<Json> rows;
  for (int i = 0; i < 10; ++i)
    rows.push_back(i % 3 == 0 ? Json{{"prompt", "p"}, {"chosen", "c"}, {"rejected", "r"}}
                              : Json{{"prompt", "p"}, {"chosen", i}, {"rejected", "r"}});
  std::string text = "{broken\n" + jsonLines(rows); // line 1, then the rows on lines 2..11
  SourceSpec spec = specFor(DataKind::pairwise, writeFile("s.jsonl", text));
  EXPECT_EQ(errorOf([&] { loadSource(spec); }).rfind(spec.path + ":1: invalid JSON: ", 0), 0u); // the first error
  spec.path = writeFile("s2.jsonl", jsonLines(rows) + "{broken\n");
  EXPECT_EQ(errorOf([&] { loadSource(spec); }),
            spec.path + ":2: field 'chosen': expected a string or a list of messages, got number");
  spec.path = writeFile("s3.jsonl", text);
  spec.onError = OnError::skip;
  LoadedSource loaded = loadSource(spec);
  ASSERT_EQ(train(loaded).size(), 4u); // the rows of i = 0, 3, 6, 9
  EXPECT_EQ(loaded.skips.skipped, 7);  // six bad rows and the broken line
  EXPECT_EQ(loaded.rowsRead, 11);
  ASSERT_EQ(loaded.skips.reasons.size(), 5u); // the first five, in line order
  EXPECT_EQ(loaded.skips.reasons[0].rfind(spec.path + ":1: invalid JSON: ", 0), 0u);
  EXPECT_EQ(loaded.skips.reasons[1], spec.path + ":3: field 'chosen': expected a string or a list of messages, got number");
  EXPECT_EQ(loaded.skips.reasons[4], spec.path + ":7: field 'chosen': expected a string or a list of messages, got number");
  EXPECT_EQ(train(loaded)[3].line, 11);
}

TEST(Examples, LimitCountsRowsReadBeforeSplitting) {
  std::vector<Json> rows;
  for (int i = 0; i < 20; ++i)
    rows.push_back({{"prompt", std::to_string(i)}});
  SourceSpec spec = specFor(DataKind::prompts, writeFile("l.jsonl", jsonLines(rows)));
  spec.limit = 7;
  spec.splits.push_back({"eval", SplitKind::percent, 0.3});
  LoadedSource loaded = loadSource(spec);
  EXPECT_EQ(loaded.rowsRead, 7);
  EXPECT_EQ(loaded.splits.at("eval").size(), 2u); // round(0.3 * 7)
  EXPECT_EQ(train(loaded).size(), 5u);
  for (const auto &[name, examples] : loaded.splits)
    for (const Example &ex : examples)
      EXPECT_LT(std::stoi(ex.prompt), 7);
}

//===----------------------------------------------------------------------===//
// Splits
//===----------------------------------------------------------------------===//

TEST(Splits, SplitMix64MatchesTheReferenceImplementation) {
  // First outputs of Vigna's splitmix64.c seeded with 0 and with 1234567.
  SplitMix64 zero(0);
  EXPECT_EQ(zero.next(), 0xE220A8397B1DCDAFull);
  EXPECT_EQ(zero.next(), 0x6E789E6AA1B965F4ull);
  SplitMix64 other(1234567);
  EXPECT_EQ(other.next(), 6457827717110365317ull);
  EXPECT_EQ(other.next(), 3203168211198807973ull);
  // A permutation, fixed for the seed.
  std::vector<int64_t> order = shuffledIndices(10, 42);
  std::set<int64_t> distinct(order.begin(), order.end());
  EXPECT_EQ(distinct.size(), 10u);
  EXPECT_EQ(order, shuffledIndices(10, 42));
  EXPECT_NE(order, shuffledIndices(10, 43));
}

namespace {

std::string promptsFile(int n, const std::function<Json(int)> &extra) {
  std::vector<Json> rows;
  for (int i = 0; i < n; ++i) {
    Json row = extra(i);
    row["prompt"] = std::to_string(i);
    rows.push_back(row);
  }
  return writeFile("rows.jsonl", jsonLines(rows));
}

std::set<std::string> prompts(const std::vector<Example> &examples) {
  std::set<std::string> out;
  for (const Example &ex : examples)
    out.insert(ex.prompt);
  return out;
}

} // namespace

TEST(Splits, PercentSplitsAreDeterministicAndSized) {
  SourceSpec spec = specFor(DataKind::prompts, promptsFile(101, [](int) { return Json::object(); }));
  spec.splits = {{"eval", SplitKind::percent, 0.1}, {"test", SplitKind::percent, 0.25}};
  spec.shuffleSeed = 5;
  LoadedSource a = loadSource(spec), b = loadSource(spec);
  EXPECT_EQ(a.splits.at("eval").size(), 10u); // round(10.1)
  EXPECT_EQ(a.splits.at("test").size(), 25u); // round(25.25)
  EXPECT_EQ(train(a).size(), 66u);
  EXPECT_EQ(prompts(a.splits.at("eval")), prompts(b.splits.at("eval")));
  EXPECT_EQ(prompts(a.splits.at("test")), prompts(b.splits.at("test")));
  std::set<std::string> all;
  for (const auto &[name, examples] : a.splits)
    for (const std::string &p : prompts(examples))
      EXPECT_TRUE(all.insert(p).second) << p << " is in two splits";
  EXPECT_EQ(all.size(), 101u);
  // Rows keep their file order within a split.
  for (size_t i = 1; i < train(a).size(); ++i)
    EXPECT_LT(train(a)[i - 1].line, train(a)[i].line);
  spec.shuffleSeed = 6;
  EXPECT_NE(prompts(loadSource(spec).splits.at("eval")), prompts(a.splits.at("eval")));
}

TEST(Splits, ExplicitTrainTakesTheRest) {
  SourceSpec spec = specFor(DataKind::prompts, promptsFile(9, [](int) { return Json::object(); }));
  spec.splits = {{"train", SplitKind::percent, 0.7}, {"eval", SplitKind::percent, 0.3}};
  LoadedSource loaded = loadSource(spec);
  EXPECT_EQ(loaded.splits.at("eval").size(), 3u); // round(2.7)
  EXPECT_EQ(train(loaded).size(), 6u);
}

TEST(Splits, GroupsNeverStraddle) {
  // 40 users with 1..5 rows each.
  SourceSpec spec = specFor(DataKind::prompts, promptsFile(120, [](int i) { return Json{{"uid", "u" + std::to_string(i % 40)}, {"ann", i % 7}}; }));
  spec.columns = {{"user", "uid"}, {"annotator", "ann"}};
  spec.splits = {{"test", SplitKind::percent, 0.2, "user"}};
  for (uint64_t seed : {0, 1, 2}) {
    spec.shuffleSeed = seed;
    LoadedSource loaded = loadSource(spec);
    std::set<std::string> testUsers, trainUsers;
    for (const Example &ex : loaded.splits.at("test"))
      testUsers.insert(ex.user);
    for (const Example &ex : train(loaded))
      trainUsers.insert(ex.user);
    for (const std::string &u : testUsers)
      EXPECT_EQ(trainUsers.count(u), 0u) << u;
    EXPECT_GE(loaded.splits.at("test").size(), 24u); // whole groups until the target, 3 rows each
    EXPECT_LT(loaded.splits.at("test").size(), 27u);
  }
  spec.splits = {{"test", SplitKind::percent, 0.3, "annotator"}};
  LoadedSource byAnnotator = loadSource(spec);
  std::set<std::string> testAnnotators;
  for (const Example &ex : byAnnotator.splits.at("test"))
    testAnnotators.insert(ex.annotator);
  for (const Example &ex : train(byAnnotator))
    EXPECT_EQ(testAnnotators.count(ex.annotator), 0u);
  spec.splits = {{"test", SplitKind::percent, 0.3, "group"}};
  EXPECT_EQ(errorOf([&] { loadSource(spec); }), "split 'test' is grouped by group, but prompts data 'd' declares no 'group' column");
}

TEST(Splits, WhereComparesStringsNumbersAndBools) {
  SourceSpec spec = specFor(DataKind::prompts, promptsFile(8, [](int i) {
    Json row{{"seen", i % 2 == 0}, {"n", i < 4 ? Json(i) : Json(double(i))}, {"tag", i == 3 ? "x" : "y"}};
    if (i == 7)
      row.erase("seen");
    return row;
  }));
  spec.splits = {{"x", SplitKind::where, 0, "", "tag", "\"x\""},
                 {"unseen", SplitKind::where, 0, "", "seen", "false"},
                 {"six", SplitKind::where, 0, "", "n", "6"}};
  LoadedSource loaded = loadSource(spec);
  EXPECT_EQ(prompts(loaded.splits.at("x")), (std::set<std::string>{"3"}));        // before 'unseen' takes 3
  EXPECT_EQ(prompts(loaded.splits.at("unseen")), (std::set<std::string>{"1", "5"})); // 7 has no 'seen'
  EXPECT_EQ(prompts(loaded.splits.at("six")), (std::set<std::string>{"6"}));      // 6.0 equals 6
  EXPECT_EQ(prompts(train(loaded)), (std::set<std::string>{"0", "2", "4", "7"}));
  EXPECT_FALSE(whereMatches({{"a", "1"}}, "a", 1));
  EXPECT_FALSE(whereMatches({{"a", 1}}, "a", true));
  EXPECT_TRUE(whereMatches({{"a", 18446744073709551615ull}}, "a", 18446744073709551615ull));
  EXPECT_FALSE(whereMatches({{"a", -1}}, "a", 18446744073709551615ull));
}

TEST(Splits, WhereThenPercentOfTheRest) {
  SourceSpec spec = specFor(DataKind::prompts, promptsFile(30, [](int i) { return Json{{"seen", i >= 10}}; }));
  spec.splits = {{"unseen", SplitKind::where, 0, "", "seen", "false"}, {"eval", SplitKind::percent, 0.1}};
  LoadedSource loaded = loadSource(spec);
  EXPECT_EQ(loaded.splits.at("unseen").size(), 10u);
  EXPECT_EQ(loaded.splits.at("eval").size(), 2u); // 10% of the 20 seen rows
  EXPECT_EQ(train(loaded).size(), 18u);
}

TEST(Splits, FileSplitReadsAnotherFileOfTheSameFormat) {
  SourceSpec spec = specFor(DataKind::pairwise, writeFile("main.jsonl", jsonLines({{{"prompt", "m"}, {"chosen", "c"}, {"rejected", "r"}}})));
  std::string extra = writeFile("extra.json", Json::array({{{"prompt", "e1"}, {"chosen", "c"}, {"rejected", "r"}},
                                                           {{"prompt", "e2"}, {"chosen", 1}, {"rejected", "r"}}}).dump());
  spec.splits = {{"extra", SplitKind::file, 0, "", "", "", extra}};
  EXPECT_EQ(errorOf([&] { loadSource(spec); }),
            extra + ":1: field 'chosen': expected a string or a list of messages, got number");
  spec.onError = OnError::skip;
  LoadedSource loaded = loadSource(spec);
  EXPECT_EQ(prompts(train(loaded)), (std::set<std::string>{"m"}));
  ASSERT_EQ(loaded.splits.at("extra").size(), 1u);
  EXPECT_EQ(loaded.splits.at("extra")[0].prompt, "e1");
  EXPECT_EQ(loaded.splits.at("extra")[0].file, extra);
  EXPECT_EQ(loaded.rowsRead, 3);
  EXPECT_EQ(loaded.skips.skipped, 1);
}

TEST(Splits, DomainPairsSplitByQueryBeforeExpansion) {
  Json rows = Json::array();
  for (int i = 0; i < 50; ++i)
    rows.push_back({{"query", "q" + std::to_string(i)}, {"responses", {{"a", "x"}, {"b", "y"}, {"c", "z"}}}});
  SourceSpec spec = specFor(DataKind::domain_pairs, writeFile("d.json", rows.dump()));
  spec.preferred = "a";
  spec.splits = {{"eval", SplitKind::percent, 0.2}};
  LoadedSource loaded = loadSource(spec);
  EXPECT_EQ(loaded.splits.at("eval").size(), 20u); // 10 queries × 2 pairs
  EXPECT_EQ(train(loaded).size(), 80u);
  std::set<std::string> evalQueries = prompts(loaded.splits.at("eval"));
  EXPECT_EQ(evalQueries.size(), 10u);
  for (const Example &ex : train(loaded))
    EXPECT_EQ(evalQueries.count(ex.prompt), 0u);
}

//===----------------------------------------------------------------------===//
// The DSP release (../shared/data/dsp), when present
//===----------------------------------------------------------------------===//

namespace {

std::string dspDir() {
  if (const char *dir = std::getenv("ALIGN_DSP_DIR"))
    return dir;
  std::string source = __FILE__; // .../tests/unit/runtime/DataTest.cpp → the checkout, then ../shared/data/dsp
  for (int up = 0; up < 4; ++up)
    source = source.substr(0, source.rfind('/'));
  return source + "/../shared/data/dsp";
}

} // namespace

TEST(DspData, ListwiseFilesLoad) {
  struct Expected {
    const char *file;
    size_t items;
    const char *marker;
  };
  for (const Expected &e : {Expected{"helpful.json", 2052, "\n\nAssistant:"}, Expected{"harmless.json", 2012, "\n\nAssistant:"},
                            Expected{"webgpt.json", 781, "## Assistant:"}}) {
    std::string path = dspDir() + "/" + e.file;
    if (!pathExists(path))
      GTEST_SKIP() << path << " is absent";
    LoadedSource loaded = loadSource(specFor(DataKind::scored, path));
    const auto &examples = train(loaded);
    ASSERT_EQ(examples.size(), e.items) << e.file;
    size_t withPrompt = 0;
    for (const Example &ex : examples) {
      ASSERT_EQ(ex.responses.size(), 2u);
      ASSERT_EQ(ex.scores.size(), 2u);
      withPrompt += !ex.prompt.empty();
      if (!ex.prompt.empty()) {
        std::string tail = ex.prompt.substr(ex.prompt.size() - std::string(e.marker).size());
        EXPECT_EQ(tail, e.marker);
      }
    }
    EXPECT_GT(withPrompt, e.items * 9 / 10) << e.file; // nearly every pair shares its dialogue
  }
}

TEST(DspData, DomainFileLoads) {
  std::string path = dspDir() + "/domain_specific_preference.json";
  if (!pathExists(path))
    GTEST_SKIP() << path << " is absent";
  SourceSpec spec = specFor(DataKind::domain_pairs, path);
  spec.preferred = "academy";
  spec.templateText = "## Human:\n{prompt}\n\n## Assistant:\n{response}";
  spec.splits = {{"eval", SplitKind::percent, 0.1}};
  LoadedSource loaded = loadSource(spec);
  EXPECT_EQ(loaded.rowsRead, 561);
  EXPECT_EQ(loaded.splits.at("eval").size(), 56u * 4);
  EXPECT_EQ(train(loaded).size(), 505u * 4);
  std::map<std::string, int> versus;
  for (const Example &ex : train(loaded))
    ++versus[ex.versus];
  EXPECT_EQ(versus, (std::map<std::string, int>{{"business", 505}, {"entertainment", 505}, {"literature", 505}, {"normal", 505}}));
}
