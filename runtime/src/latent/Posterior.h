//===- Posterior.h - EM's belief about each annotator's latent type -*- C++ -*-===//
//
// EM-DPO (docs/methods.md §3.1-3.3) keeps, for H annotators and K latent types, the posterior γ[k, h] (each
// column a distribution over types) and the prior η (the types' shares). The E-step turns each type
// policy's log-likelihood of every annotator's comparisons into the next γ and η:
//   ℓ[k, h] = log η_k + loglik[k, h],   γ[:, h] = softmax_k ℓ[:, h],   η_k = max(mean_h γ[k, h], floor), renormalised.
// The floor is the authors' missing guard: a hard 0/1 start, or a softmax that underflows, would otherwise
// give η_k = 0, log η_k = −∞, and a type that can never come back.
//
// Everything is float64 on the CPU: H × K numbers, and resuming must reproduce them bit for bit.
//
//===----------------------------------------------------------------------===//
#pragma once

#include <torch/torch.h>

#include <string>
#include <vector>

namespace align::rt {

/// The smallest share a type keeps after an E-step (see above); small enough that an empty type's η stays
/// indistinguishable from 0 in any report (the bandit's true shares include a 0).
constexpr double kEtaFloor = 1e-6;

struct LatentPosterior {
  std::vector<std::string> annotators; ///< column h of γ is annotators[h]
  torch::Tensor gamma;                 ///< [K, H] float64, each column sums to 1
  torch::Tensor eta;                   ///< [K] float64, sums to 1

  int64_t types() const { return gamma.size(0); }
  /// Column of `annotator` (an Error naming it if EM never saw it).
  int64_t column(const std::string &annotator) const;
  /// Each annotator's most probable type, [H] int64.
  torch::Tensor hardTypes() const { return gamma.argmax(0); }
};

/// A posterior from a starting γ [K, H] (columns need not be normalised; each is divided by its sum):
/// η = mean γ with the floor. Errors: a shape that does not match the annotators, a negative or non-finite
/// entry, a column summing to 0.
LatentPosterior posteriorFrom(std::vector<std::string> annotators, torch::Tensor gamma, double floor = kEtaFloor);

/// The E-step update from loglik [K, H] = Σ over all of annotator h's comparisons of type k's log-likelihood.
/// A non-finite log-likelihood is an Error naming the type and the annotator.
LatentPosterior eStep(const LatentPosterior &previous, const torch::Tensor &loglik, double floor = kEtaFloor);

/// η floored and renormalised (exposed for the tests and for K = 1, where it is exactly {1}).
torch::Tensor flooredShares(const torch::Tensor &meanGamma, double floor);

/// JSON {"annotators": [...], "gamma": [[...] per type], "eta": [...]}: doubles round-trip exactly, so a
/// resumed EM continues from the same numbers. Written atomically.
void writePosterior(const std::string &path, const LatentPosterior &posterior);
LatentPosterior readPosterior(const std::string &path);

} // namespace align::rt
