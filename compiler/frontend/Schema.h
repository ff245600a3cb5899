//===- Schema.h - What every constructor and block accepts -----*- C++ -*-===//
//
// The one table of the language's vocabulary: every constructor (`llama`, `pairwise`, `dpo`, `adamw`, ...),
// every block (`schedule`, `loop em`, eval metrics), their parameters with types, ranges and defaults, and
// the extra rules of objectives (which data they read, whether they need a reference, user ids, ...).
// Sema checks recipes against it; `alignc --print-schema` renders it as the reference table in docs/.
//
//===----------------------------------------------------------------------===//
#pragma once

#include <optional>
#include <ostream>
#include <string>
#include <vector>

namespace align::schema {

enum class Ty {
  Int,      // integer number
  Number,   // any number
  Percent,  // 10%
  Angle,    // 45deg
  Duration, // 30min
  Size,     // 8GiB (bytes)
  Interval, // an Int (steps) or a Duration
  String,   // "text"
  Scalar,   // a string, number or bool
  Bool,     // true | false
  Enum,     // one of `detail` ("a|b|c"), written as a name or a string
  Name,     // a new name (e.g. an objective of a regression reward); not resolved
  Ref,      // a declared name of one of the kinds in `detail` ("model|stage"); "data" allows `name.split`
  Call,     // a constructor of family `detail`; a bare name means a call with no arguments
  List,     // a list of `element`
};

struct Param {
  std::string name;
  Ty type = Ty::Number;
  std::string detail;                       // Enum values, Ref kinds or Call family (see Ty)
  Ty element = Ty::Number;                  // List element type
  std::optional<std::string> defaultValue;  // source text of the default, parsed like a recipe value
  std::optional<std::string> implicitDefault; // applied by the runtime, not written into the recipe (data columns)
  bool required = false;
  std::optional<double> min, max;           // numeric range (of the value or of each list element)
  bool minOpen = false, maxOpen = false;    // exclusive bounds
  std::optional<unsigned> length;           // exact list length
  std::string doc;

  // Chainable setters so the table below reads like a declaration list.
  Param &def(std::string text) { defaultValue = std::move(text); return *this; }
  Param &req() { required = true; return *this; }
  Param &gt(double v) { min = v; minOpen = true; return *this; }
  Param &ge(double v) { min = v; minOpen = false; return *this; }
  Param &lt(double v) { max = v; maxOpen = true; return *this; }
  Param &le(double v) { max = v; maxOpen = false; return *this; }
  Param &len(unsigned n) { length = n; return *this; }
  Param &d(std::string text) { doc = std::move(text); return *this; }
};

/// Where a loss term gets its inputs and what it trains.
struct ObjectiveRule {
  std::vector<std::string> sources; // data constructors it accepts
  bool needsReference = false;      // a frozen reference model in the stage
  bool needsUsers = false;          // a users model on the policy and a `user` column in the data
  bool needsAnnotators = false;     // an `annotator` (or `user`) column in the data
  bool needsScores = false;         // per-response scores (imitation threshold)
  enum Target { LanguageModel, Reward, Any } target = Any;
};

struct Constructor {
  std::string family; // "model", "data", "objective", "optimizer", "schedule", "loop", "metric", ...
  std::string name;
  std::vector<Param> params;
  std::string doc;
  std::optional<ObjectiveRule> objective; // set for family "objective"
  std::vector<std::string> byKeys;        // family "metric": what `by` may name
  bool takesBlock = false;                // declarations whose fields may also be given in a `{ }` block
};

/// The whole table, built once.
const std::vector<Constructor> &constructors();
/// Finds `name` in `family`, or null.
const Constructor *find(const std::string &family, const std::string &name);
/// The parameter `param` of `family`/`name`, or null: the range a trainer's `--set` of it must respect.
const Param *findParam(const std::string &family, const std::string &name, const std::string &param);
/// All constructor names of `family`, for "did you mean" hints and messages.
std::vector<std::string> names(const std::string &family);
/// "a model", "an adapter", "a users model", "an lr_schedule": a kind or family name with its article.
std::string withArticle(const std::string &word);
/// Human words for a parameter type ("a number > 0", "one of: last, eos, mean, max").
std::string describe(const Param &param);
/// The numeric range of a parameter in words ("> 0", "[0, 1)"), or empty.
std::string bounds(const Param &param);

/// Writes the table as Markdown: one section per family, one row per parameter.
void printMarkdown(std::ostream &os);

} // namespace align::schema
