//===- FuzzDataRows.cpp - libFuzzer target: the rows of a typed data source ===//
//
// A data file as every `data` declaration reads it (runtime/src/data/JsonRows.h, Examples.h): the bytes are
// cut into rows (JSON lines or a JSON list), each row becomes the Examples of its source kind, and the rows
// are split (where / by-user percent rules, runtime/src/data/Splits.h). The first two bytes choose the
// source: the kind (every kind the registry defines), the file form, a template, the id, weight, system and
// user-text columns, renamed columns, and whether row errors are collected (on_error: skip) or thrown.
//
//===----------------------------------------------------------------------===//

#include "FuzzHarness.h"

#include "data/Examples.h"
#include "data/JsonRows.h"
#include "data/Splits.h"

#include <cmath>

using namespace align::rt;
using namespace align::rt::data;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 2)
    return 0;
  const uint8_t a = data[0], b = data[1];
  const std::string text = align::fuzz::bytes(data + 2, size - 2);
  static const char *kinds[] = {"pairwise", "ranking", "scored", "rated", "sft", "prompts", "domain_pairs"};
  const bool list = a & 0x08;
  const std::string file = list ? "fuzz-rows.json" : "fuzz-rows.jsonl";

  SourceSpec spec;
  spec.name = "fuzz";
  spec.kind = parseSourceKind(kinds[(a & 0x07) % 7]);
  if (a & 0x10)
    spec.templateText = (b & 0x01) ? "## Human:\n{prompt}\n\n## Assistant:\n{response}</s>" : "{system}|{prompt}|{response}";
  if (a & 0x20) {
    spec.columns["user"] = "user_id";
    spec.columns["weight"] = "weight";
    spec.columns["system"] = "system";
    spec.columns["user_text"] = "info";
    spec.columns["domain"] = "domain";
  }
  if (b & 0x02) { // renamed columns, and sft's prompt + response form
    spec.columns["prompt"] = "question";
    spec.columns["response"] = "answer";
    spec.columns["chosen"] = "good";
  }
  spec.ratings = {"helpfulness", "verbosity"};
  if (b & 0x04)
    spec.ratings.resize(1);
  spec.preferred = (b & 0x08) ? "math" : "code";
  if (b & 0x10)
    spec.against = {"chat", "math"};
  if (spec.kind == DataKind::domain_pairs && spec.preferred == "math" && !spec.against.empty())
    spec.against = {"chat"};
  Template tmpl = spec.templateText ? Template::parse(*spec.templateText) : Template::plain();

  const bool collect = a & 0x40;
  std::vector<RowError> rowErrors;
  std::vector<Row> rows;
  if (!align::fuzz::parsedOrRefused(
          file, [&] { rows = parseJsonRows(text, file, list, (a & 0x80) ? 3 : -1, collect ? &rowErrors : nullptr); }))
    return 0;
  for (const RowError &e : rowErrors)
    align::fuzz::checkRefusal(e.message, file + ":" + std::to_string(e.line));

  std::vector<const Row *> kept;
  std::vector<std::vector<Example>> examples;
  for (const Row &row : rows) {
    std::vector<Example> out;
    // A malformed row is refused as FILE:LINE: field 'COLUMN'...
    if (!align::fuzz::parsedOrRefused(file + ":" + std::to_string(row.line),
                                      [&] { out = rowExamples(spec, tmpl, row); }))
      continue;
    for (const Example &ex : out)
      if (ex.responses.size() != ex.scores.size() && !ex.scores.empty())
        std::abort(); // scores, when there are any, are one per response
    kept.push_back(&row);
    examples.push_back(std::move(out));
  }

  std::vector<SplitSpec> splits(2);
  splits[0].name = "test";
  splits[0].kind = SplitKind::where;
  splits[0].column = "split";
  splits[0].equalsJson = (b & 0x20) ? "\"test\"" : "3";
  splits[1].name = "eval";
  splits[1].fraction = (b & 0x40) ? 0.5 : 0.1;
  if (spec.columns.count("user"))
    splits[1].by = "user";
  std::vector<int> assigned = assignSplits(
      static_cast<int64_t>(kept.size()), splits, b,
      [&](int64_t i) -> const nlohmann::json & { return kept[i]->value; },
      [&](int64_t i, const std::string &) { return examples[i].empty() ? std::string() : examples[i].front().user; });
  if (assigned.size() != kept.size())
    std::abort();
  return 0;
}
