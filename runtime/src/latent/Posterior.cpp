//===- Posterior.cpp - EM's belief about each annotator's latent type --------===//

#include "latent/Posterior.h"

#include "align/rt/Error.h"
#include "support/AtomicWrite.h"

#include <nlohmann/json.hpp>

#include <cmath>
#include <fstream>
#include <sstream>

namespace align::rt {

namespace {

torch::Tensor float64(const torch::Tensor &t) { return t.detach().to(torch::kCPU, torch::kFloat64).contiguous(); }

} // namespace

int64_t LatentPosterior::column(const std::string &annotator) const {
  for (size_t h = 0; h < annotators.size(); ++h)
    if (annotators[h] == annotator)
      return static_cast<int64_t>(h);
  throw Error("annotator '" + annotator + "' has no posterior (it had no comparison in the EM's training data)");
}

torch::Tensor flooredShares(const torch::Tensor &meanGamma, double floor) {
  if (!(floor >= 0) || floor * static_cast<double>(meanGamma.numel()) >= 1)
    throw Error("the floor of the type shares must lie in [0, 1/K), got " + std::to_string(floor));
  torch::Tensor shares = float64(meanGamma).clamp_min(floor);
  return shares / shares.sum();
}

LatentPosterior posteriorFrom(std::vector<std::string> annotators, torch::Tensor gamma, double floor) {
  gamma = float64(gamma);
  if (gamma.dim() != 2 || gamma.size(0) < 1 || gamma.size(1) != static_cast<int64_t>(annotators.size()))
    throw Error("a starting posterior must be K × H with H = " + std::to_string(annotators.size()) +
                " annotators, got shape " + c10::str(gamma.sizes()));
  if (!torch::isfinite(gamma).all().item<bool>() || (gamma < 0).any().item<bool>())
    throw Error("a starting posterior must be finite and non-negative");
  torch::Tensor sums = gamma.sum(0);
  if ((sums <= 0).any().item<bool>()) {
    const int64_t h = (sums <= 0).nonzero()[0][0].item<int64_t>();
    throw Error("the starting posterior of annotator '" + annotators[static_cast<size_t>(h)] + "' sums to 0");
  }
  LatentPosterior out;
  out.annotators = std::move(annotators);
  out.gamma = gamma / sums;
  out.eta = flooredShares(out.gamma.mean(1), floor);
  return out;
}

LatentPosterior eStep(const LatentPosterior &previous, const torch::Tensor &loglik, double floor) {
  torch::Tensor ll = float64(loglik);
  if (!ll.sizes().equals(previous.gamma.sizes()))
    throw Error("E-step: the log-likelihoods have shape " + c10::str(ll.sizes()) + ", the posterior " +
                c10::str(previous.gamma.sizes()));
  torch::Tensor bad = torch::isfinite(ll).logical_not();
  if (bad.any().item<bool>()) {
    torch::Tensor where = bad.nonzero()[0];
    const int64_t k = where[0].item<int64_t>(), h = where[1].item<int64_t>();
    throw Error("E-step: type " + std::to_string(k) + "'s log-likelihood of annotator '" +
                previous.annotators[static_cast<size_t>(h)] + "' is " + std::to_string(ll[k][h].item<double>()));
  }
  LatentPosterior out;
  out.annotators = previous.annotators;
  out.gamma = torch::softmax(previous.eta.log().unsqueeze(1) + ll, 0);
  out.eta = flooredShares(out.gamma.mean(1), floor);
  return out;
}

void writePosterior(const std::string &path, const LatentPosterior &posterior) {
  nlohmann::json j;
  j["annotators"] = posterior.annotators;
  const int64_t types = posterior.types(), columns = posterior.gamma.size(1);
  auto gamma = posterior.gamma.accessor<double, 2>();
  for (int64_t k = 0; k < types; ++k) {
    std::vector<double> row(static_cast<size_t>(columns));
    for (int64_t h = 0; h < columns; ++h)
      row[static_cast<size_t>(h)] = gamma[k][h];
    j["gamma"].push_back(row);
  }
  j["eta"] = std::vector<double>(posterior.eta.data_ptr<double>(), posterior.eta.data_ptr<double>() + types);
  // nlohmann writes the shortest decimal that reads back to the same double: the round trip is exact.
  writeFileAtomically(path, j.dump() + "\n");
}

LatentPosterior readPosterior(const std::string &path) {
  std::ifstream in(path);
  if (!in)
    throw Error(path + ": cannot open the EM posterior");
  nlohmann::json j;
  try {
    in >> j;
    LatentPosterior out;
    out.annotators = j.at("annotators").get<std::vector<std::string>>();
    auto rows = j.at("gamma").get<std::vector<std::vector<double>>>();
    auto eta = j.at("eta").get<std::vector<double>>();
    if (rows.empty() || rows.size() != eta.size())
      throw Error("'gamma' has " + std::to_string(rows.size()) + " rows and 'eta' " + std::to_string(eta.size()) +
                  " entries");
    out.gamma = torch::empty({static_cast<int64_t>(rows.size()), static_cast<int64_t>(out.annotators.size())},
                             torch::kFloat64);
    for (size_t k = 0; k < rows.size(); ++k) {
      if (rows[k].size() != out.annotators.size())
        throw Error("'gamma' row " + std::to_string(k) + " has " + std::to_string(rows[k].size()) +
                    " entries for " + std::to_string(out.annotators.size()) + " annotators");
      for (size_t h = 0; h < rows[k].size(); ++h)
        out.gamma[static_cast<int64_t>(k)][static_cast<int64_t>(h)] = rows[k][h];
    }
    out.eta = torch::tensor(eta, torch::kFloat64);
    return out;
  } catch (const nlohmann::json::exception &e) {
    throw Error(path + ": not an EM posterior: " + e.what());
  } catch (const Error &e) {
    throw Error(path + ": " + e.what());
  }
}

} // namespace align::rt
