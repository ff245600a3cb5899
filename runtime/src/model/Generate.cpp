//===- Generate.cpp - Sampling from a causal LM with a KV cache -----------===//

#include "model/Generate.h"

#include "align/rt/Error.h"

namespace align::rt {

namespace {

/// The sampling distribution over the last dimension of float32 `logits`: softmax(logits / T), cut to the
/// nucleus when top_p < 1.
torch::Tensor probabilities(const torch::Tensor &logits, const SamplingOptions &options) {
  torch::Tensor probs = torch::softmax(logits / options.temperature, -1);
  if (options.topP < 1.0) {
    auto [sorted, order] = probs.sort(/*dim=*/-1, /*descending=*/true);
    torch::Tensor before = sorted.cumsum(-1) - sorted; // mass of the tokens ranked above each one
    sorted.masked_fill_(before >= options.topP, 0);    // keep the smallest prefix reaching top_p
    probs = torch::zeros_like(probs).scatter_(-1, order, sorted);
  }
  return probs;
}

/// The next token from the last position's logits [vocab] (float32).
int64_t pick(const torch::Tensor &logits, const SamplingOptions &options, at::Generator &generator) {
  if (options.temperature <= 0)
    return logits.argmax().item<int64_t>();
  return at::multinomial(probabilities(logits, options), 1, /*replacement=*/false, generator).item<int64_t>();
}

/// The next token of each row from logits [rows, vocab] (float32): [rows].
torch::Tensor pickRows(const torch::Tensor &logits, const SamplingOptions &options, at::Generator &generator) {
  if (options.temperature <= 0)
    return logits.argmax(-1);
  return at::multinomial(probabilities(logits, options), 1, /*replacement=*/false, generator).squeeze(-1);
}

void checkOptions(const SamplingOptions &options) {
  if (options.topP <= 0 || options.topP > 1)
    throw Error("top_p must be in (0, 1], got " + std::to_string(options.topP));
}

} // namespace

std::vector<int64_t> generate(CausalLM &model, const std::vector<int64_t> &prompt, const SamplingOptions &options,
                              const torch::Tensor &softTokens) {
  if (prompt.empty())
    throw Error("generation needs a prompt of at least one token");
  checkOptions(options);
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

std::vector<std::vector<int64_t>> generateBatch(CausalLM &model, const std::vector<std::vector<int64_t>> &prompts,
                                                const SamplingOptions &options, int64_t padId) {
  checkOptions(options);
  const int64_t rows = static_cast<int64_t>(prompts.size());
  std::vector<std::vector<int64_t>> out(prompts.size());
  if (rows == 0)
    return out;
  int64_t width = 0;
  for (const auto &prompt : prompts) {
    if (prompt.empty())
      throw Error("generation needs a prompt of at least one token");
    width = std::max<int64_t>(width, static_cast<int64_t>(prompt.size()));
  }
  torch::NoGradGuard noGrad;
  torch::Device device = model->headWeight().device();
  auto generator = at::make_generator<at::CPUGeneratorImpl>(options.seed);
  // The left-padded block, its mask, and each row's positions (0 at its first real token).
  torch::Tensor ids = torch::full({rows, width}, padId, torch::kInt64);
  torch::Tensor real = torch::zeros({rows, width}, torch::kBool);
  for (int64_t r = 0; r < rows; ++r) {
    const auto &prompt = prompts[static_cast<size_t>(r)];
    const int64_t from = width - static_cast<int64_t>(prompt.size());
    ids[r].slice(0, from) = torch::tensor(prompt, torch::kInt64);
    real[r].slice(0, from) = true;
  }
  torch::Tensor positions = (real.to(torch::kInt64).cumsum(1) - 1).clamp_min(0);
  KVCache cache;
  cache.keyMask = real.to(device);
  torch::Tensor input = ids.to(device), step = positions.to(device);
  torch::Tensor next = positions.select(1, width - 1); // [rows] each row's last position
  std::vector<bool> done(prompts.size(), false);
  int64_t running = rows;
  for (int64_t t = 0; t < options.maxNewTokens && running > 0; ++t) {
    if (cache.length + input.size(1) > model->config.maxPositionEmbeddings)
      break; // the block has no positions left (a short row could go on; the block stops together)
    torch::Tensor hidden = model->model->forward(model->model->embed_tokens(input), step, &cache);
    torch::Tensor last = hidden.select(1, hidden.size(1) - 1);
    torch::Tensor logits = torch::nn::functional::linear(last, model->headWeight()).to(torch::kCPU, torch::kFloat32);
    torch::Tensor chosen = pickRows(logits, options, generator);
    auto picked = chosen.accessor<int64_t, 1>();
    for (int64_t r = 0; r < rows; ++r) {
      if (done[static_cast<size_t>(r)])
        continue;
      out[static_cast<size_t>(r)].push_back(picked[r]);
      if (options.eosId && picked[r] == *options.eosId)
        done[static_cast<size_t>(r)] = true, --running;
    }
    next = next + 1;
    input = chosen.unsqueeze(1).to(device);
    step = next.unsqueeze(1).to(device);
    cache.keyMask = torch::cat({cache.keyMask, torch::ones({rows, 1}, cache.keyMask.options())}, 1);
  }
  return out;
}

} // namespace align::rt
