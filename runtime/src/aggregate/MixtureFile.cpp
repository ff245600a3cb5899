//===- MixtureFile.cpp - A mixture policy on disk: mixture.json ------------===//

#include "aggregate/MixtureFile.h"

#include "align/rt/Error.h"
#include "support/AtomicWrite.h"
#include "support/Files.h"
#include "support/SplitMix64.h"

#include <cmath>
#include <fstream>
#include <iterator>

namespace align::rt {

namespace {

std::vector<std::string> components(const std::string &path) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= path.size()) {
    size_t slash = path.find('/', start);
    std::string part = path.substr(start, slash == std::string::npos ? std::string::npos : slash - start);
    if (!part.empty() && part != ".")
      out.push_back(part);
    if (slash == std::string::npos)
      break;
    start = slash + 1;
  }
  return out;
}

/// `path` relative to directory `base` (both made absolute): "../mixture.type0".
std::string relativeTo(const std::string &path, const std::string &base) {
  std::vector<std::string> to = components(absolutePath(path)), from = components(absolutePath(base));
  size_t common = 0;
  while (common < to.size() && common < from.size() && to[common] == from[common])
    ++common;
  std::string out;
  for (size_t i = common; i < from.size(); ++i)
    out += "../";
  for (size_t i = common; i < to.size(); ++i)
    out += to[i] + (i + 1 < to.size() ? "/" : "");
  return out.empty() ? "." : out;
}

} // namespace

void writeMixture(const std::string &dir, const MixtureFile &mixture, nlohmann::json details) {
  if (mixture.policies.size() != mixture.weights.size())
    throw Error("a mixture of " + std::to_string(mixture.policies.size()) + " policies with " +
                std::to_string(mixture.weights.size()) + " weights");
  std::vector<std::string> relative;
  for (const std::string &policy : mixture.policies)
    relative.push_back(relativeTo(policy, dir));
  details["policies"] = relative;
  details["weights"] = mixture.weights;
  makeDirectories(dir);
  writeFileAtomically(joinPath(dir, "mixture.json"), details.dump(2) + "\n");
}

MixtureFile readMixture(const std::string &dir) {
  const std::string path = joinPath(dir, "mixture.json");
  if (!pathExists(path))
    throw Error(path + ": no such file (a mixture directory is written by an `aggregate` of a trainer)");
  std::ifstream in(path, std::ios::binary);
  return parseMixture(std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>()), dir);
}

MixtureFile parseMixture(const std::string &text, const std::string &dir) {
  const std::string path = joinPath(dir, "mixture.json");
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception &e) {
    throw Error(path + ": not JSON: " + e.what());
  }
  MixtureFile out;
  try {
    for (const auto &policy : j.at("policies"))
      out.policies.push_back(joinPath(dir, policy.get<std::string>()));
    out.weights = j.at("weights").get<std::vector<double>>();
  } catch (const nlohmann::json::exception &e) {
    throw Error(path + ": field 'policies' or 'weights': " + e.what());
  }
  if (out.policies.empty())
    throw Error(path + ": field 'policies' is empty");
  if (out.weights.size() != out.policies.size())
    throw Error(path + ": field 'weights' has " + std::to_string(out.weights.size()) + " entries for " +
                std::to_string(out.policies.size()) + " policies");
  double total = 0;
  for (double w : out.weights) {
    if (!std::isfinite(w) || w < 0)
      throw Error(path + ": field 'weights' has a negative or non-finite weight");
    total += w;
  }
  if (std::abs(total - 1) > 1e-6)
    throw Error(path + ": field 'weights' sums to " + std::to_string(total) + ", not 1");
  return out;
}

size_t pickPolicy(const MixtureFile &mixture, uint64_t seed, uint64_t index) {
  SplitMix64 rng(seed * 0x9e3779b97f4a7c15ull + index);
  rng.next(); // decorrelate neighbouring (seed, index) pairs
  const double u = static_cast<double>(rng.next() >> 11) * 0x1.0p-53; // [0, 1)
  double cumulative = 0;
  for (size_t k = 0; k < mixture.weights.size(); ++k) {
    cumulative += mixture.weights[k];
    if (u < cumulative)
      return k;
  }
  // Rounding left u above the last cumulative sum: the last policy with weight.
  for (size_t k = mixture.weights.size(); k-- > 0;)
    if (mixture.weights[k] > 0)
      return k;
  return 0;
}

} // namespace align::rt
