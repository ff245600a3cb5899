//===- UserModelFile.h - user_model.json: a user model's settings -*- C++ -*-===//
//
// The torch-free half of model/UserModel.h: the settings and user names a saved P-RLHF user model keeps in
// user_model.json beside user_model.safetensors. Reading checks every field before a table is allocated, so
// a malformed file is an Error naming it, never a LibTorch failure (tests/fuzz/ fuzzes this).
//
//===----------------------------------------------------------------------===//
#pragma once

#include "align/rt/Trainer.h"

#include <cstdint>
#include <string>
#include <vector>

namespace align::rt {

struct UserModelFile {
  UserModelSpec settings;
  std::vector<std::string> users; ///< the known users, in id order (user i + 1 is users[i])
  int64_t hiddenSize = 0;
};

/// Parses the text of a user_model.json; `path` names it in every Error.
UserModelFile parseUserModelFile(const std::string &text, const std::string &path);

} // namespace align::rt
