//===- prefix_sharing.cpp - What decoding a pair's prompt once saves, by prompt and response length ===//
//
// The share-prefix decision (compiler/passes/SharePrefix.cpp, runtime/src/model/PackedLayout.h) decodes the
// prompt a preference pair's chosen and rejected responses share once. What it saves depends on how much of
// each row the prompt is: for a grid of prompt lengths P and response lengths R, this times one policy step
// of a micro-batch of pairs — decoder forward, the LM head's log-probs at the response tokens (chunked, as
// the trainer's default), backward — with the prompt shared and unshared (both skip the padding), in the same
// process on the same model and ids, and prints the ratio. The rejected response is 3/4 of R long, so rows
// differ in length as real pairs do. Prints a table; writes JSON (default bench/results/prefix_sharing.json).
//
//   ninja -C build bench_prefix_sharing
//   build/bin/bench_prefix_sharing [--layers 2 --hidden 256 --heads 4 --intermediate 688] [--pairs 4]
//       [--prompts 32,128,384] [--responses 32,128] [--precision fp32|bf16] [--runs 3] [--threads N] [--out F]
//
//===----------------------------------------------------------------------===//

#include "model/Llama.h"
#include "objectives/ChunkedLogprobs.h"
#include "train/Precision.h"

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

using namespace align::rt;

namespace {

std::vector<int64_t> listOf(const std::string &text) {
  std::vector<int64_t> out;
  std::stringstream in(text);
  for (std::string item; std::getline(in, item, ',');)
    out.push_back(std::stoll(item));
  return out;
}

struct Pairs {
  torch::Tensor ids, lengths, targets; // [2N, T], [2N], [2N, T-1] response targets
  RowLayout shared;
  int64_t tokens = 0, sharedTokens = 0;
};

/// N pairs: row 2i = prompt_i + chosen_i (R tokens), row 2i+1 = prompt_i + rejected_i (3R/4 tokens).
Pairs makePairs(int64_t pairs, int64_t prompt, int64_t response, int64_t vocab) {
  const int64_t rejected = std::max<int64_t>(1, response * 3 / 4), length = prompt + response;
  Pairs p;
  p.ids = torch::zeros({2 * pairs, length}, torch::kInt64);
  p.targets = torch::zeros({2 * pairs, length - 1}, torch::kBool);
  std::vector<int64_t> lengths;
  for (int64_t i = 0; i < pairs; ++i) {
    torch::Tensor head = torch::randint(1, vocab, {prompt}, torch::kInt64);
    for (int64_t k = 0; k < 2; ++k) {
      const int64_t row = 2 * i + k, own = k == 0 ? response : rejected;
      p.ids[row].slice(0, 0, prompt).copy_(head);
      p.ids[row].slice(0, prompt, prompt + own).copy_(torch::randint(1, vocab, {own}, torch::kInt64));
      p.ids[row][prompt] = 1 + k; // the responses differ from their first token
      p.targets[row].slice(0, prompt - 1, prompt + own - 1).fill_(true);
      lengths.push_back(prompt + own);
      p.tokens += prompt + own;
    }
    p.shared.groupSizes.push_back(2);
    p.shared.sharedPrefixes.push_back(prompt);
  }
  p.lengths = torch::tensor(lengths, torch::kInt64);
  p.shared.lengths = p.lengths;
  p.sharedTokens = p.tokens - p.shared.sharedTokens();
  return p;
}

} // namespace

