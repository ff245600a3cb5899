//===- Examples.cpp - Typed data sources as normalised examples -----------===//

#include "data/Examples.h"

#include "align/registry/Registry.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <set>

namespace align::rt::data {

using Json = nlohmann::json;

DataKind parseSourceKind(const std::string &name) {
  DataKind kind = DataKind::pairwise;
  if (!parse(name, kind))
    throw Error("unknown data source kind '" + name +
                "'; expected pairwise, ranking, scored, rated, sft, prompts or domain_pairs");
  return kind;
}

std::string sourceKindName(DataKind kind) { return spelling(kind); }

std::string columnFor(const SourceSpec &spec, const std::string &field) {
  auto it = spec.columns.find(field);
  if (it != spec.columns.end())
    return it->second;
  // The kind's default column (registry/include/align/registry/DataColumns.def, also docs/schema.md §data).
  return registry::defaultColumn(spelling(spec.kind), field);
}

namespace {

/// Reads the fields of one row; every complaint is `FILE:LINE: field 'COLUMN'...: ...`.
class RowReader {
public:
  explicit RowReader(const Row &row) : row_(row) {}

  [[noreturn]] void fail(const std::string &message) const {
    throw Error(row_.file + ":" + std::to_string(row_.line) + ": " + message);
  }
  /// `field 'COLUMN'SUFFIX: MESSAGE`, where SUFFIX locates a part of the value, e.g. "[1]" or "[0].role".
  [[noreturn]] void failAt(const std::string &column, const std::string &suffix, const std::string &message) const {
    fail("field '" + column + "'" + suffix + ": " + message);
  }
  [[noreturn]] void failField(const std::string &column, const std::string &message) const {
    failAt(column, "", message);
  }

  const Json *find(const std::string &column) const {
    auto it = row_.value.find(column);
    return it == row_.value.end() ? nullptr : &*it;
  }

  const Json &require(const std::string &column) const {
    if (const Json *v = find(column))
      return *v;
    std::string has;
    size_t shown = 0;
    for (const auto &item : row_.value.items()) {
      if (shown++ == 8) {
        has += ", ...";
        break;
      }
      has += (has.empty() ? "" : ", ") + item.key();
    }
    failField(column, "missing (the row has: " + (has.empty() ? std::string("nothing") : has) + ")");
  }

  std::string string(const std::string &column) const {
    const Json &v = require(column);
    if (!v.is_string())
      failField(column, "expected a string, got " + jsonTypeName(v));
    return v.get<std::string>();
  }

  /// A string, or a TRL conversational list of messages rendered as "role: content" lines.
  std::string textOrMessages(const std::string &column) const { return textOrMessages(require(column), column); }

  std::string textOrMessages(const Json &v, const std::string &column, const std::string &suffix = "") const {
    if (v.is_string())
      return v.get<std::string>();
    if (v.is_array() && !v.empty() && v[0].is_object())
      return messagesText(v, 0, v.size(), column, suffix);
    failAt(column, suffix, "expected a string or a list of messages, got " +
                               (v.is_array() && v.empty() ? std::string("an empty list") : jsonTypeName(v)));
  }

  void checkMessages(const Json &list, const std::string &column, const std::string &suffix = "") const {
    for (size_t i = 0; i < list.size(); ++i) {
      const Json &m = list[i];
      std::string at = suffix + "[" + std::to_string(i) + "]";
      if (!m.is_object())
        failAt(column, at, "expected a message {\"role\", \"content\"}, got " + jsonTypeName(m));
      for (const char *key : {"role", "content"}) {
        auto it = m.find(key);
        if (it == m.end())
          failAt(column, at + "." + key, "missing");
        if (!it->is_string())
          failAt(column, at + "." + key, "expected a string, got " + jsonTypeName(*it));
      }
    }
  }

  std::string messagesText(const Json &list, size_t from, size_t to, const std::string &column,
                           const std::string &suffix = "") const {
    checkMessages(list, column, suffix);
    std::string text;
    for (size_t i = from; i < to; ++i)
      text += (i == from ? "" : "\n") + list[i]["role"].get<std::string>() + ": " + list[i]["content"].get<std::string>();
    return text;
  }

  /// An id column: a string or an integer, as text.
  std::string id(const std::string &column) const {
    const Json &v = require(column);
    if (v.is_string())
      return v.get<std::string>();
    if (v.is_number_integer())
      return v.dump();
    failField(column, "expected a string or an integer id, got " + jsonTypeName(v));
  }

