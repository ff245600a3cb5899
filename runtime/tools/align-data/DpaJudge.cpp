//===- DpaJudge.cpp - Rule-based scores for DPA generations ---------------===//
//
// The judge of the DPA experiment on `align-data dpa-task`'s world (docs/methods.md §4): what a reward model
// only estimates, it computes exactly, with DpaObjectives.h's true objectives.
//
// Input, one JSON object per line (blank lines are skipped):
//   "prompt"     string, required: the user prompt exactly as in DATA/dpa/prompts.jsonl (no system prompt)
//   "text"       string, required: the response
//   "iteration"  integer, optional: the RSF iteration that generated it
//   "angle_deg"  number, optional: the direction θ the response was conditioned on, in degrees
// Other fields pass through to --rows, which adds "helpfulness_true", "verbosity_true" and "words".
//
// Summary (a missing iteration or angle groups as null):
//   points        per (iteration, angle_deg), ascending: the means of helpfulness_true (h), verbosity_true (v)
//                 and words, and n
//   by_iteration  per iteration, over its points with an angle:
//                   spearman_verbosity_angle  Spearman's ρ of the points' v against θ (null when undefined:
//                                             fewer than 2 angles, or every v equal)
//                   scalarized_mean           the mean over the points of cos θ·h + sin θ·v (null: no angle)
//   dominance     the first and last (lowest and highest) iterations compared on the angles both have (null
//                 when fewer than 2 iterations):
//                   angles          how many angles were compared
//                   last_better     at how many the last point's cos θ·h + sin θ·v exceeds the first's
//                   last_dominates  at how many the last point is at least as good in each objective in the
//                                   direction's sense: cos θ·(h_last − h_first) ≥ 0 and sin θ·(v_last − v_first)
//                                   ≥ 0 (so below θ = 0 less verbosity is better, and at θ = 0 only h counts)
//
//===----------------------------------------------------------------------===//

#include "DpaJudge.h"

#include "DpaObjectives.h"
#include "support/AtomicWrite.h"
#include "support/Files.h"
#include "train/RegressionFit.h" // spearmanCorrelation: the runtime's, shared with the reward fit

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <limits>
#include <map>
#include <optional>
#include <stdexcept>
#include <unordered_map>

