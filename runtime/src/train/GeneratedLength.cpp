//===- GeneratedLength.cpp - Mean generated length by group ---------------===//

#include "train/GeneratedLength.h"

#include "dist/Shares.h"

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
  const auto [first, last] = dist::shareOf(chosen.size(), world);
  std::vector<std::vector<int64_t>> generated; // this rank's share of the chosen prompts' answers
  for (size_t c = first; c < last; ++c) {
    const data::Example &row = rows[chosen[c]];
    std::vector<int64_t> prompt = data::tokenizePromptResponse(tokenizer, row.prompt, "", promptOnly).ids;
    torch::Tensor softTokens;
    if (users)
      softTokens = users->forward(torch::tensor({users->idOf(row.user)}, torch::kInt64).to(device));
    sampling.seed = settings.seed + chosen[c];
    std::vector<int64_t> answer = generate(policy, prompt, sampling, softTokens);
    if (!answer.empty() && sampling.eosId && answer.back() == *sampling.eosId)
      answer.pop_back();
    generated.push_back(std::move(answer));
  }
  generated = dist::allGatherRows(generated, world); // every rank's share, in prompt order

  std::map<std::string, int64_t> tokens;
  for (size_t c = 0; c < chosen.size(); ++c) {
    tokens[groups[c]] += static_cast<int64_t>(generated.at(c).size());
    if (firstOfGroup[c]) // printed: a byte model may end mid-character
      out.example[groups[c]] = bytelevel::utf8Lossy(tokenizer.decode(generated[c]));
  }
  for (const auto &[group, n] : out.prompts)
    out.mean[group] = n > 0 ? static_cast<double>(tokens[group]) / static_cast<double>(n) : 0.0;
  return out;
}

} // namespace align::rt
