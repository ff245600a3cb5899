//===- TypeInit.cpp - Where EM starts: the first posterior over latent types --===//

#include "latent/TypeInit.h"

#include "align/rt/Error.h"
#include "support/SplitMix64.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <set>

namespace align::rt {

namespace {

/// A uniform double in (0, 1): 53 random bits, never exactly 0 (logs of it are finite).
double uniformOpen(SplitMix64 &rng) { return (static_cast<double>(rng.next() >> 11) + 0.5) * 0x1.0p-53; }

/// A standard normal (Box–Muller; the second value is dropped to keep the stream simple).
double normal(SplitMix64 &rng) {
  const double u = uniformOpen(rng), v = uniformOpen(rng);
  return std::sqrt(-2 * std::log(u)) * std::cos(2 * M_PI * v);
}

/// Gamma(shape, 1): Marsaglia & Tsang (2000) for shape ≥ 1; for shape < 1, Gamma(shape + 1)·U^(1/shape).
double gammaVariate(SplitMix64 &rng, double shape) {
  if (shape < 1)
    return gammaVariate(rng, shape + 1) * std::pow(uniformOpen(rng), 1 / shape);
  const double d = shape - 1.0 / 3, c = 1 / std::sqrt(9 * d);
  for (;;) {
    double x, v;
    do {
      x = normal(rng);
      v = 1 + c * x;
    } while (v <= 0);
    v = v * v * v;
    const double u = uniformOpen(rng);
    if (std::log(u) < 0.5 * x * x + d - d * v + d * std::log(v))
      return d * v;
  }
}

void requireTypes(int64_t types, size_t annotators) {
  if (types < 1)
    throw Error("a latent preference needs k ≥ 1 types, got " + std::to_string(types));
  if (static_cast<size_t>(types) > annotators)
    throw Error("k = " + std::to_string(types) + " latent types, but the data has only " + std::to_string(annotators) +
                " annotator" + (annotators == 1 ? "" : "s"));
}

LatentPosterior hardStart(int64_t types, std::vector<std::string> annotators, const std::vector<int64_t> &typeOf) {
  torch::Tensor gamma = torch::zeros({types, static_cast<int64_t>(annotators.size())}, torch::kFloat64);
  for (size_t h = 0; h < typeOf.size(); ++h)
    gamma[typeOf[h]][static_cast<int64_t>(h)] = 1.0;
  return posteriorFrom(std::move(annotators), gamma);
}

} // namespace

LatentPosterior dirichletInit(int64_t types, std::vector<std::string> annotators, double alpha, uint64_t seed) {
  requireTypes(types, annotators.size());
  if (!(alpha > 0) || !std::isfinite(alpha))
    throw Error("dirichlet(alpha) needs alpha > 0, got " + std::to_string(alpha));
  SplitMix64 rng(seed);
  torch::Tensor gamma = torch::empty({types, static_cast<int64_t>(annotators.size())}, torch::kFloat64);
  auto g = gamma.accessor<double, 2>();
  for (int64_t h = 0; h < gamma.size(1); ++h)
    for (int64_t k = 0; k < types; ++k)
      g[k][h] = gammaVariate(rng, alpha);
  return posteriorFrom(std::move(annotators), gamma);
}

LatentPosterior clustersInit(int64_t types, std::vector<std::string> annotators, const std::vector<std::string> &labels) {
  requireTypes(types, annotators.size());
  if (labels.size() != annotators.size())
    throw Error("clusters: " + std::to_string(labels.size()) + " labels for " + std::to_string(annotators.size()) +
                " annotators");
  std::set<std::string> distinct(labels.begin(), labels.end());
  if (static_cast<int64_t>(distinct.size()) > types)
    throw Error("clusters: the column has " + std::to_string(distinct.size()) + " distinct labels, more than k = " +
                std::to_string(types));
  std::map<std::string, int64_t> typeOfLabel;
  for (const std::string &label : distinct)
    typeOfLabel.emplace(label, static_cast<int64_t>(typeOfLabel.size()));
  std::vector<int64_t> typeOf;
  for (const std::string &label : labels)
    typeOf.push_back(typeOfLabel.at(label));
  return hardStart(types, std::move(annotators), typeOf);
}

AnnotatorVote voteFor(int64_t annotator, const std::string &prompt, const std::string &a, const std::string &b) {
  // Lengths first, so no separator character can make two different triples collide.
  auto key = [&](const std::string &first, const std::string &second) {
    return std::to_string(prompt.size()) + ":" + prompt + std::to_string(first.size()) + ":" + first + second;
  };
  return a < b ? AnnotatorVote{annotator, key(a, b), +1} : AnnotatorVote{annotator, key(b, a), -1};
}

torch::Tensor kMeans(const torch::Tensor &points, int64_t k, uint64_t seed, int restarts) {
  const int64_t n = points.size(0);
  if (k < 1 || k > n)
    throw Error("k-means: k = " + std::to_string(k) + " for " + std::to_string(n) + " points");
  SplitMix64 rng(seed);
  torch::Tensor best;
  double bestInertia = std::numeric_limits<double>::infinity();
  for (int r = 0; r < restarts; ++r) {
    // k-means++: each next centre drawn with probability ∝ squared distance to the nearest centre so far.
    std::vector<int64_t> chosen{static_cast<int64_t>(rng.below(static_cast<uint64_t>(n)))};
    torch::Tensor nearest = (points - points[chosen[0]]).pow(2).sum(1);
    while (static_cast<int64_t>(chosen.size()) < k) {
      const double total = nearest.sum().item<double>();
      int64_t pick = static_cast<int64_t>(rng.below(static_cast<uint64_t>(n)));
      if (total > 0) {
        double target = uniformOpen(rng) * total, running = 0;
        auto d = nearest.accessor<double, 1>();
        for (int64_t i = 0; i < n; ++i)
          if ((running += d[i]) >= target) {
            pick = i;
            break;
          }
      }
      chosen.push_back(pick);
      nearest = torch::minimum(nearest, (points - points[pick]).pow(2).sum(1));
    }
    torch::Tensor centres = points.index({torch::tensor(chosen, torch::kInt64)}).clone();
    torch::Tensor assignment = torch::full({n}, -1, torch::kInt64);
    for (int iteration = 0; iteration < 100; ++iteration) {
      torch::Tensor next = torch::cdist(points, centres).argmin(1);
      if (torch::equal(next, assignment))
        break;
      assignment = next;
      for (int64_t c = 0; c < k; ++c) {
        torch::Tensor members = assignment == c;
        if (members.any().item<bool>())
          centres[c] = points.index({members}).mean(0);
      }
    }
    const double inertia = (points - centres.index({assignment})).pow(2).sum().item<double>();
    if (inertia < bestInertia)
      bestInertia = inertia, best = assignment;
  }
  return best;
}

LatentPosterior agreementInit(int64_t types, std::vector<std::string> annotators,
                              const std::vector<AnnotatorVote> &votes, uint64_t seed) {
  requireTypes(types, annotators.size());
  const int64_t h = static_cast<int64_t>(annotators.size());
  // The votes on each comparison, then Σ sign·sign' and the number shared for every pair of annotators.
  std::map<std::string, std::vector<std::pair<int64_t, int>>> byComparison;
  for (const AnnotatorVote &v : votes) {
    if (v.annotator < 0 || v.annotator >= h || (v.sign != 1 && v.sign != -1))
      throw Error("agreement: a vote names annotator " + std::to_string(v.annotator) + " with sign " +
                  std::to_string(v.sign));
    byComparison[v.comparison].emplace_back(v.annotator, v.sign);
  }
  torch::Tensor agree = torch::zeros({h, h}, torch::kFloat64), shared = torch::zeros({h, h}, torch::kFloat64);
  auto a = agree.accessor<double, 2>();
  auto s = shared.accessor<double, 2>();
  for (const auto &[key, list] : byComparison)
    for (const auto &[i, si] : list)
      for (const auto &[j, sj] : list)
        if (i != j)
          a[i][j] += si * sj, s[i][j] += 1;
  torch::Tensor affinity = torch::where(shared > 0, agree / shared.clamp_min(1), 0.0);
  affinity.fill_diagonal_(1.0);
  auto [values, vectors] = torch::linalg_eigh(affinity); // ascending eigenvalues
  torch::Tensor top = vectors.narrow(1, h - types, types) * values.narrow(0, h - types, types).clamp_min(0).sqrt();
  torch::Tensor clusters = kMeans(top, types, seed);
  std::vector<int64_t> typeOf(clusters.data_ptr<int64_t>(), clusters.data_ptr<int64_t>() + h);
  return hardStart(types, std::move(annotators), typeOf);
}

} // namespace align::rt
