//===- UserModel.h - P-RLHF user models: soft tokens per user --*- C++ -*-===//
//
// The user model of P-RLHF (docs/methods.md §1.1-1.2): each user gets T_u embeddings ("user tokens") that the policy
// reads right after BOS, so one set of weights serves users who disagree.
//
//   individual  e_i = e_0 + o_i (generic offset; or o_i alone), rows of one table `user_embedding`
//               [(N+1)·T, d]; id 0 is the generic user e_0.
//   cluster     e_i = Σ_k softmax(W[i])_k C_k with `cluster_embedding` [K·T, d] and `user_weight` [N+1, K].
//
// Ids: the users of the training data, sorted by name, are 1..N (sorted, so the ids do not depend on row
// order); a user not among them is the generic user 0 (or an error, with `unseen: error`). Parameter names
// are the authors' (`user_embedding`, `cluster_embedding`, `user_weight`). The model is saved next to the
// policy's checkpoint as user_model.safetensors + user_model.json (settings and the user names in id order).
//
//===----------------------------------------------------------------------===//
#pragma once

#include "align/rt/Trainer.h"

#include <torch/torch.h>

#include <map>
#include <string>
#include <vector>

namespace align::rt {

struct UserModelImpl : torch::nn::Module {
  /// `users`: the known users' names (any order; they are sorted to give ids 1..N).
  UserModelImpl(const UserModelSpec &settings, std::vector<std::string> users, int64_t hiddenSize);

  /// Soft tokens for each row's user id: userIds [B] int64 → [B, T, hidden].
  torch::Tensor forward(const torch::Tensor &userIds);
  /// Initial values, as the authors' code: rows of `tokenEmbedding` [vocab, hidden] at ids drawn without
  /// replacement (init vocab), or uniform; the cluster weights W are N(0, 1) (nn.Embedding's default).
  void initialize(const torch::Tensor &tokenEmbedding);

  /// The id of `user`: 1..N when known, else 0 (the generic user) — or an Error with `unseen: error`.
  int64_t idOf(const std::string &user) const;
  bool knows(const std::string &user) const { return ids.count(user) > 0; }
  int64_t userCount() const { return static_cast<int64_t>(names.size()); }

  UserModelSpec settings;
  std::vector<std::string> names; ///< names[i - 1] is user i
  std::map<std::string, int64_t> ids;
  int64_t hiddenSize = 0;
  torch::Tensor user_embedding;    ///< individual
  torch::Tensor cluster_embedding; ///< cluster
  torch::Tensor user_weight;       ///< cluster
};
TORCH_MODULE(UserModel);

/// What a stage logs about its user model every log step (docs/trainer.md, "Users"): `users/grad_norm/TABLE`,
/// each table's gradient norm after clipping; for a cluster model also `users/weight_shift`, max |W − W_start|,
/// and `users/commitment`, the mean over seen users of max_k softmax(W_i) (1/K: undecided, 1: one cluster).
std::map<std::string, double> userModelDiagnostics(UserModel &users, const torch::Tensor &startWeights);

/// Writes `dir`/user_model.safetensors and `dir`/user_model.json (atomically).
void saveUserModel(UserModel &users, const std::string &dir);
/// The user model saved in `dir`, or an empty holder when the directory has none.
UserModel loadUserModel(const std::string &dir);

} // namespace align::rt
