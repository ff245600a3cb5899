//===- PairFiles.cpp - Comparison files for `align-lm score-pairs` --------===//

#include "PairFiles.h"

#include "align/rt/Error.h"

#include <nlohmann/json.hpp>

#include <fstream>

namespace align::lm {

using align::rt::Error;

namespace {

nlohmann::json readJsonFile(const std::string &path) {
  std::ifstream in(path);
  if (!in)
    throw Error(path + ": cannot read file");
  nlohmann::json j = nlohmann::json::parse(in, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded())
    throw Error(path + ": not valid JSON");
  if (!j.is_array())
    throw Error(path + ": expected a JSON list of entries");
  return j;
}

const std::string &stringField(const nlohmann::json &entry, const std::string &field, const std::string &where) {
  if (!entry.contains(field) || !entry[field].is_string())
    throw Error(where + ": field '" + field + "': expected a string");
  return entry[field].get_ref<const std::string &>();
}

/// DSP's listwise format: every pair of texts with different scores, the higher score better.
void readListwise(const std::string &path, Comparisons &out) {
  nlohmann::json list = readJsonFile(path);
  for (size_t i = 0; i < list.size(); ++i) {
    std::string where = path + ": entry " + std::to_string(i);
    const auto &entry = list[i];
    if (!entry.is_object() || !entry.contains("text") || !entry["text"].is_array())
      throw Error(where + ": field 'text': expected a list of strings");
    if (!entry.contains("score") || !entry["score"].is_array() || entry["score"].size() != entry["text"].size())
      throw Error(where + ": field 'score': expected a list of numbers as long as 'text'");
    size_t base = out.texts.size();
    std::vector<double> scores;
    for (size_t k = 0; k < entry["text"].size(); ++k) {
      if (!entry["text"][k].is_string())
        throw Error(where + ": field 'text'[" + std::to_string(k) + "]: expected a string");
      if (!entry["score"][k].is_number())
        throw Error(where + ": field 'score'[" + std::to_string(k) + "]: expected a number");
      out.texts.push_back(entry["text"][k].get<std::string>());
      scores.push_back(entry["score"][k].get<double>());
    }
    for (size_t a = 0; a < scores.size(); ++a)
      for (size_t b = a + 1; b < scores.size(); ++b) {
        if (scores[a] == scores[b])
          ++out.ties;
        else if (scores[a] > scores[b])
          out.pairs.push_back({base + a, base + b, ""});
        else
          out.pairs.push_back({base + b, base + a, ""});
      }
  }
}

/// DSP's raw format: the preferred domain's answer against each other answer, in the paper's template.
void readDomains(const std::string &path, const std::string &preferred, Comparisons &out) {
  nlohmann::json list = readJsonFile(path);
  for (size_t i = 0; i < list.size(); ++i) {
    std::string where = path + ": entry " + std::to_string(i);
    const auto &entry = list[i];
    const std::string &query = stringField(entry, "query", where);
    if (!entry.contains("responses") || !entry["responses"].is_object())
      throw Error(where + ": field 'responses': expected an object of domain → text");
    const auto &responses = entry["responses"];
    if (!responses.contains(preferred))
      throw Error(where + ": field 'responses': no answer for domain '" + preferred + "'");
    auto render = [&](const std::string &answer) { return "## Human:\n" + query + "\n\n## Assistant:\n" + answer; };
    size_t better = out.texts.size();
    out.texts.push_back(render(stringField(responses, preferred, where + ": field 'responses'")));
    for (const auto &[domain, text] : responses.items()) {
      if (domain == preferred)
        continue;
      if (!text.is_string())
        throw Error(where + ": field 'responses'." + domain + ": expected a string");
      out.pairs.push_back({better, out.texts.size(), domain});
      out.texts.push_back(render(text.get<std::string>()));
    }
  }
}

/// TRL's pairwise JSONL: prompt + chosen is better than prompt + rejected.
void readPairwise(const std::string &path, Comparisons &out) {
  std::ifstream in(path);
  if (!in)
    throw Error(path + ": cannot read file");
  std::string line;
  for (size_t lineNo = 1; std::getline(in, line); ++lineNo) {
    if (line.find_first_not_of(" \t\r") == std::string::npos)
      continue;
    std::string where = path + ":" + std::to_string(lineNo);
    nlohmann::json row = nlohmann::json::parse(line, nullptr, false);
    if (row.is_discarded() || !row.is_object())
      throw Error(where + ": not a JSON object");
    std::string prompt = row.contains("prompt") ? stringField(row, "prompt", where) : "";
    out.pairs.push_back({out.texts.size(), out.texts.size() + 1, ""});
    out.texts.push_back(prompt + stringField(row, "chosen", where));
    out.texts.push_back(prompt + stringField(row, "rejected", where));
  }
}

} // namespace

Comparisons readComparisons(const std::string &path, const std::string &format, const std::string &preferredDomain) {
  Comparisons out;
  if (format == "dsp" && preferredDomain.empty())
    readListwise(path, out);
  else if (format == "dsp")
    readDomains(path, preferredDomain, out);
  else if (format == "pairwise")
    readPairwise(path, out);
  else
    throw Error("--format: unknown format '" + format + "' (expected dsp or pairwise)");
  return out;
}

} // namespace align::lm
