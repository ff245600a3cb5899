//===- GeneratedLength.cpp - Mean generated length by group ---------------===//

#include "train/GeneratedLength.h"

#include "align/rt/Error.h"
#include "model/Generate.h"

namespace align::rt {

GeneratedLengths generatedLengthBy(CausalLM &policy, UserModel users, const std::vector<data::Example> &rows,
                                   const std::function<std::string(const data::Example &)> &groupOf,
                                   const Tokenizer &tokenizer, const data::TokenizeOptions &tokenize,
                                   const GenerationSettings &settings, torch::Device device, const dist::World *world) {
  if (settings.maxNewTokens < 1 || settings.samples < 1)
    throw Error("generated_length needs max_new_tokens >= 1 and samples >= 1");
  torch::NoGradGuard noGrad;
  data::TokenizeOptions promptOnly = tokenize;
  promptOnly.addEos = false;
  SamplingOptions sampling;
  sampling.maxNewTokens = settings.maxNewTokens;
  sampling.temperature = settings.temperature;
  sampling.eosId = tokenizer.eosId();

  // The prompts sampled: the first `samples` rows of each group; the first of a group is its example text.
  std::vector<size_t> chosen;
  std::vector<std::string> groups;
  std::vector<char> firstOfGroup;
  GeneratedLengths out;
  for (size_t r = 0; r < rows.size(); ++r) {
    std::string group = groupOf(rows[r]);
    if (out.prompts[group] >= settings.samples)
      continue;
    firstOfGroup.push_back(out.prompts[group] == 0);
    ++out.prompts[group];
    chosen.push_back(r);
    groups.push_back(std::move(group));
  }
  const bool sharded = world && world->distributed();
  const auto [first, last] = sharded ? dist::sliceOf(static_cast<int64_t>(chosen.size()), world->rank(), world->size())
                                     : std::pair<int64_t, int64_t>{0, static_cast<int64_t>(chosen.size())};
  // This rank's share as one record per prompt: its length, then (the first of a group) the number of
  // tokens and the tokens, -1 otherwise; records of all ranks come back in prompt order.
  std::vector<double> records;
  for (int64_t c = first; c < last; ++c) {
    const data::Example &row = rows[chosen[static_cast<size_t>(c)]];
    std::vector<int64_t> prompt = data::tokenizePromptResponse(tokenizer, row.prompt, "", promptOnly).ids;
    torch::Tensor softTokens;
    if (users)
      softTokens = users->forward(torch::tensor({users->idOf(row.user)}, torch::kInt64).to(device));
    sampling.seed = settings.seed + chosen[static_cast<size_t>(c)];
    std::vector<int64_t> generated = generate(policy, prompt, sampling, softTokens);
    if (!generated.empty() && sampling.eosId && generated.back() == *sampling.eosId)
      generated.pop_back();
    records.push_back(static_cast<double>(generated.size()));
    if (firstOfGroup[static_cast<size_t>(c)]) {
      records.push_back(static_cast<double>(generated.size()));
      records.insert(records.end(), generated.begin(), generated.end());
    } else {
      records.push_back(-1);
    }
  }
  if (sharded)
    records = world->allGather(records);

  std::map<std::string, int64_t> tokens;
  size_t at = 0;
  for (size_t c = 0; c < chosen.size(); ++c) {
    tokens[groups[c]] += static_cast<int64_t>(records.at(at));
    const auto count = static_cast<int64_t>(records.at(at + 1));
    at += 2;
    if (count >= 0) {
      std::vector<int64_t> ids(records.begin() + static_cast<int64_t>(at), records.begin() + static_cast<int64_t>(at) + count);
      out.example[groups[c]] = bytelevel::utf8Lossy(tokenizer.decode(ids)); // printed: a byte model may end mid-character
      at += static_cast<size_t>(count);
    }
  }
  for (const auto &[group, n] : out.prompts)
    out.mean[group] = n > 0 ? static_cast<double>(tokens[group]) / static_cast<double>(n) : 0.0;
  return out;
}

} // namespace align::rt
