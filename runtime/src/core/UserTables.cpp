//===- UserTables.cpp - What a user model learned, by user and by group ---===//

#include "core/UserTables.h"

#include "report/BarChart.h"

#include <cmath>
#include <cstdio>
#include <map>
#include <set>

namespace align::rt {

namespace {

/// Each seen user's group (id → group), from the user's own (non-generic) rows.
std::map<int64_t, std::string> groupsOfUsers(const std::vector<PreparedExample> &rows) {
  std::map<int64_t, std::string> groupOf;
  for (const PreparedExample &row : rows)
    if (row.userId > 0 && !row.group.empty())
      groupOf.emplace(row.userId, row.group);
  return groupOf;
}

std::string nameOf(UserModel &users, int64_t id) {
  return id >= 1 && id <= users->userCount() ? users->names[static_cast<size_t>(id - 1)] : std::to_string(id);
}

std::vector<double> row(const torch::Tensor &t) {
  const torch::Tensor r = t.contiguous();
  return std::vector<double>(r.data_ptr<double>(), r.data_ptr<double>() + r.numel());
}

nlohmann::json clusterSummary(UserModel &users, const std::map<int64_t, std::string> &groupOf) {
  const torch::Tensor weights = torch::softmax(users->user_weight.detach().to(torch::kCPU, torch::kDouble), -1);
  const int64_t k = weights.size(1);
  struct Group {
    int64_t users = 0;
    std::vector<double> meanWeights;
    std::vector<int64_t> votes; // users whose argmax is each cluster
  };
  std::map<std::string, Group> groups;
  nlohmann::json byUser = nlohmann::json::object();
  for (const auto &[id, name] : groupOf) {
    Group &g = groups[name];
    ++g.users;
    g.meanWeights.resize(static_cast<size_t>(k), 0.0);
    g.votes.resize(static_cast<size_t>(k), 0);
    const std::vector<double> w = row(weights[id]);
    for (int64_t c = 0; c < k; ++c)
      g.meanWeights[static_cast<size_t>(c)] += w[static_cast<size_t>(c)];
    const int64_t argmax = weights[id].argmax().item<int64_t>();
    ++g.votes[static_cast<size_t>(argmax)];
    byUser[nameOf(users, id)] = {{"group", name}, {"weights", w}, {"cluster", argmax}};
  }
  nlohmann::json byGroup = nlohmann::json::object();
  std::set<int64_t> leanings;
  bool shared = false;
  std::map<std::string, int64_t> clusterOf;
  for (auto &[name, g] : groups) {
    for (double &w : g.meanWeights)
      w /= static_cast<double>(g.users);
    int64_t cluster = 0; // the cluster most of the group's users lean to (the lower index on a tie)
    for (int64_t c = 1; c < k; ++c)
      if (g.votes[static_cast<size_t>(c)] > g.votes[static_cast<size_t>(cluster)])
        cluster = c;
    shared = shared || !leanings.insert(cluster).second;
    clusterOf[name] = cluster;
    byGroup[name] = {{"users", g.users}, {"mean_weights", g.meanWeights}, {"cluster", cluster}};
  }
  int64_t withGroup = 0;
  for (auto &[user, entry] : byUser.items())
    if (!shared && entry["cluster"].get<int64_t>() == clusterOf[entry["group"].get<std::string>()])
      ++withGroup;
  return {{"model", "cluster"},
          {"by_group", byGroup},
          {"by_user", byUser},
          {"with_group", static_cast<double>(withGroup) / static_cast<double>(groupOf.size())},
          {"users", groupOf.size()},
          {"groups_share_a_cluster", shared},
          {"generic_weights", row(weights[0])}};
}

double cosine(const torch::Tensor &a, const torch::Tensor &b) {
  const double na = a.norm().item<double>(), nb = b.norm().item<double>();
  return na > 0 && nb > 0 ? (a * b).sum().item<double>() / (na * nb) : 0.0;
}

nlohmann::json offsetSummary(UserModel &users, const std::map<int64_t, std::string> &groupOf) {
  // user_embedding: (1 + N users) × tokens rows of the hidden size, the generic user's first; a user's offset
  // o_i is its tokens' rows, flattened.
  const int64_t tokens = users->settings.tokens;
  const torch::Tensor table = users->user_embedding.detach().to(torch::kCPU, torch::kDouble);
  const torch::Tensor offsets = table.reshape({users->userCount() + 1, -1});
  std::map<std::string, std::vector<int64_t>> members;
  for (const auto &[id, name] : groupOf)
    members[name].push_back(id);
  std::map<std::string, torch::Tensor> sums;
  for (const auto &[name, ids] : members) {
    torch::Tensor sum = torch::zeros({offsets.size(1)}, torch::kDouble);
    for (int64_t id : ids)
      sum += offsets[id];
    sums[name] = sum;
  }
  nlohmann::json byUser = nlohmann::json::object();
  struct Totals {
    double norm = 0, own = 0, other = 0;
    int64_t counted = 0;
  };
  std::map<std::string, Totals> totals;
  int64_t withGroup = 0, judged = 0;
  for (const auto &[id, name] : groupOf) {
    const torch::Tensor o = offsets[id];
    const double norm = o.norm().item<double>() / std::sqrt(static_cast<double>(tokens)); // per token
    nlohmann::json entry = {{"group", name}, {"offset_norm", norm}};
    Totals &t = totals[name];
    t.norm += norm;
    // Leave-one-out: the user's own group without it; a group of one has no centroid to compare with.
    const int64_t others = static_cast<int64_t>(members[name].size()) - 1;
    double nearestOther = -2;
    for (const auto &[otherName, sum] : sums)
      if (otherName != name)
        nearestOther = std::max(nearestOther, cosine(o, sum / static_cast<double>(members[otherName].size())));
    if (others > 0 && nearestOther > -2) {
      const double own = cosine(o, (sums[name] - o) / static_cast<double>(others));
      entry["cosine_own_group"] = own;
      entry["cosine_other_group"] = nearestOther;
      t.own += own, t.other += nearestOther, ++t.counted;
      ++judged;
      withGroup += own > nearestOther ? 1 : 0;
    }
    byUser[nameOf(users, id)] = entry;
  }
  nlohmann::json byGroup = nlohmann::json::object();
  for (const auto &[name, t] : totals) {
    const double n = static_cast<double>(members[name].size());
    byGroup[name] = {{"users", members[name].size()}, {"mean_offset_norm", t.norm / n}};
    if (t.counted > 0) {
      byGroup[name]["mean_cosine_own_group"] = t.own / static_cast<double>(t.counted);
      byGroup[name]["mean_cosine_other_group"] = t.other / static_cast<double>(t.counted);
    }
  }
  return {{"model", "individual"},
          {"by_group", byGroup},
          {"by_user", byUser},
          {"with_group", judged > 0 ? nlohmann::json(static_cast<double>(withGroup) / static_cast<double>(judged))
                                    : nlohmann::json(nullptr)},
          {"users", groupOf.size()}};
}

} // namespace

nlohmann::json userTableSummary(UserModel &users, const std::vector<PreparedExample> &rows) {
  if (!users)
    return nullptr;
  const std::map<int64_t, std::string> groupOf = groupsOfUsers(rows);
  if (groupOf.empty())
    return nullptr;
  torch::NoGradGuard noGrad;
  if (users->user_weight.defined())
    return clusterSummary(users, groupOf);
  if (users->user_embedding.defined())
    return offsetSummary(users, groupOf);
  return nullptr;
}

std::string userTableLine(const nlohmann::json &summary) {
  std::string line = summary["model"].get<std::string>() + " model: ";
  char buffer[200];
  bool first = true;
  for (const auto &[name, g] : summary["by_group"].items()) {
    if (summary["model"] == "cluster") {
      const int64_t cluster = g["cluster"].get<int64_t>();
      std::snprintf(buffer, sizeof buffer, "%s%s: %lld users -> cluster %lld (mean weight %.2f)", first ? "" : ", ",
                    name.c_str(), static_cast<long long>(g["users"].get<int64_t>()), static_cast<long long>(cluster),
                    g["mean_weights"][static_cast<size_t>(cluster)].get<double>());
    } else {
      std::snprintf(buffer, sizeof buffer, "%s%s: %lld users, offset norm %.3g, cosine to own group %.2f vs other %.2f",
                    first ? "" : ", ", name.c_str(), static_cast<long long>(g["users"].get<int64_t>()),
                    g["mean_offset_norm"].get<double>(), g.value("mean_cosine_own_group", NAN),
                    g.value("mean_cosine_other_group", NAN));
    }
    line += buffer;
    first = false;
  }
  if (summary["with_group"].is_number()) {
    std::snprintf(buffer, sizeof buffer, "; %.0f%% of users with their group%s",
                  100.0 * summary["with_group"].get<double>(),
                  summary.value("groups_share_a_cluster", false) ? " (groups share a cluster)" : "");
    line += buffer;
  }
  return line;
}

void writeUserTableChart(const std::string &path, const std::string &stage, const nlohmann::json &summary) {
  std::vector<std::string> groups;
  for (const auto &[name, g] : summary["by_group"].items())
    groups.push_back(name + " (" + std::to_string(g["users"].get<int64_t>()) + ")");
  BarSeries series;
  if (summary["model"] == "cluster") {
    const size_t k = summary["generic_weights"].size();
    for (size_t c = 0; c < k; ++c) {
      std::vector<double> values;
      for (const auto &[name, g] : summary["by_group"].items())
        values.push_back(g["mean_weights"][c].get<double>());
      values.push_back(summary["generic_weights"][c].get<double>());
      series.push_back({"cluster " + std::to_string(c), values});
    }
    groups.push_back("generic");
    writeBarChart(path, stage + ": mean cluster weights softmax(W) by user group", "weight", groups, series);
  } else {
    for (const char *key : {"mean_cosine_own_group", "mean_cosine_other_group"}) {
      std::vector<double> values;
      for (const auto &[name, g] : summary["by_group"].items())
        values.push_back(g.value(key, NAN));
      series.push_back({std::string(key) == "mean_cosine_own_group" ? "cosine to own group" : "cosine to other group",
                        values});
    }
    writeBarChart(path, stage + ": user offsets o_i by user group", "mean cosine", groups, series);
  }
}

} // namespace align::rt
