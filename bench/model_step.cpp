//===- model_step.cpp - One forward+backward step of a Llama model: time and peak RSS ===//
//
// The runtime's side of bench/model_step_vs_transformers.py, which runs transformers on the same
// configuration in the same session and prints the ratios. Builds a randomly initialised Llama with the
// given shape, feeds a fixed random batch, and times loss = −mean log p(next token) forward and backward
// (no optimizer): `--path unfused` computes the logits (what transformers does), `--path fused` the
// chunked LM-head path (`--chunk`, default 1024); `--activations recompute` recomputes each layer in backward
// (model/ActivationRecompute.h). Prints one JSON object: median step seconds and peak RSS. The cost model's
// calibration (docs/performance.md, "The cost model") comes from this binary.
//
//===----------------------------------------------------------------------===//

#include "model/Llama.h"
#include "objectives/ChunkedLogprobs.h"

#include <ATen/autocast_mode.h>
#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

using namespace align::rt;

namespace {

int64_t peakRssBytes() {
  std::ifstream status("/proc/self/status");
  for (std::string line; std::getline(status, line);)
    if (line.rfind("VmHWM:", 0) == 0)
      return std::stoll(line.substr(6)) * 1024;
  return -1;
}

} // namespace

int main(int argc, char **argv) {
  int64_t layers = 4, hidden = 256, heads = 4, kvHeads = 4, intermediate = 688, vocab = 32000, seq = 512, batch = 8;
  int runs = 3, threads = 0;
  std::string path = "unfused", precision = "fp32", activations = "keep";
  int64_t chunk = 1024;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string flag = argv[i], value = argv[i + 1];
    if (flag == "--layers") layers = std::stoll(value);
    else if (flag == "--hidden") hidden = std::stoll(value);
    else if (flag == "--heads") heads = std::stoll(value);
    else if (flag == "--kv-heads") kvHeads = std::stoll(value);
    else if (flag == "--intermediate") intermediate = std::stoll(value);
    else if (flag == "--vocab") vocab = std::stoll(value);
    else if (flag == "--seq") seq = std::stoll(value);
    else if (flag == "--batch") batch = std::stoll(value);
    else if (flag == "--runs") runs = std::stoi(value);
    else if (flag == "--threads") threads = std::stoi(value);
    else if (flag == "--path") path = value;
    else if (flag == "--precision") precision = value;
    else if (flag == "--chunk") chunk = std::stoll(value);
    else if (flag == "--activations") activations = value;
    else {
      std::fprintf(stderr, "unknown flag %s\n", flag.c_str());
      return 2;
    }
  }
  if (threads > 0)
    torch::set_num_threads(threads);
  ModelConfig config = presetConfig("tiny", vocab);
  config.numHiddenLayers = layers;
  config.hiddenSize = hidden;
  config.numAttentionHeads = heads;
  config.numKeyValueHeads = kvHeads;
  config.headDim = hidden / heads;
  config.intermediateSize = intermediate;
  config.maxPositionEmbeddings = std::max<int64_t>(seq, config.maxPositionEmbeddings);
  CausalLM model(config);
  model->initialize(0);
  model->train();
  model->model->recomputeLayers = activations == "recompute";
  torch::manual_seed(0);
  torch::Tensor ids = torch::randint(0, vocab, {batch, seq}, torch::kInt64);
  if (precision == "bf16") { // autocast, as the trainer's `precision: bf16` (train/TrainingStep.cpp)
    at::autocast::set_autocast_dtype(at::kCPU, at::kBFloat16);
    at::autocast::set_autocast_enabled(at::kCPU, true);
  }
  auto step = [&] {
    model->zero_grad();
    torch::Tensor logps;
    if (path == "fused") {
      torch::Tensor hidden = model->hidden(ids);
      logps = chunkedSequenceTokenLogprobs(hidden, model->headWeight().to(hidden.scalar_type()), ids, chunk);
    } else {
      logps = tokenLogprobs(model, ids);
    }
    (-logps.mean()).backward();
  };
  step(); // warm-up
  std::vector<double> times;
  for (int r = 0; r < runs; ++r) {
    auto start = std::chrono::steady_clock::now();
    step();
    times.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  }
  std::sort(times.begin(), times.end());
  nlohmann::json out = {{"impl", std::string("alignc-") + path}, {"precision", precision},
                        {"chunk", path == "fused" ? chunk : 0},
                        {"activations", activations},
                        {"median_step_s", times[times.size() / 2]},
                        {"steps_s", times},
                        {"peak_rss_bytes", peakRssBytes()},
                        {"threads", torch::get_num_threads()}};
  std::printf("%s\n", out.dump().c_str());
  return 0;
}