  double number(const Json &v, const std::string &field) const {
    if (!v.is_number())
      failField(field, "expected a number, got " + jsonTypeName(v));
    return v.get<double>();
  }

  const Row &row() const { return row_; }

private:
  const Row &row_;
};

/// The prompt/response strings of a row before the template, plus whether the prompt came from messages
/// (then, with no template, a newline separates it from the response).
struct RawPrompt {
  std::string text;
  bool fromMessages = false;
};

RawPrompt rawPrompt(const RowReader &r, const std::string &column) {
  const Json &v = r.require(column);
  return {r.textOrMessages(v, column), v.is_array()};
}

class ExampleBuilder {
public:
  ExampleBuilder(const SourceSpec &spec, const Template &tmpl, const Row &row)
      : spec_(spec), tmpl_(tmpl), r_(row), hasTemplate_(spec.templateText.has_value()) {}

  std::vector<Example> build() {
    base_.file = r_.row().file;
    base_.line = r_.row().line;
    readCommonColumns();
    switch (spec_.kind) {
    case DataKind::pairwise:
      return {pairwise()};
    case DataKind::ranking:
      return {ranking()};
    case DataKind::scored:
      return {scored()};
    case DataKind::rated:
      return {rated()};
    case DataKind::sft:
      return {sft()};
    case DataKind::prompts:
      return {prompts()};
    case DataKind::domain_pairs:
      return domainPairs();
    }
    return {};
  }

private:
  std::string optionalColumn(const std::string &field) const {
    auto it = spec_.columns.find(field);
    return it == spec_.columns.end() ? "" : it->second;
  }

  void readCommonColumns() {
    std::string c;
    if (!(c = optionalColumn("user")).empty())
      base_.user = r_.id(c);
    if (!(c = optionalColumn("annotator")).empty())
      base_.annotator = r_.id(c);
    if (!(c = optionalColumn("domain")).empty())
      base_.domain = r_.id(c);
    if (!(c = optionalColumn("group")).empty())
      base_.group = r_.id(c);
    if (!(c = optionalColumn("true_type")).empty())
      base_.trueType = r_.id(c);
    if (!(c = optionalColumn("user_text")).empty()) {
      const Json *v = r_.find(c);
      if (v && !v->is_null())
        base_.userText = r_.string(c);
    }
    if (!(c = optionalColumn("weight")).empty()) {
      base_.weight = r_.number(r_.require(c), c);
      if (base_.weight < 0)
        r_.failField(c, "expected a weight >= 0, got " + r_.require(c).dump());
    }
    if (!(c = optionalColumn("system")).empty())
      system_ = r_.string(c);
  }

  /// Renders prompt + each response; fills ex.prompt and ex.responses.
  void render(Example &ex, RawPrompt prompt, const std::vector<std::string> &responses) {
    if (!hasTemplate_ && prompt.fromMessages && !prompt.text.empty())
      prompt.text += "\n";
    ex.prompt = tmpl_.renderPrompt(prompt.text, system_);
    for (const std::string &response : responses)
      ex.responses.push_back(tmpl_.render(prompt.text, response, system_).responseText);
  }

  Example pairwise() {
    Example ex = base_;
    std::string chosenCol = columnFor(spec_, "chosen"), rejectedCol = columnFor(spec_, "rejected");
    std::string promptCol = columnFor(spec_, "prompt");
    const Json &chosen = r_.require(chosenCol);
    const Json &rejected = r_.require(rejectedCol);
    RawPrompt prompt;
    std::string chosenText, rejectedText;
    bool implicitPrompt = !r_.find(promptCol) && !spec_.columns.count("prompt");
    if (implicitPrompt && chosen.is_array() && rejected.is_array() && !chosen.empty() && !rejected.empty()) {
      // TRL's implicit prompt: the leading messages both conversations share; at least one message each
      // stays a response.
      r_.checkMessages(chosen, chosenCol);
      r_.checkMessages(rejected, rejectedCol);
      size_t shared = 0;
      while (shared + 1 < chosen.size() && shared + 1 < rejected.size() && chosen[shared] == rejected[shared])
        ++shared;
      prompt = {r_.messagesText(chosen, 0, shared, chosenCol), shared > 0};
      chosenText = r_.messagesText(chosen, shared, chosen.size(), chosenCol);
      rejectedText = r_.messagesText(rejected, shared, rejected.size(), rejectedCol);
    } else {
      if (!implicitPrompt)
        prompt = rawPrompt(r_, promptCol);
      chosenText = r_.textOrMessages(chosen, chosenCol);
      rejectedText = r_.textOrMessages(rejected, rejectedCol);
    }
    render(ex, prompt, {chosenText, rejectedText});
    ex.scores = {1.0, 0.0};
    return ex;
  }

