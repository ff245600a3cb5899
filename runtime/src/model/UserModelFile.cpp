//===- UserModelFile.cpp - user_model.json: a user model's settings -------===//

#include "model/UserModelFile.h"

#include <nlohmann/json.hpp>

namespace align::rt {

namespace {

using Json = nlohmann::json;

/// Field access that names the file and the field. Integers are read only from JSON integers: nlohmann's
/// get<int64_t>() of 1e300 would be an out-of-range float conversion (undefined behaviour).
struct Fields {
  const Json &j;
  const std::string &path;

  [[noreturn]] void fail(const std::string &key, const std::string &message) const {
    throw Error(path + ": field '" + key + "': " + message);
  }
  const Json *find(const std::string &key) const {
    auto it = j.find(key);
    return it == j.end() ? nullptr : &*it;
  }
  const Json &require(const std::string &key) const {
    if (const Json *v = find(key))
      return *v;
    throw Error(path + ": missing field '" + key + "'");
  }
  int64_t integer(const std::string &key, std::optional<int64_t> fallback = std::nullopt) const {
    const Json *v = fallback && !find(key) ? nullptr : &require(key);
    if (!v)
      return *fallback;
    if (!v->is_number_integer() || (v->is_number_unsigned() && v->get<uint64_t>() > uint64_t(INT64_MAX)))
      fail(key, "expected an integer, got " + v->dump());
    return v->get<int64_t>();
  }
  int64_t atLeast(const std::string &key, int64_t min, std::optional<int64_t> fallback = std::nullopt) const {
    int64_t value = integer(key, fallback);
    if (value < min)
      fail(key, "expected at least " + std::to_string(min) + ", got " + std::to_string(value));
    return value;
  }
  template <typename Enum> void word(const std::string &key, const std::string &fallback, Enum &value) const {
    const Json *v = find(key);
    if (v && !v->is_string())
      fail(key, "expected a string, got " + v->dump());
    const std::string text = v ? v->get<std::string>() : fallback;
    if (!parse(text, value))
      fail(key, "unknown value '" + text + "'");
  }
};

} // namespace

UserModelFile parseUserModelFile(const std::string &text, const std::string &path) {
  nlohmann::json j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object())
    throw Error(path + ": not a JSON object");
  const Fields f{j, path};
  UserModelFile out;
  UserModelSpec &s = out.settings;
  f.word("kind", "", s.kind);
  s.tokens = f.atLeast("tokens", 1);
  const Json &generic = f.require("generic");
  if (!generic.is_boolean())
    f.fail("generic", "expected true or false, got " + generic.dump());
  s.generic = generic.get<bool>();
  s.clusters = f.integer("clusters");
  if (s.kind == UserModelKind::cluster && s.clusters < 1)
    f.fail("clusters", "expected at least 1, got " + std::to_string(s.clusters));
  f.word("init", "vocab", s.init);
  const Json *seed = f.find("init_seed");
  if (seed && !seed->is_number_integer())
    f.fail("init_seed", "expected an integer, got " + seed->dump());
  s.initSeed = seed ? seed->get<uint64_t>() : 123; // a negative seed wraps, as the writer's uint64 would
  s.initCommon = f.atLeast("init_common", 0, 0);
  const Json *range = f.find("init_range");
  if (range && !range->is_number())
    f.fail("init_range", "expected a number, got " + range->dump());
  s.initRange = range ? range->get<double>() : 0.5;
  f.word("unseen", "generic", s.unseen);
  out.hiddenSize = f.atLeast("hidden_size", 1);
  const Json &users = f.require("users");
  if (!users.is_array())
    f.fail("users", "expected a list of user names, got " + users.dump());
  for (size_t i = 0; i < users.size(); ++i) {
    if (!users[i].is_string())
      f.fail("users", "[" + std::to_string(i) + "]: expected a string, got " + users[i].dump());
    out.users.push_back(users[i].get<std::string>());
  }
  // The tables UserModelImpl allocates: [(N+1)·T, d] (individual) or [K·T, d] and [N+1, K] (cluster).
  const bool cluster = s.kind == UserModelKind::cluster;
  const int64_t rows = static_cast<int64_t>(out.users.size()) + 1;
  int64_t elements = 0;
  if (__builtin_mul_overflow(cluster ? s.clusters : rows, s.tokens, &elements) ||
      __builtin_mul_overflow(elements, out.hiddenSize, &elements) ||
      (cluster && __builtin_mul_overflow(rows, s.clusters, &elements)))
    throw Error(path + ": the user model's tables (users, tokens, clusters, hidden_size) exceed 2^63 elements");
  return out;
}

} // namespace align::rt
