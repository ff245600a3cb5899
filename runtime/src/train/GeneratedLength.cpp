//===- GeneratedLength.cpp - Mean generated length by group ---------------===//

#include "train/GeneratedLength.h"

#include "align/rt/Error.h"
#include "model/Generate.h"

namespace align::rt {

GeneratedLengths generatedLengthBy(CausalLM &policy, UserModel users, const std::vector<data::Example> &rows,
                                   const std::function<std::string(const data::Example &)> &groupOf,
                                   const Tokenizer &tokenizer, const data::TokenizeOptions &tokenize,
                                   const GenerationSettings &settings, torch::Device device) {
  if (settings.maxNewTokens < 1 || settings.samples < 1)
    throw Error("generated_length needs max_new_tokens >= 1 and samples >= 1");
  torch::NoGradGuard noGrad;
  data::TokenizeOptions promptOnly = tokenize;
  promptOnly.addEos = false;
  SamplingOptions sampling;
  sampling.maxNewTokens = settings.maxNewTokens;
  sampling.temperature = settings.temperature;
  sampling.eosId = tokenizer.eosId();
  std::map<std::string, int64_t> tokens;
  GeneratedLengths out;
  for (size_t r = 0; r < rows.size(); ++r) {
    const data::Example &row = rows[r];
    const std::string group = groupOf(row);
    if (out.prompts[group] >= settings.samples)
      continue;
    std::vector<int64_t> prompt = data::tokenizePromptResponse(tokenizer, row.prompt, "", promptOnly).ids;
    torch::Tensor softTokens;
    if (users)
      softTokens = users->forward(torch::tensor({users->idOf(row.user)}, torch::kInt64).to(device));
    sampling.seed = settings.seed + r;
    std::vector<int64_t> generated = generate(policy, prompt, sampling, softTokens);
    if (!generated.empty() && sampling.eosId && generated.back() == *sampling.eosId)
      generated.pop_back();
    tokens[group] += static_cast<int64_t>(generated.size());
    if (!out.example.count(group))
      out.example[group] = tokenizer.decode(generated);
    ++out.prompts[group];
  }
  for (const auto &[group, n] : out.prompts)
    out.mean[group] = n > 0 ? static_cast<double>(tokens[group]) / static_cast<double>(n) : 0.0;
  return out;
}

} // namespace align::rt