  Example ranking() {
    Example ex = base_;
    std::string responsesCol = columnFor(spec_, "responses"), orderCol = columnFor(spec_, "order");
    RawPrompt prompt = rawPrompt(r_, columnFor(spec_, "prompt"));
    const Json &responses = r_.require(responsesCol);
    if (!responses.is_array())
      r_.failField(responsesCol, "expected a list of responses, got " + jsonTypeName(responses));
    if (responses.empty())
      r_.failField(responsesCol, "expected a list of responses, got an empty list");
    const Json &order = r_.require(orderCol);
    if (!order.is_array())
      r_.failField(orderCol, "expected a list of indices into '" + responsesCol + "', got " + jsonTypeName(order));
    if (order.size() < 2)
      r_.failField(orderCol, "expected at least 2 indices (a ranking compares responses), got " +
                                 std::to_string(order.size()));
    std::set<int64_t> seen;
    std::vector<std::string> ordered;
    for (size_t k = 0; k < order.size(); ++k) {
      std::string at = "[" + std::to_string(k) + "]";
      if (!order[k].is_number_integer())
        r_.failAt(orderCol, at, "expected an integer index, got " + jsonTypeName(order[k]));
      int64_t index = order[k].get<int64_t>();
      if (index < 0 || index >= static_cast<int64_t>(responses.size()))
        r_.failAt(orderCol, at, "index " + std::to_string(index) + " is out of range for " +
                                    std::to_string(responses.size()) + " responses");
      if (!seen.insert(index).second)
        r_.failAt(orderCol, at, "index " + std::to_string(index) + " appears twice");
      ordered.push_back(r_.textOrMessages(responses[index], responsesCol, "[" + std::to_string(index) + "]"));
    }
    render(ex, prompt, ordered);
    for (size_t k = 0; k < ordered.size(); ++k)
      ex.scores.push_back(static_cast<double>(ordered.size() - 1 - k));
    return ex;
  }

  Example scored() {
    Example ex = base_;
    std::string textsCol = columnFor(spec_, "texts"), scoresCol = columnFor(spec_, "scores");
    const Json &texts = r_.require(textsCol);
    if (!texts.is_array())
      r_.failField(textsCol, "expected a list of texts, got " + jsonTypeName(texts));
    if (texts.size() < 2)
      r_.failField(textsCol, "expected at least 2 texts (a scored row compares them), got " +
                                 std::to_string(texts.size()));
    const Json &scores = r_.require(scoresCol);
    if (!scores.is_array())
      r_.failField(scoresCol, "expected a list of numbers, got " + jsonTypeName(scores));
    if (scores.size() != texts.size())
      r_.failField(scoresCol, "has " + std::to_string(scores.size()) + " scores for " + std::to_string(texts.size()) +
                                  " texts in '" + textsCol + "'");
    std::vector<std::string> whole;
    for (size_t k = 0; k < texts.size(); ++k) {
      if (!texts[k].is_string())
        r_.failAt(textsCol, "[" + std::to_string(k) + "]", "expected a string, got " + jsonTypeName(texts[k]));
      whole.push_back(texts[k].get<std::string>());
      if (!scores[k].is_number())
        r_.failAt(scoresCol, "[" + std::to_string(k) + "]", "expected a number, got " + jsonTypeName(scores[k]));
      ex.scores.push_back(scores[k].get<double>());
    }
    size_t common = whole[0].size();
    for (const std::string &t : whole)
      common = std::min(common, static_cast<size_t>(std::mismatch(t.begin(), t.begin() + std::min(t.size(), common),
                                                                  whole[0].begin())
                                                        .first -
                                                    t.begin()));
    // Cut back to just after the last assistant turn marker inside the shared prefix: what the texts share
    // beyond it is already part of the responses (e.g. a common first word).
    std::string shared = whole[0].substr(0, common);
    size_t cut = 0;
    for (const char *marker : {"\n\nAssistant:", "## Assistant:"}) {
      size_t at = shared.rfind(marker);
      if (at != std::string::npos)
        cut = std::max(cut, at + std::char_traits<char>::length(marker));
    }
    ex.prompt = whole[0].substr(0, cut);
    for (const std::string &t : whole)
      ex.responses.push_back(t.substr(cut));
    return ex;
  }

