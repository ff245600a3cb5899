//===- Examples.h - Typed data sources as normalised examples ---*- C++ -*-===//
//
// A recipe's `data` declaration (docs/language.md §data, docs/schema.md §data) becomes a SourceSpec; its
// file becomes Examples, one shape for every source kind, so objectives read `responses`/`scores` whatever
// the file looked like. The loader implements the rules stated with each kind below; every malformed row is
// either an Error naming FILE:LINE and the column as written in the file, or (on_error: skip) counted in the
// SkipReport: never dropped silently.
//
// Kinds:
//  pairwise     {prompt, chosen, rejected}. Each value is a string or a TRL conversational list of messages
//               [{"role", "content"}], which becomes "role: content" lines joined by "\n". Without a template
//               the response is appended to the prompt (a message-list prompt gets a "\n" before it); with
//               one, the template renders those strings. A row without the prompt column has TRL's implicit
//               prompt when the recipe names no `prompt` column: "" for strings, the leading messages that
//               chosen and rejected share for message lists. responses {chosen, rejected}, scores {1, 0}.
//  ranking      {prompt, responses, order}: order lists indices into responses, best first, at least two of
//               them (a permutation or a prefix of one); responses not in it are not used. responses are
//               the ordered ones, best first; scores k-1 .. 0 for k ordered responses.
//  scored       {text: [...], score: [...]} (DSP): whole dialogues, at least two, as many scores. The prompt
//               is their longest common prefix cut back to just after the last "\n\nAssistant:" or
//               "## Assistant:" inside it ("" if neither occurs); the responses are the rest of each text, in
//               file order, with scores as given. No template is applied: the texts are already rendered.
//  rated        {prompt, response, <one column per rating>}: a rating is a number, or null/missing (NaN:
//               masked); a row needs at least one number.
//  sft          `text` (the whole text is the response, prompt ""; no template), or `prompt` + `response`
//               when the recipe names both (templated; the loss is on the response).
//  prompts      {prompt}: prompt text only (the template's part before {response}); no responses.
//  domain_pairs {query, responses: {domain: text}} (DSP raw): one Example per domain in `against` (default:
//               every other domain of the row, sorted), prompt = query, responses {preferred's, other's},
//               scores {1, 0}, domain = preferred (or the `domain` column when the recipe names one),
//               versus = the other domain. Split by row before expansion.
// Every kind: `user`, `annotator`, `domain`, `group`, `true_type` columns (named by the recipe only) hold a
// string or an integer id; `weight` a finite number; `system` (a runtime extension) a string for the template's {system}.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "align/rt/Trainer.h"

#include "data/JsonRows.h"
#include "data/Splits.h"
#include "data/Template.h"

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace align::rt::data {

/// A data source's kind is the registry's DataKind (align/rt/Trainer.h).
using SourceKind = DataKind;

/// "pairwise", "ranking", "scored", "rated", "sft", "prompts", "domain_pairs"; anything else is an Error.
SourceKind parseSourceKind(const std::string &name);
std::string sourceKindName(SourceKind kind);

/// A data source as the recipe declares it (the public DataSpec: kind, columns the recipe names, template,
/// on_error, limit, shuffle seed, split rules), with its path and its file splits' paths already resolved
/// against --data-root, and the recipe's name for it (for messages).
struct SourceSpec : DataSpec {
  std::string name;
};

struct Example {
  std::string prompt;                 ///< rendered prompt text (template applied)
  std::vector<std::string> responses; ///< rendered response texts, best first where the source has an order
  std::vector<double> scores;         ///< one per response; empty for sft/rated/prompts
  std::vector<double> ratings;        ///< rated: one per objective, NaN where missing/null
  std::string user, annotator, domain, group; ///< "" when the recipe names no such column
  std::string trueType; ///< the annotator's true latent type (`true_type`), for evaluation only; "" if none
  std::string versus;                 ///< domain_pairs: the domain of the other (rejected) response
  /// The user's textual information (a users model's `text:` column, PRISM's "explicit" user information);
  /// "" when the recipe names none or the row has none (missing or null).
  std::string userText;
  double weight = 1.0;
  std::string file;
  int64_t line = 0;
};

struct SkipReport {
  int64_t skipped = 0;
  std::vector<std::string> reasons; ///< the first 5 messages
};

struct LoadedSource {
  std::map<std::string, std::vector<Example>> splits; ///< always has "train", and every declared split
  SkipReport skips;
  int64_t rowsRead = 0; ///< rows read from all files, malformed ones included
};

/// The column a field of `spec` reads: the recipe's, else the kind's default; "" when it has none.
std::string columnFor(const SourceSpec &spec, const std::string &field);

/// The examples of one row (domain_pairs: several); a malformed row throws the Error loadSource reports.
/// `tmpl` is the parsed spec.templateText (Template::plain() when there is none).
std::vector<Example> rowExamples(const SourceSpec &spec, const Template &tmpl, const Row &row);

/// Reads spec.path (and the files of `file` splits), converts, skips or rejects malformed rows, and splits.
LoadedSource loadSource(const SourceSpec &spec);

} // namespace align::rt::data
