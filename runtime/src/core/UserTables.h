//===- UserTables.h - What a user model learned, by user and by group -*- C++ -*-===//
//
// P-RLHF's user models (docs/methods.md §1.1) give user i soft tokens: the cluster model Σ_k softmax(W_i)_k C_k,
// the individual model e_0 + o_i. Whether they personalise shows in the learned tables: users who want the same
// thing should have alike rows. When the training rows name each user's group, this summary says how:
//
//   cluster model    each user's weights softmax(W_i) and its argmax; each group's mean weights and the
//                    cluster most of its users lean to; `with_group`: the fraction of users whose own argmax
//                    is their group's cluster (0 when two groups lean to the same one); the generic row W_0.
//   individual model each user's offset norm ‖o_i‖ and its cosine to its own group's centroid (the mean
//                    offset of the group's other users) and to the nearest other group's; `with_group`: the
//                    fraction of users closer (cosine) to their own group's centroid.
//
// eval.json[stage]["user_tables"], one stderr line, and a picture OUT/<stage>_users.svg (the groups' mean
// weights per cluster, or the groups' mean cosines). docs/trainer.md, "Users".
//
//===----------------------------------------------------------------------===//
#pragma once

#include "data/PreparedData.h"
#include "model/UserModel.h"

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace align::rt {

/// The summary for a user model trained on `rows`; null without a user model or without groups in the rows.
nlohmann::json userTableSummary(UserModel &users, const std::vector<PreparedExample> &rows);

/// One line for stderr: "cluster model: long: 7 users -> cluster 1 (mean weight 0.61), …; 90% of users with
/// their group".
std::string userTableLine(const nlohmann::json &summary);

/// The summary's picture written to `path` (a grouped bar chart).
void writeUserTableChart(const std::string &path, const std::string &stage, const nlohmann::json &summary);

} // namespace align::rt