  Example rated() {
    Example ex = base_;
    RawPrompt prompt = rawPrompt(r_, columnFor(spec_, "prompt"));
    render(ex, prompt, {r_.textOrMessages(columnFor(spec_, "response"))});
    bool any = false;
    for (const std::string &name : spec_.ratings) {
      const Json *v = r_.find(name);
      if (!v || v->is_null()) {
        ex.ratings.push_back(std::numeric_limits<double>::quiet_NaN());
        continue;
      }
      if (!v->is_number())
        r_.failField(name, "expected a number or null, got " + jsonTypeName(*v));
      ex.ratings.push_back(v->get<double>());
      any = true;
    }
    if (!any) {
      std::string names;
      for (const std::string &name : spec_.ratings)
        names += (names.empty() ? "'" : ", '") + name + "'";
      r_.fail("no rating: " + names + " " + (spec_.ratings.size() == 1 ? "is" : "are all") + " null or missing");
    }
    return ex;
  }

  Example sft() {
    Example ex = base_;
    if (spec_.columns.count("prompt") && spec_.columns.count("response")) {
      RawPrompt prompt = rawPrompt(r_, spec_.columns.at("prompt"));
      render(ex, prompt, {r_.textOrMessages(spec_.columns.at("response"))});
    } else {
      ex.responses.push_back(r_.textOrMessages(columnFor(spec_, "text")));
    }
    return ex;
  }

  Example prompts() {
    Example ex = base_;
    RawPrompt prompt = rawPrompt(r_, columnFor(spec_, "prompt"));
    render(ex, prompt, {});
    return ex;
  }

  std::vector<Example> domainPairs() {
    std::string responsesCol = columnFor(spec_, "responses");
    RawPrompt query = {r_.string(columnFor(spec_, "query")), false};
    const Json &responses = r_.require(responsesCol);
    if (!responses.is_object())
      r_.failField(responsesCol, "expected an object {domain: response}, got " + jsonTypeName(responses));
    auto responseOf = [&](const std::string &domain, const char *role) {
      auto it = responses.find(domain);
      if (it == responses.end()) {
        std::string has;
        for (const auto &item : responses.items())
          has += (has.empty() ? "" : ", ") + item.key();
        r_.failField(responsesCol, std::string("no response for the ") + role + " domain '" + domain + "' (has: " +
                                       (has.empty() ? "none" : has) + ")");
      }
      if (!it->is_string())
        r_.failAt(responsesCol, "." + domain, "expected a string, got " + jsonTypeName(*it));
      return it->get<std::string>();
    };
    std::string preferredText = responseOf(spec_.preferred, "preferred");
    std::vector<std::string> against = spec_.against;
    if (against.empty())
      for (const auto &item : responses.items()) // nlohmann's objects iterate in sorted key order
        if (item.key() != spec_.preferred)
          against.push_back(item.key());
    if (against.empty())
      r_.failField(responsesCol, "has no domain besides the preferred '" + spec_.preferred + "' to compare with");
    std::vector<Example> out;
    for (const std::string &other : against) {
      Example ex = base_;
      render(ex, query, {preferredText, responseOf(other, "'against'")});
      ex.scores = {1.0, 0.0};
      if (ex.domain.empty())
        ex.domain = spec_.preferred;
      ex.versus = other;
      out.push_back(std::move(ex));
    }
    return out;
  }

