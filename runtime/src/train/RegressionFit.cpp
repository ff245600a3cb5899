//===- RegressionFit.cpp - How well a regression reward predicts held-out ratings ---===//

#include "train/RegressionFit.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

namespace align::rt {

double pearsonCorrelation(const std::vector<double> &x, const std::vector<double> &y) {
  const size_t n = std::min(x.size(), y.size());
  if (n < 2)
    return std::numeric_limits<double>::quiet_NaN();
  double mx = 0, my = 0;
  for (size_t i = 0; i < n; ++i)
    mx += x[i], my += y[i];
  mx /= static_cast<double>(n), my /= static_cast<double>(n);
  double sxy = 0, sxx = 0, syy = 0;
  for (size_t i = 0; i < n; ++i)
    sxy += (x[i] - mx) * (y[i] - my), sxx += (x[i] - mx) * (x[i] - mx), syy += (y[i] - my) * (y[i] - my);
  if (sxx <= 0 || syy <= 0)
    return std::numeric_limits<double>::quiet_NaN();
  return sxy / std::sqrt(sxx * syy);
}

namespace {

std::vector<double> averageRanks(const std::vector<double> &values) {
  std::vector<size_t> order(values.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return values[a] < values[b]; });
  std::vector<double> ranks(values.size());
  for (size_t i = 0; i < order.size();) {
    size_t j = i;
    while (j + 1 < order.size() && values[order[j + 1]] == values[order[i]])
      ++j;
    const double rank = (static_cast<double>(i) + static_cast<double>(j)) / 2 + 1; // ties: their mean rank
    for (size_t m = i; m <= j; ++m)
      ranks[order[m]] = rank;
    i = j + 1;
  }
  return ranks;
}

} // namespace

double spearmanCorrelation(const std::vector<double> &x, const std::vector<double> &y) {
  return pearsonCorrelation(averageRanks(x), averageRanks(y));
}

std::vector<ObjectiveFit> objectiveFits(const std::vector<std::vector<double>> &predictions,
                                        const std::vector<std::vector<double>> &targets) {
  if (predictions.size() != targets.size())
    throw Error("regression fit: " + std::to_string(predictions.size()) + " predictions for " +
                std::to_string(targets.size()) + " rows");
  const size_t k = targets.empty() ? 0 : targets.front().size();
  std::vector<ObjectiveFit> fits(k);
  for (size_t o = 0; o < k; ++o) {
    std::vector<double> p, t;
    for (size_t i = 0; i < targets.size(); ++i)
      if (o < targets[i].size() && o < predictions[i].size() && !std::isnan(targets[i][o]))
        p.push_back(predictions[i][o]), t.push_back(targets[i][o]);
    ObjectiveFit &fit = fits[o];
    fit.rows = static_cast<int64_t>(p.size());
    for (size_t i = 0; i < p.size(); ++i)
      fit.mse += (p[i] - t[i]) * (p[i] - t[i]) / static_cast<double>(p.size());
    fit.pearson = pearsonCorrelation(p, t);
    fit.spearman = spearmanCorrelation(p, t);
  }
  return fits;
}

std::vector<std::vector<double>> rewardPredictions(RewardModel &reward, const std::vector<PreparedExample> &examples,
                                                   int64_t padId, int64_t batch) {
  torch::NoGradGuard noGrad;
  reward->eval();
  torch::Device device = reward->score->weight.device();
  std::vector<std::vector<double>> out;
  for (size_t from = 0; from < examples.size(); from += static_cast<size_t>(std::max<int64_t>(batch, 1))) {
    const size_t to = std::min(examples.size(), from + static_cast<size_t>(std::max<int64_t>(batch, 1)));
    std::vector<data::TokenizedText> rows;
    for (size_t i = from; i < to; ++i)
      rows.push_back(examples[i].sequences.at(0));
    data::TokenBatch tokens = data::collate(rows, padId);
    torch::Tensor values =
        reward->forward(tokens.ids.to(device), tokens.attention.to(device)).to(torch::kCPU, torch::kFloat64).contiguous();
    for (int64_t r = 0; r < values.size(0); ++r)
      out.emplace_back(values[r].data_ptr<double>(), values[r].data_ptr<double>() + values.size(1));
  }
  return out;
}

} // namespace align::rt
