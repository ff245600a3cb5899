//===- UserClusters.h - Where a cluster user model put each user -----*- C++ -*-===//
//
// P-RLHF's cluster user model (docs/methods.md §1.1) gives user i the soft tokens Σ_k softmax(W_i)_k C_k. Whether
// it personalises shows in W: users who want the same thing should share a cluster. When the training rows name
// each user's group, this summary says how the learned weights sort the users: each group's mean weights, the
// cluster most of the group's users lean to, and the fraction of users whose own argmax is their group's cluster
// (0 when two groups lean to the same one). eval.json[stage]["user_clusters"]; docs/trainer.md, "Users".
//
//===----------------------------------------------------------------------===//
#pragma once

#include "data/PreparedData.h"
#include "model/UserModel.h"

#include <nlohmann/json.hpp>

#include <vector>

namespace align::rt {

/// The summary for a cluster user model trained on `rows`; null for an individual model or rows without groups.
nlohmann::json userClusterSummary(UserModel &users, const std::vector<PreparedExample> &rows);

/// One line for stderr: "long: 7 users → cluster 0 (0.97), short: 3 users → cluster 1 (0.95); 10/10 with their group".
std::string userClusterLine(const nlohmann::json &summary);

} // namespace align::rt