  const SourceSpec &spec_;
  const Template &tmpl_;
  RowReader r_;
  bool hasTemplate_;
  Example base_;
  std::string system_;
};

/// Mistakes in the spec itself (the compiler's Sema rejects them in recipes; a hand-built spec may not).
void checkSpec(const SourceSpec &spec) {
  std::string what = sourceKindName(spec.kind) + " data '" + spec.name + "'";
  if (spec.kind == DataKind::rated && spec.ratings.empty())
    throw Error(what + " names no ratings");
  if (spec.kind == DataKind::sft && spec.columns.count("prompt") != spec.columns.count("response"))
    throw Error(what + " names '" + (spec.columns.count("prompt") ? "prompt" : "response") +
                "' without '" + (spec.columns.count("prompt") ? "response" : "prompt") + "'; name both, or neither");
  if (spec.kind == DataKind::domain_pairs) {
    if (spec.preferred.empty())
      throw Error(what + " names no preferred domain");
    for (const std::string &d : spec.against)
      if (d == spec.preferred)
        throw Error(what + ": 'against' names the preferred domain '" + d + "'");
  }
  std::set<std::string> names;
  for (const SplitSpec &split : spec.splits) {
    if (!names.insert(split.name).second)
      throw Error(what + ": split '" + split.name + "' is declared twice");
    if (!split.by.empty()) {
      if (split.by != "user" && split.by != "annotator" && split.by != "domain" && split.by != "group")
        throw Error(what + ": split '" + split.name + "' is grouped by '" + split.by +
                    "', not an id column (user, annotator, domain or group)");
      if (!spec.columns.count(split.by))
        throw Error("split '" + split.name + "' is grouped by " + split.by + ", but " + what + " declares no '" +
                    split.by + "' column");
    }
  }
}

/// One row of a file and its examples: the unit that splits move.
struct Unit {
  Row row;
  std::vector<Example> examples;
};

/// The rows of one file as units, in file order. Unreadable rows and malformed ones are handled in line
/// order, so without on_error: skip the error reported is the first one in the file.
std::vector<Unit> readUnits(const SourceSpec &spec, const Template &tmpl, const std::string &path,
                            LoadedSource &out) {
  auto reject = [&](const std::string &message) {
    if (spec.onError != OnError::skip)
      throw Error(message);
    ++out.skips.skipped;
    if (out.skips.reasons.size() < 5)
      out.skips.reasons.push_back(message);
  };
  std::vector<RowError> rowErrors;
  std::vector<Row> rows = readJsonRows(path, spec.limit, &rowErrors);
  out.rowsRead += static_cast<int64_t>(rows.size() + rowErrors.size());
  std::vector<Unit> units;
  size_t nextError = 0;
  for (Row &row : rows) {
    for (; nextError < rowErrors.size() && rowErrors[nextError].line < row.line; ++nextError)
      reject(rowErrors[nextError].message);
    try {
      std::vector<Example> examples = rowExamples(spec, tmpl, row);
      units.push_back({std::move(row), std::move(examples)});
    } catch (const Error &e) {
      reject(e.what());
    }
  }
  for (; nextError < rowErrors.size(); ++nextError)
    reject(rowErrors[nextError].message);
  return units;
}

std::string idForRole(const Example &ex, const std::string &role) {
  if (role == "user")
    return ex.user;
  if (role == "annotator")
    return ex.annotator;
  if (role == "domain")
    return ex.domain;
  return ex.group;
}

} // namespace

std::vector<Example> rowExamples(const SourceSpec &spec, const Template &tmpl, const Row &row) {
  return ExampleBuilder(spec, tmpl, row).build();
}

LoadedSource loadSource(const SourceSpec &spec) {
  checkSpec(spec);
  Template tmpl = Template::plain();
  if (spec.templateText) {
    try {
      tmpl = Template::parse(*spec.templateText);
    } catch (const Error &e) {
      throw Error(sourceKindName(spec.kind) + " data '" + spec.name + "': " + e.what());
    }
  }
  LoadedSource out;
  out.splits["train"];
  for (const SplitSpec &split : spec.splits)
    out.splits[split.name];

  std::vector<Unit> units = readUnits(spec, tmpl, spec.path, out);
  std::vector<int> assigned = assignSplits(
      static_cast<int64_t>(units.size()), spec.splits, spec.shuffleSeed,
      [&](int64_t i) -> const Json & { return units[i].row.value; },
      [&](int64_t i, const std::string &role) { return idForRole(units[i].examples.front(), role); });
  for (size_t i = 0; i < units.size(); ++i) {
    auto &dest = out.splits[assigned[i] < 0 ? std::string("train") : spec.splits[assigned[i]].name];
    for (Example &ex : units[i].examples)
      dest.push_back(std::move(ex));
  }

  for (const SplitSpec &split : spec.splits) {
    if (split.kind != SplitKind::file)
      continue;
    auto &dest = out.splits[split.name];
    for (Unit &unit : readUnits(spec, tmpl, split.path, out))
      for (Example &ex : unit.examples)
        dest.push_back(std::move(ex));
  }
  return out;
}

} // namespace align::rt::data
