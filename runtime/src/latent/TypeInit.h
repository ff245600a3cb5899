//===- TypeInit.h - Where EM starts: the first posterior over latent types -*- C++ -*-===//
//
// `latent(init: ...)` (docs/methods.md §3.3, docs/language.md): EM's answer depends on its start, because each
// type policy explains best the annotators it was trained on.
//   dirichlet(alpha, seed)  each annotator's γ column drawn from Dirichlet(α·1); α large → near uniform
//   clusters(column)        a hard start from a label per annotator (the authors start from precomputed clusters)
//   agreement(seed)         a spectral embedding of how often annotators agree on the comparisons they share,
//                           clustered by k-means (the remedy a re-implementation found for EM that does not
//                           move from a random start)
// All are deterministic for a seed on every machine (SplitMix64, not <random>).
//
//===----------------------------------------------------------------------===//
#pragma once

#include "latent/Posterior.h"

#include <cstdint>
#include <string>
#include <vector>

namespace align::rt {

LatentPosterior dirichletInit(int64_t types, std::vector<std::string> annotators, double alpha, uint64_t seed);

/// labels[h] is annotator h's label; distinct labels, in sorted order, become types 0, 1, ... More distinct
/// labels than types is an Error naming the count.
LatentPosterior clustersInit(int64_t types, std::vector<std::string> annotators, const std::vector<std::string> &labels);

/// One vote: annotator `annotator` (an index into the annotators) preferred the first response of the
/// comparison `comparison` (sign +1) or the second (−1). A comparison names a prompt and an unordered pair of
/// responses the same way for every annotator (see comparisonKey).
struct AnnotatorVote {
  int64_t annotator;
  std::string comparison;
  int sign;
};

/// The key and sign of "a preferred to b on prompt": the pair in a fixed order, so two annotators who saw the
/// same two responses share the key whichever they chose.
AnnotatorVote voteFor(int64_t annotator, const std::string &prompt, const std::string &a, const std::string &b);

/// The agreement start: A[h, h'] = mean over comparisons both voted on of sign_h·sign_h' (0 when they share
/// none; 1 on the diagonal); each annotator embedded by the top-K eigenvectors of A scaled by √λ (negative
/// eigenvalues clamped to 0); k-means (k-means++ seeding, 10 restarts, lowest inertia) into K hard types.
LatentPosterior agreementInit(int64_t types, std::vector<std::string> annotators,
                              const std::vector<AnnotatorVote> &votes, uint64_t seed);

/// k-means of the rows of `points` [N, D] into k clusters, [N] int64 (exposed for its test).
torch::Tensor kMeans(const torch::Tensor &points, int64_t k, uint64_t seed, int restarts = 10);

} // namespace align::rt
