//===- UserClusters.cpp - Where a cluster user model put each user --------===//

#include "core/UserClusters.h"

#include <cstdio>
#include <map>
#include <set>

namespace align::rt {

nlohmann::json userClusterSummary(UserModel &users, const std::vector<PreparedExample> &rows) {
  if (!users || !users->user_weight.defined())
    return nullptr;
  std::map<int64_t, std::string> groupOf; // user id → group, from the user's own (non-generic) rows
  for (const PreparedExample &row : rows)
    if (row.userId > 0 && !row.group.empty())
      groupOf.emplace(row.userId, row.group);
  if (groupOf.empty())
    return nullptr;
  torch::NoGradGuard noGrad;
  const torch::Tensor weights = torch::softmax(users->user_weight.detach().to(torch::kCPU, torch::kDouble), -1);
  const int64_t k = weights.size(1);

  struct Group {
    std::vector<int64_t> ids;
    std::vector<double> meanWeights;
    std::vector<int64_t> votes; // users whose argmax is each cluster
  };
  std::map<std::string, Group> groups;
  for (const auto &[id, name] : groupOf) {
    Group &g = groups[name];
    g.ids.push_back(id);
    g.meanWeights.resize(static_cast<size_t>(k), 0.0);
    g.votes.resize(static_cast<size_t>(k), 0);
    for (int64_t c = 0; c < k; ++c)
      g.meanWeights[static_cast<size_t>(c)] += weights[id][c].item<double>();
    ++g.votes[static_cast<size_t>(weights[id].argmax().item<int64_t>())];
  }
  nlohmann::json byGroup = nlohmann::json::object();
  std::set<int64_t> leanings;
  bool shared = false;
  std::map<std::string, int64_t> clusterOf;
  for (auto &[name, g] : groups) {
    for (double &w : g.meanWeights)
      w /= static_cast<double>(g.ids.size());
    int64_t cluster = 0; // the cluster most of the group's users lean to (the lower index on a tie)
    for (int64_t c = 1; c < k; ++c)
      if (g.votes[static_cast<size_t>(c)] > g.votes[static_cast<size_t>(cluster)])
        cluster = c;
    shared = shared || !leanings.insert(cluster).second;
    clusterOf[name] = cluster;
    byGroup[name] = {{"users", g.ids.size()}, {"mean_weights", g.meanWeights}, {"cluster", cluster}};
  }
  int64_t withGroup = 0;
  for (const auto &[id, name] : groupOf)
    if (!shared && weights[id].argmax().item<int64_t>() == clusterOf[name])
      ++withGroup;
  nlohmann::json generic = std::vector<double>(weights[0].data_ptr<double>(), weights[0].data_ptr<double>() + k);
  return {{"by_group", byGroup},
          {"with_group", static_cast<double>(withGroup) / static_cast<double>(groupOf.size())},
          {"users", groupOf.size()},
          {"groups_share_a_cluster", shared},
          {"generic_weights", generic}};
}

std::string userClusterLine(const nlohmann::json &summary) {
  std::string line;
  char buffer[160];
  for (const auto &[name, g] : summary["by_group"].items()) {
    const int64_t cluster = g["cluster"].get<int64_t>();
    std::snprintf(buffer, sizeof buffer, "%s%s: %lld users -> cluster %lld (mean weight %.2f)", line.empty() ? "" : ", ",
                  name.c_str(), static_cast<long long>(g["users"].get<int64_t>()), static_cast<long long>(cluster),
                  g["mean_weights"][static_cast<size_t>(cluster)].get<double>());
    line += buffer;
  }
  std::snprintf(buffer, sizeof buffer, "; %.0f%% of users with their group's cluster%s",
                100.0 * summary["with_group"].get<double>(),
                summary["groups_share_a_cluster"].get<bool>() ? " (groups share a cluster)" : "");
  return line + buffer;
}

} // namespace align::rt
