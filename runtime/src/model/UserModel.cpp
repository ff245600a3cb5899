//===- UserModel.cpp - P-RLHF user models: soft tokens per user -----------===//

#include "model/UserModel.h"

#include "align/rt/Error.h"
#include "checkpoint/SafeTensors.h"
#include "support/Files.h"
#include "model/Checkpoint.h"
#include "model/UserModelFile.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <fstream>
#include <sstream>

namespace align::rt {

namespace {

const char *kWeightsFile = "user_model.safetensors";
const char *kSettingsFile = "user_model.json";

} // namespace

UserModelImpl::UserModelImpl(const UserModelSpec &settings, std::vector<std::string> users, int64_t hiddenSize)
    : settings(settings), hiddenSize(hiddenSize) {
  if (settings.tokens < 1)
    throw Error("a user model needs at least one user token, got " + std::to_string(settings.tokens));
  std::sort(users.begin(), users.end());
  users.erase(std::unique(users.begin(), users.end()), users.end());
  names = std::move(users);
  for (size_t i = 0; i < names.size(); ++i)
    ids[names[i]] = static_cast<int64_t>(i) + 1;
  const int64_t rows = userCount() + 1, t = settings.tokens;
  if (settings.kind == UserModelKind::individual) {
    user_embedding = register_parameter("user_embedding", torch::zeros({rows * t, hiddenSize}));
  } else {
    if (settings.clusters < 1)
      throw Error("a cluster user model needs at least one cluster, got " + std::to_string(settings.clusters));
    cluster_embedding = register_parameter("cluster_embedding", torch::zeros({settings.clusters * t, hiddenSize}));
    user_weight = register_parameter("user_weight", torch::zeros({rows, settings.clusters}));
  }
}

torch::Tensor UserModelImpl::forward(const torch::Tensor &userIds) {
  const int64_t t = settings.tokens, b = userIds.size(0);
  if (settings.kind == UserModelKind::individual) {
    torch::Tensor table = user_embedding.view({userCount() + 1, t, hiddenSize});
    torch::Tensor generic = table[0].unsqueeze(0).expand({b, t, hiddenSize});
    if (!settings.generic)
      return table.index_select(0, userIds);
    // The generic user (id 0) is e_0 alone; the authors mask the offset with (user_id != 0).
    torch::Tensor offset = table.index_select(0, userIds) * (userIds != 0).to(table.dtype()).view({b, 1, 1});
    return generic + offset;
  }
  torch::Tensor weights = torch::softmax(user_weight.index_select(0, userIds), -1); // [B, K]
  torch::Tensor clusters = cluster_embedding.view({settings.clusters, t * hiddenSize});
  return weights.matmul(clusters).view({b, t, hiddenSize});
}

void UserModelImpl::initialize(const torch::Tensor &tokenEmbedding) {
  torch::NoGradGuard noGrad;
  auto generator = at::make_generator<at::CPUGeneratorImpl>(settings.initSeed);
  torch::Tensor &table = settings.kind == UserModelKind::individual ? user_embedding : cluster_embedding;
  const int64_t rows = table.size(0);
  if (settings.init == UsersInit::vocab) {
    const int64_t vocab = tokenEmbedding.size(0);
    const int64_t pool = settings.initCommon > 0 ? std::min(settings.initCommon, vocab) : vocab;
    if (rows > pool)
      throw Error("user model init vocab: " + std::to_string(rows) + " rows are drawn without replacement, but only " +
                  std::to_string(pool) + " token ids are available (use init: uniform or fewer tokens)");
    torch::Tensor picked = at::randperm(pool, generator, torch::TensorOptions().dtype(torch::kInt64)).slice(0, 0, rows);
    table.copy_(tokenEmbedding.detach().to(torch::kCPU, torch::kFloat32).index_select(0, picked));
  } else if (settings.init == UsersInit::uniform) {
    table.copy_(at::empty(table.sizes(), torch::kFloat32).uniform_(-settings.initRange, settings.initRange, generator));
  }
  if (user_weight.defined())
    user_weight.copy_(at::normal(0.0, settings.weightStd, user_weight.sizes(), generator, user_weight.options()));
}

std::map<std::string, double> userModelDiagnostics(UserModel &users, const torch::Tensor &startWeights) {
  torch::NoGradGuard noGrad;
  std::map<std::string, double> out;
  for (const auto &item : users->named_parameters())
    if (item.value().grad().defined())
      out["users/grad_norm/" + item.key()] = item.value().grad().norm().item<double>();
  if (users->user_weight.defined()) {
    const torch::Tensor w = users->user_weight.detach();
    if (startWeights.defined())
      out["users/weight_shift"] = (w - startWeights.to(w.device())).abs().max().item<double>();
    if (w.size(0) > 1)
      out["users/commitment"] = torch::softmax(w.slice(0, 1), -1).amax(-1).mean().item<double>();
  }
  return out;
}

int64_t UserModelImpl::idOf(const std::string &user) const {
  auto it = ids.find(user);
  if (it != ids.end())
    return it->second;
  if (settings.unseen == Unseen::error)
    throw Error("user '" + user + "' was not seen in training, and the users model says `unseen: error`");
  return 0;
}

void saveUserModel(UserModel &users, const std::string &dir) {
  makeDirectories(dir);
  std::map<std::string, torch::Tensor> tensors;
  for (const auto &item : users->named_parameters())
    tensors[item.key()] = item.value().detach();
  writeSafetensors(joinPath(dir, kWeightsFile), tensors);
  const UserModelSpec &s = users->settings;
  nlohmann::json settings = {{"kind", spelling(s.kind)},   {"tokens", s.tokens},
                             {"generic", s.generic},         {"clusters", s.clusters},
                             {"init", spelling(s.init)},     {"init_seed", s.initSeed},
                             {"init_common", s.initCommon},  {"init_range", s.initRange},
                             {"unseen", spelling(s.unseen)},
                             {"hidden_size", users->hiddenSize}, {"users", users->names}};
  writeFileAtomically(joinPath(dir, kSettingsFile), settings.dump(2) + "\n");
}

UserModel loadUserModel(const std::string &dir) {
  const std::string path = joinPath(dir, kSettingsFile);
  if (!pathExists(path))
    return UserModel{nullptr};
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  const UserModelFile file = parseUserModelFile(text.str(), path);
  UserModel users(file.settings, file.users, file.hiddenSize);
  const std::string weights = joinPath(dir, kWeightsFile);
  loadParametersStrict(*users, readSafetensors(weights), weights, [](const std::string &) { return false; });
  return users;
}

} // namespace align::rt