int main(int argc, char **argv) {
  int64_t layers = 2, hidden = 256, heads = 4, intermediate = 688, vocab = 32000, pairs = 4;
  std::vector<int64_t> prompts = {32, 128, 384}, responses = {32, 128};
  int runs = 3, threads = 0;
  std::string precisionName = "fp32";
  std::string out = ALIGN_BENCH_DEFAULT_OUT;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string flag = argv[i], value = argv[i + 1];
    if (flag == "--layers") layers = std::stoll(value);
    else if (flag == "--hidden") hidden = std::stoll(value);
    else if (flag == "--heads") heads = std::stoll(value);
    else if (flag == "--intermediate") intermediate = std::stoll(value);
    else if (flag == "--vocab") vocab = std::stoll(value);
    else if (flag == "--pairs") pairs = std::stoll(value);
    else if (flag == "--prompts") prompts = listOf(value);
    else if (flag == "--responses") responses = listOf(value);
    else if (flag == "--runs") runs = std::stoi(value);
    else if (flag == "--threads") threads = std::stoi(value);
    else if (flag == "--precision") precisionName = value;
    else if (flag == "--out") out = value;
    else {
      std::fprintf(stderr, "unknown flag %s\n", flag.c_str());
      return 2;
    }
  }
  if (threads > 0)
    torch::set_num_threads(threads);
  const Precision precision = precisionName == "bf16" ? Precision::bf16 : Precision::fp32;
  ModelConfig config = presetConfig("tiny", vocab);
  config.numHiddenLayers = layers;
  config.hiddenSize = hidden;
  config.numAttentionHeads = heads;
  config.numKeyValueHeads = heads;
  config.headDim = hidden / heads;
  config.intermediateSize = intermediate;
  CausalLM model(config);
  model->initialize(0);
  model->train();
  torch::manual_seed(0);

  nlohmann::json rows = nlohmann::json::array();
  std::printf("Llama %lldx%lld, %lld pairs per step, %s, %d threads\n", static_cast<long long>(layers),
              static_cast<long long>(hidden), static_cast<long long>(pairs), precisionName.c_str(),
              torch::get_num_threads());
  std::printf("%8s %8s %10s %10s %11s %11s %8s\n", "prompt", "response", "tokens", "shared tok", "unshared ms",
              "shared ms", "speedup");
  for (int64_t prompt : prompts)
    for (int64_t response : responses) {
      Pairs p = makePairs(pairs, prompt, response, vocab);
      config.maxPositionEmbeddings = std::max(config.maxPositionEmbeddings, prompt + response);
      auto step = [&](const RowLayout &layout) {
        PrecisionScope scope(precision, torch::kCPU);
        model->zero_grad();
        torch::Tensor h = model->hidden(p.ids, {}, layout);
        torch::Tensor where = p.targets.reshape({-1}).nonzero().squeeze(1);
        torch::Tensor states = h.slice(1, 0, h.size(1) - 1).reshape({-1, hidden}).index_select(0, where);
        torch::Tensor next = p.ids.slice(1, 1).reshape({-1}).index_select(0, where);
        torch::Tensor weight = model->headWeight().to(states.scalar_type());
        (-chunkedTokenLogprobs(states, weight, next, 1024).sum()).backward();
      };
      auto median = [&](const RowLayout &layout) {
        step(layout); // warm-up
        std::vector<double> times;
        for (int r = 0; r < runs; ++r) {
          auto start = std::chrono::steady_clock::now();
          step(layout);
          times.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
        }
        std::sort(times.begin(), times.end());
        return times[times.size() / 2];
      };
      const double unshared = median(RowLayout(p.lengths)), shared = median(p.shared);
      std::printf("%8lld %8lld %10lld %10lld %11.1f %11.1f %7.2fx\n", static_cast<long long>(prompt),
                  static_cast<long long>(response), static_cast<long long>(p.tokens),
                  static_cast<long long>(p.sharedTokens), unshared * 1e3, shared * 1e3, unshared / shared);
      rows.push_back({{"prompt", prompt},
                      {"response", response},
                      {"rejected", std::max<int64_t>(1, response * 3 / 4)},
                      {"tokens", p.tokens},
                      {"shared_tokens", p.sharedTokens},
                      {"unshared_step_s", unshared},
                      {"shared_step_s", shared},
                      {"speedup", unshared / shared}});
    }
  nlohmann::json report = {{"model", {{"layers", layers}, {"hidden", hidden}, {"heads", heads},
                                      {"intermediate", intermediate}, {"vocab", vocab}}},
                           {"pairs", pairs},
                           {"precision", precisionName},
                           {"threads", torch::get_num_threads()},
                           {"runs", runs},
                           {"rows", rows}};
  std::ofstream(out) << report.dump(2) << "\n";
  std::printf("wrote %s\n", out.c_str());
  return 0;
}
