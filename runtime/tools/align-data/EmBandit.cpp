//===- EmBandit.cpp - The EM-DPO authors' bandit, for a language model ----===//
//
// The bandit simulation of Chidambaram et al.'s code (docs/methods.md §3.7), rebuilt so a language model can
// play it: one prompt, K fixed short responses ("arms"), K annotator types. Type i's reward is 10 for arm i
// and 0 for the others, plus N(0, 0.01²) noise per comparison (the authors' θ row of 10 and noise); each
// user draws a type from the mixture, then compares two distinct arms drawn uniformly (the uniform reference
// policy), the winner sampled by Bradley–Terry, P(a beats b) = σ(r_a − r_b).
//
//   OUT/em_bandit/pairs.jsonl  {"prompt", "chosen", "rejected", "annotator", "true_type"} per comparison
//   OUT/em_bandit/sft.jsonl    {"prompt", "response"}: each arm equally often, for the reference policy
//   OUT/em_bandit/truth.json   the mixture, sizes, seed, each user's type and the types' empirical shares
//
// `true_type` is for evaluation only (type recovery); EM never reads it.
//
//===----------------------------------------------------------------------===//

#include "EmBandit.h"

#include "SplitMix64.h"
#include "support/AtomicWrite.h"
#include "support/Files.h"

#include <nlohmann/json.hpp>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <sstream>
#include <stdexcept>

namespace align::data {

namespace {

std::string armText(size_t arm) { return std::string(" arm ") + static_cast<char>('A' + arm); }

} // namespace

std::vector<double> parseMixture(const std::string &text) {
  std::vector<double> shares;
  // Split on every comma, so an empty last item ("0.5,0.5,") is an error too (std::getline would drop it).
  for (size_t start = 0, comma = 0; comma != std::string::npos; start = comma + 1) {
    comma = text.find(',', start);
    const std::string item = text.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    char *end = nullptr;
    const double share = std::strtod(item.c_str(), &end);
    if (item.empty() || *end != '\0' || !std::isfinite(share) || share < 0)
      throw std::invalid_argument("--mixture " + text + ": '" + item + "' is not a share >= 0");
    shares.push_back(share);
  }
  if (shares.size() < 2 || shares.size() > 26)
    throw std::invalid_argument("--mixture " + text + ": expected 2 to 26 shares, one per type");
  double total = 0;
  for (double s : shares)
    total += s;
  if (std::abs(total - 1) > 1e-6)
    throw std::invalid_argument("--mixture " + text + ": the shares sum to " + std::to_string(total) + ", not 1");
  return shares;
}

void writeEmBandit(const EmBanditOptions &options) {
  const size_t types = options.mixture.size();
  const std::string dir = rt::joinPath(options.out, "em_bandit");
  rt::makeDirectories(dir);
  const std::string prompt = "Pick one:";
  SplitMix64 rng{options.seed};
  std::ostringstream pairs;
  nlohmann::json typeOfUser = nlohmann::json::object();
  std::vector<long> perType(types, 0);
  for (long u = 0; u < options.users; ++u) {
    char name[16];
    std::snprintf(name, sizeof name, "u%03ld", u);
    // The user's type: the first whose cumulative share exceeds a uniform draw (the last nonzero otherwise).
    const double draw = rng.uniform();
    size_t type = types;
    double cumulative = 0;
    for (size_t k = 0; k < types; ++k)
      if (options.mixture[k] > 0 && (cumulative += options.mixture[k]) > draw) {
        type = k;
        break;
      }
    if (type == types)
      for (size_t k = types; k-- > 0;)
        if (options.mixture[k] > 0) {
          type = k;
          break;
        }
    typeOfUser[name] = type;
    ++perType[type];
    for (long p = 0; p < options.pairsPerUser; ++p) {
      const size_t a = rng.below(types);
      size_t b = rng.below(types - 1);
      b = b >= a ? b + 1 : b;
      const double ra = (a == type ? 10.0 : 0.0) + 0.01 * rng.normal();
      const double rb = (b == type ? 10.0 : 0.0) + 0.01 * rng.normal();
      const bool aWins = rng.uniform() < 1 / (1 + std::exp(-(ra - rb)));
      pairs << nlohmann::json({{"prompt", prompt},
                               {"chosen", armText(aWins ? a : b)},
                               {"rejected", armText(aWins ? b : a)},
                               {"annotator", name},
                               {"true_type", type}})
                   .dump()
            << "\n";
    }
  }
  std::ostringstream sft;
  for (size_t i = 0; i < 50 * types; ++i)
    sft << nlohmann::json({{"prompt", prompt}, {"response", armText(i % types)}}).dump() << "\n";
  std::vector<double> shares;
  for (long n : perType)
    shares.push_back(static_cast<double>(n) / static_cast<double>(options.users));
  nlohmann::json truth = {{"mixture", options.mixture},       {"users", options.users},
                          {"pairs_per_user", options.pairsPerUser}, {"seed", options.seed},
                          {"type_of_user", typeOfUser},        {"type_shares", shares}};
  rt::writeFileAtomically(rt::joinPath(dir, "pairs.jsonl"), pairs.str());
  rt::writeFileAtomically(rt::joinPath(dir, "sft.jsonl"), sft.str());
  rt::writeFileAtomically(rt::joinPath(dir, "truth.json"), truth.dump(2) + "\n");
  std::string summary;
  for (size_t k = 0; k < types; ++k) {
    char share[48];
    std::snprintf(share, sizeof share, "%s%ld (%.2f)", k ? ", " : "", perType[k], shares[k]);
    summary += share;
  }
  std::fprintf(stderr, "em-bandit: %ld users (per type: %s), %ld comparisons each (%ld rows), %zu arms -> %s\n",
               options.users, summary.c_str(), options.pairsPerUser, options.users * options.pairsPerUser, types,
               dir.c_str());
}

} // namespace align::data
