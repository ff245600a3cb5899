//===- RatingTargets.cpp - From ratings to a regression head's targets ----===//

#include "data/RatingTargets.h"

#include <cmath>

namespace align::rt {

RatingTargets ratingTargets(const RegressionParams &params, const std::vector<PreparedExample> &train) {
  if (!std::isfinite(params.target_scale) || params.target_scale == 0 || !std::isfinite(params.target_shift))
    throw Error("regression: target_scale must be a finite non-zero number and target_shift finite");
  const size_t k = train.empty() ? 0 : train.front().ratings.size();
  RatingTargets out{std::vector<double>(k, params.target_scale), std::vector<double>(k, params.target_shift)};
  if (!params.normalize)
    return out;
  for (size_t o = 0; o < k; ++o) {
    double sum = 0, squares = 0, n = 0;
    for (const PreparedExample &e : train) {
      if (o >= e.ratings.size() || std::isnan(e.ratings[o]))
        continue;
      const double y = params.target_scale * e.ratings[o] + params.target_shift;
      sum += y, squares += y * y, n += 1;
    }
    if (n < 2)
      throw Error("regression(normalize: true): objective " + std::to_string(o) + " has " +
                  std::to_string(static_cast<int64_t>(n)) + " present ratings in the training rows; standardising needs two");
    const double mean = sum / n, sd = std::sqrt(std::max(0.0, squares / n - mean * mean));
    if (!(sd > 0))
      throw Error("regression(normalize: true): every training rating of objective " + std::to_string(o) +
                  " is the same; it cannot be standardised");
    // (scale · r + shift − mean) / sd
    out.scale[o] = params.target_scale / sd;
    out.shift[o] = (params.target_shift - mean) / sd;
  }
  return out;
}

void applyRatingTargets(const RatingTargets &targets, std::vector<PreparedExample> &examples) {
  for (PreparedExample &e : examples)
    for (size_t o = 0; o < e.ratings.size() && o < targets.scale.size(); ++o)
      if (!std::isnan(e.ratings[o]))
        e.ratings[o] = targets.scale[o] * e.ratings[o] + targets.shift[o];
}

} // namespace align::rt
