//===- Direction.cpp - A DPA direction: angles, rendering, direction.json -===//

#include "data/Direction.h"

#include "support/AtomicWrite.h"
#include "support/Files.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <optional>
#include <fstream>
#include <iterator>
#include <sstream>

namespace align::rt {

namespace {

constexpr double kPi = 3.14159265358979323846;

} // namespace

std::vector<double> directionVector(double angleDeg) {
  const double radians = angleDeg * kPi / 180.0;
  return {std::cos(radians), std::sin(radians)};
}

std::vector<double> gridAngles(double low, double high, int64_t n) {
  if (n < 1)
    throw Error("a direction grid needs at least one angle, got " + std::to_string(n));
  if (n == 1)
    return {(low + high) / 2};
  std::vector<double> angles;
  for (int64_t i = 0; i < n; ++i)
    angles.push_back(low + (high - low) * static_cast<double>(i) / static_cast<double>(n - 1));
  return angles;
}

int64_t renderedWeight(double value, int64_t scale) { return std::llround(static_cast<double>(scale) * value); }

std::string renderDirection(const DirectionSpec &spec, const std::vector<double> &v) {
  if (v.size() != spec.objectives.size())
    throw Error("direction '" + spec.name + "': a vector of " + std::to_string(v.size()) + " weights for " +
                std::to_string(spec.objectives.size()) + " objectives");
  const std::string &text = spec.render;
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '\\' && i + 1 < text.size() && (text[i + 1] == '\\' || text[i + 1] == '{' || text[i + 1] == '}')) {
      out += text[++i];
    } else if (c == '{') {
      const size_t close = text.find('}', i + 1);
      if (close == std::string::npos)
        throw Error("direction '" + spec.name + "': unclosed '{' in its template at offset " + std::to_string(i));
      const std::string name = text.substr(i + 1, close - i - 1);
      size_t objective = spec.objectives.size();
      if (name.rfind("weight.", 0) == 0)
        for (size_t k = 0; k < spec.objectives.size(); ++k)
          if (spec.objectives[k] == name.substr(7))
            objective = k;
      if (objective == spec.objectives.size())
        throw Error("direction '" + spec.name + "': its template uses '{" + name +
                    "}'; a direction provides {weight.NAME} for each of its objectives");
      out += std::to_string(renderedWeight(v[objective], spec.scale));
      i = close;
    } else if (c == '}') {
      throw Error("direction '" + spec.name + "': unmatched '}' in its template at offset " + std::to_string(i));
    } else {
      out += c;
    }
  }
  return out;
}

std::string conditionedPrompt(const std::string &system, const std::string &prompt) { return system + "\n" + prompt; }

void writeDirectionFile(const std::string &dir, const SavedDirection &saved) {
  const DirectionSpec &s = saved.spec;
  nlohmann::json j;
  j["name"] = s.name;
  j["objectives"] = s.objectives;
  j["angle"] = {s.angleLow, s.angleHigh};
  j["sample"] = spelling(s.sample);
  j["grid"] = s.grid;
  j["render"] = s.render;
  j["scale"] = s.scale;
  j["prompt_template"] = saved.promptTemplate;
  writeFileAtomically(joinPath(dir, "direction.json"), j.dump(2) + "\n");
}

SavedDirection readDirectionFile(const std::string &dir) {
  const std::string path = joinPath(dir, "direction.json");
  std::ifstream in(path, std::ios::binary);
  if (!in)
    throw Error(path + ": no direction here; a policy trained by `loop rsf` keeps its direction in direction.json");
  return parseDirectionFile(std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>()), path);
}

SavedDirection parseDirectionFile(const std::string &text, const std::string &path) {
  nlohmann::json j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object())
    throw Error(path + ": not a JSON object");
  SavedDirection saved;
  DirectionSpec &s = saved.spec;
  try {
    s.name = j.value("name", std::string("direction"));
    s.objectives = j.at("objectives").get<std::vector<std::string>>();
    auto angle = j.at("angle").get<std::vector<double>>();
    if (angle.size() != 2)
      throw Error(path + ": field 'angle': expected [low, high]");
    s.angleLow = angle[0], s.angleHigh = angle[1];
    s.render = j.at("render").get<std::string>();
    // Integers only: nlohmann's get<int64_t>() of 1e300 is an out-of-range float conversion (undefined).
    auto integer = [&](const char *key, std::optional<int64_t> fallback) {
      if (fallback && !j.contains(key))
        return *fallback;
      const nlohmann::json &v = j.at(key);
      if (!v.is_number_integer() || (v.is_number_unsigned() && v.get<uint64_t>() > uint64_t(INT64_MAX)))
        throw Error(path + ": field '" + key + "': expected an integer, got " + v.dump());
      return v.get<int64_t>();
    };
    s.scale = integer("scale", std::nullopt);
    s.grid = integer("grid", 9);
    saved.promptTemplate = j.value("prompt_template", std::string());
  } catch (const nlohmann::json::exception &e) {
    throw Error(path + ": " + e.what());
  }
  if (s.objectives.size() != 2 || s.scale < 1)
    throw Error(path + ": a direction spans two objectives with a positive scale");
  return saved;
}

std::vector<double> parseDirectionArgument(const std::string &text, const DirectionSpec &spec) {
  const std::string what = "--direction " + text;
  if (text.size() > 3 && text.compare(text.size() - 3, 3, "deg") == 0) {
    size_t used = 0;
    double angle = 0;
    try {
      angle = std::stod(text.substr(0, text.size() - 3), &used);
    } catch (const std::exception &) {
      used = 0;
    }
    if (used != text.size() - 3 || !std::isfinite(angle))
      throw Error(what + ": expected an angle such as -15deg");
    return directionVector(angle);
  }
  std::vector<double> v;
  std::stringstream in(text);
  std::string item;
  while (std::getline(in, item, ',')) {
    size_t used = 0;
    double value = 0;
    try {
      value = std::stod(item, &used);
    } catch (const std::exception &) {
      used = 0;
    }
    if (item.empty() || used != item.size() || !std::isfinite(value))
      throw Error(what + ": '" + item + "' is not a number; expected one weight per objective, e.g. 0.8,-0.6");
    v.push_back(value);
  }
  if (v.size() != spec.objectives.size())
    throw Error(what + ": " + std::to_string(v.size()) + " weights, but the direction spans " +
                std::to_string(spec.objectives.size()) + " objectives (" + spec.objectives[0] + ", " +
                spec.objectives[1] + ")");
  // Scaled by the largest weight first, so that 1e200,1e200 does not overflow to a zero vector and 1e-200,0
  // does not underflow to one.
  double largest = 0;
  for (double x : v)
    largest = std::max(largest, std::abs(x));
  if (largest == 0)
    throw Error(what + ": the zero vector is no direction");
  double norm = 0;
  for (double &x : v) {
    x /= largest;
    norm += x * x;
  }
  for (double &x : v)
    x /= std::sqrt(norm);
  return v;
}

} // namespace align::rt
