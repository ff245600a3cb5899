//===- Generate.cpp - Sampling from a causal LM with a KV cache -----------===//

#include "model/Generate.h"

#include "align/rt/Error.h"

namespace align::rt {

namespace {

/// The next token from the last position's logits [vocab] (float32).
int64_t pick(const torch::Tensor &logits, const SamplingOptions &options, at::Generator &generator) {
  if (options.temperature <= 0)
    return logits.argmax().item<int64_t>();
  torch::Tensor probs = torch::softmax(logits / options.temperature, -1);
  if (options.topP < 1.0) {
    auto [sorted, order] = probs.sort(/*dim=*/-1, /*descending=*/true);
    torch::Tensor before = sorted.cumsum(-1) - sorted; // mass of the tokens ranked above each one
    sorted.masked_fill_(before >= options.topP, 0);    // keep the smallest prefix reaching top_p
    probs = torch::zeros_like(probs).scatter_(-1, order, sorted);
  }
  return at::multinomial(probs, 1, /*replacement=*/false, generator).item<int64_t>();
}

} // namespace

std::vector<int64_t> generate(CausalLM &model, const std::vector<int64_t> &prompt, const SamplingOptions &options,
                              const torch::Tensor &softTokens) {
  if (prompt.empty())
    throw Error("generation needs a prompt of at least one token");
  if (options.topP <= 0 || options.topP > 1)
    throw Error("top_p must be in (0, 1], got " + std::to_string(options.topP));
  torch::NoGradGuard noGrad;
  torch::Device device = model->headWeight().device();
  auto generator = at::make_generator<at::CPUGeneratorImpl>(options.seed);
  KVCache cache;
  std::vector<int64_t> out;
  torch::Tensor input = torch::tensor(prompt, torch::kInt64).unsqueeze(0).to(device);
  for (int64_t step = 0; step < options.maxNewTokens; ++step) {
    // The prompt pass carries the soft tokens; the cache holds them afterwards.
    torch::Tensor embeddings = step == 0 && softTokens.defined()
                                   ? embedWithSoftTokens(model, input, softTokens.to(device))
                                   : model->model->embed_tokens(input);
    if (cache.length + embeddings.size(1) > model->config.maxPositionEmbeddings)
      break; // the model has no positions left
    torch::Tensor positions =
        torch::arange(cache.length, cache.length + embeddings.size(1), torch::kInt64).unsqueeze(0).to(device);
    torch::Tensor hidden = model->model->forward(embeddings, positions, &cache);
    torch::Tensor logits = torch::nn::functional::linear(hidden[0][-1], model->headWeight()).to(torch::kCPU, torch::kFloat32);
    int64_t next = pick(logits, options, generator);
    out.push_back(next);
    if (options.eosId && next == *options.eosId)
      break;
    input = torch::full({1, 1}, next, torch::kInt64).to(device);
  }
  return out;
}

} // namespace align::rt