namespace align::data {

namespace {

using Json = nlohmann::ordered_json;

constexpr double kPi = 3.14159265358979323846; // M_PI is POSIX, not C++

const char *typeName(const Json &value) { return value.type_name(); }

/// Calls `visit(where, row)` for each non-blank line of `path`, `where` being "PATH:LINE"; throws for a line
/// that is not a JSON object.
template <class Visit> void forEachObject(const std::string &path, Visit visit) {
  std::ifstream file(path, std::ios::binary);
  if (!file)
    throw std::runtime_error(path + ": cannot be read");
  std::string line;
  for (long number = 1; std::getline(file, line); ++number) {
    if (line.find_first_not_of(" \t\r") == std::string::npos)
      continue;
    const std::string where = path + ":" + std::to_string(number);
    Json row = Json::parse(line, nullptr, false);
    if (row.is_discarded())
      throw std::runtime_error(where + ": malformed JSON");
    if (!row.is_object())
      throw std::runtime_error(where + ": expected a JSON object, got " + typeName(row));
    visit(where, row);
  }
  if (file.bad())
    throw std::runtime_error(path + ": read failed");
}

const std::string &stringField(const std::string &where, const Json &row, const char *name) {
  const auto it = row.find(name);
  if (it == row.end())
    throw std::runtime_error(where + ": field '" + name + "' is missing");
  if (!it->is_string())
    throw std::runtime_error(where + ": field '" + name + "': expected a string, got " + typeName(*it));
  return it->get_ref<const std::string &>();
}

/// prompt → the values it asks for, from DATA/dpa/prompts.jsonl.
std::unordered_map<std::string, std::vector<std::string>> readPrompts(const std::string &path) {
  std::unordered_map<std::string, std::vector<std::string>> facts;
  forEachObject(path, [&](const std::string &where, const Json &row) {
    const std::string &prompt = stringField(where, row, "prompt");
    const auto it = row.find("facts");
    if (it == row.end() || !it->is_array() || it->empty() ||
        !std::all_of(it->begin(), it->end(), [](const Json &v) { return v.is_string(); }))
      throw std::runtime_error(where + ": field 'facts': expected a non-empty array of strings");
    facts[prompt] = it->get<std::vector<std::string>>();
  });
  return facts;
}

using Key = std::pair<std::optional<long long>, std::optional<double>>; ///< (iteration, angle_deg)

struct Point {
  double helpfulness = 0, verbosity = 0, words = 0;
  long n = 0;
  double scalarized(double angleDeg) const {
    const double theta = angleDeg * kPi / 180;
    return std::cos(theta) * helpfulness + std::sin(theta) * verbosity;
  }
};

template <class T> Json orNull(const std::optional<T> &value) { return value ? Json(*value) : Json(); }
Json orNull(double value) { return std::isnan(value) ? Json() : Json(value); }

} // namespace

void runDpaJudge(const DpaJudgeOptions &options) {
  const auto facts = readPrompts(rt::joinPath(rt::joinPath(options.data, "dpa"), "prompts.jsonl"));

  std::map<Key, Point> points; // sums until the means are taken below
  std::string scoredRows;
  long rows = 0;
  forEachObject(options.input, [&](const std::string &where, Json &row) {
    const std::string &prompt = stringField(where, row, "prompt");
    const std::string &text = stringField(where, row, "text");
    Key key;
    if (const auto it = row.find("iteration"); it != row.end()) {
      if (!it->is_number_integer())
        throw std::runtime_error(where + ": field 'iteration': expected an integer, got " + typeName(*it));
      key.first = it->get<long long>();
    }
    if (const auto it = row.find("angle_deg"); it != row.end()) {
      if (!it->is_number())
        throw std::runtime_error(where + ": field 'angle_deg': expected a number, got " + typeName(*it));
      key.second = it->get<double>();
    }
    const auto asked = facts.find(prompt);
    if (asked == facts.end())
      throw std::runtime_error(where + ": field 'prompt': not a prompt of " + options.data +
                               "/dpa/prompts.jsonl: " + Json(prompt).dump());
    const DpaObjectives scores = dpaTrueObjectives(text, asked->second);
    Point &point = points[key];
    point.helpfulness += scores.helpfulness;
    point.verbosity += scores.verbosity;
    point.words += static_cast<double>(scores.words);
    ++point.n;
    ++rows;
    if (!options.rows.empty()) {
      row["helpfulness_true"] = scores.helpfulness;
      row["verbosity_true"] = scores.verbosity;
      row["words"] = scores.words;
      scoredRows += row.dump() + "\n";
    }
  });
  for (auto &[key, point] : points) {
    const double n = static_cast<double>(point.n);
    point.helpfulness /= n, point.verbosity /= n, point.words /= n;
  }

  Json summary;
  summary["points"] = Json::array();
  std::map<std::optional<long long>, std::vector<std::pair<double, Point>>> byIteration; // its points with an angle
  for (const auto &[key, point] : points) {
    summary["points"].push_back({{"iteration", orNull(key.first)},
                                 {"angle_deg", orNull(key.second)},
                                 {"helpfulness", point.helpfulness},
                                 {"verbosity", point.verbosity},
                                 {"words", point.words},
                                 {"n", point.n}});
    auto &angles = byIteration[key.first];
    if (key.second)
      angles.emplace_back(*key.second, point);
  }
  summary["by_iteration"] = Json::array();
  for (const auto &[iteration, angles] : byIteration) {
    std::vector<double> theta, verbosity;
    double scalarized = 0;
    for (const auto &[angle, point] : angles) {
      theta.push_back(angle);
      verbosity.push_back(point.verbosity);
      scalarized += point.scalarized(angle) / static_cast<double>(angles.size());
    }
    summary["by_iteration"].push_back({{"iteration", orNull(iteration)},
                                       {"spearman_verbosity_angle", orNull(rt::spearmanCorrelation(verbosity, theta))},
                                       {"scalarized_mean", angles.empty() ? Json() : Json(scalarized)}});
  }

  std::vector<long long> iterations;
  for (const auto &[iteration, angles] : byIteration)
    if (iteration)
      iterations.push_back(*iteration);
  summary["dominance"] = Json();
  if (iterations.size() >= 2) {
    const long long first = iterations.front(), last = iterations.back();
    long compared = 0, better = 0, dominates = 0;
    for (const auto &[angle, before] : byIteration[first]) {
      const auto after = points.find(Key{last, angle});
      if (after == points.end())
        continue;
      const double theta = angle * kPi / 180;
      ++compared;
      better += after->second.scalarized(angle) > before.scalarized(angle);
      dominates += std::cos(theta) * (after->second.helpfulness - before.helpfulness) >= 0 &&
                   std::sin(theta) * (after->second.verbosity - before.verbosity) >= 0;
    }
    summary["dominance"] = {
        {"first", first}, {"last", last}, {"angles", compared}, {"last_better", better}, {"last_dominates", dominates}};
  }

  rt::writeFileAtomically(options.out, summary.dump(2) + "\n");
  if (!options.rows.empty())
    rt::writeFileAtomically(options.rows, scoredRows);
  std::fprintf(stderr, "dpa-judge: %ld generations, %zu points over %zu iterations -> %s\n", rows, points.size(),
               byIteration.size(), options.out.c_str());
}

} // namespace align::data
