//===- dpo_step.cpp - DPO training through the runtime's stage runner: losses, time, tokens, peak RSS ===//
//
// The runtime's side of bench/dpo_vs_trl.py, which runs TRL's DPOTrainer on the same checkpoint, tokenizer,
// data and settings in the same session and prints the ratios. Everything goes through the code a recipe's
// trainer runs: loadCausalLM (policy and frozen reference, both from the same Hugging Face checkpoint),
// loadHfTokenizer, data::loadSource (a pairwise jsonl: prompt, chosen, rejected), prepareExamples, and
// runStage with one dpo term, shuffle off (batches in file order, as the peer's SequentialSampler), the
// reference precomputed before the loop, and logEvery 1.
//
// What is measured:
//   loop_s      the training loop alone: Σ over steps of that step's seconds, read back from the metrics the
//               runner logs (with logEvery 1 each record's tokens_per_s covers exactly one step: the window
//               starts after the previous record, so the reference precompute before the loop is excluded;
//               step seconds = the step's non-pad tokens / tokens_per_s, tokens counted here by the same
//               collation the runner uses).
//   stage_s     wall time of the whole runStage call (reference precompute, loop, final evaluation-free
//               checkpoint and state saving), for information.
//   tokens      non-pad tokens of chosen + rejected sequences per step (what the loop forwards).
//   peak_rss    VmHWM of this process at the end (models, data, optimizer state, the loop's peak).
// Prints one JSON object on stdout.
//
//===----------------------------------------------------------------------===//

#include "support/Files.h"
#include "data/Collate.h"
#include "data/Examples.h"
#include "model/Checkpoint.h"
#include "tokenizer/Tokenizer.h"
#include "data/PreparedData.h"
#include "train/Metrics.h"
#include "train/StageRunner.h"

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

using namespace align::rt;

namespace {

int64_t statusKiB(const char *field) {
  std::ifstream status("/proc/self/status");
  const std::string key = std::string(field) + ":";
  for (std::string line; std::getline(status, line);)
    if (line.rfind(key, 0) == 0)
      return std::stoll(line.substr(key.size()));
  return -1;
}

void usage() {
  std::fprintf(stderr,
               "usage: bench_dpo_step --model DIR --tokenizer tokenizer.json --data pairs.jsonl [--steps 50]\n"
               "       [--batch 8] [--micro-batch 0] [--max-length 256] [--max-prompt-length L] [--beta 0.1]\n"
               "       [--lr 5e-5] [--beta1 0.9] [--beta2 0.999] [--eps 1e-8] [--weight-decay 0] [--clip 1]\n"
               "       [--fused 1|0] [--chunk-rows 1024] [--precision fp32|bf16] [--threads N] [--seed 42]\n"
               "       [--out-dir DIR]\n");
}

} // namespace

int main(int argc, char **argv) {
  std::string modelDir, tokenizerPath, dataPath, outDir, precision = "fp32";
  int64_t steps = 50, batch = 8, microBatch = 0, maxLength = 256, maxPromptLength = -1, chunkRows = 1024;
  double beta = 0.1, lr = 5e-5, beta1 = 0.9, beta2 = 0.999, eps = 1e-8, weightDecay = 0.0, clip = 1.0;
  int threads = 0;
  bool fused = true;
  uint64_t seed = 42;
  for (int i = 1; i < argc; ++i) {
    std::string flag = argv[i];
    if (flag == "--help" || flag == "-h") {
      usage();
      return 0;
    }
    if (i + 1 >= argc) {
      std::fprintf(stderr, "%s needs a value\n", flag.c_str());
      return 2;
    }
    std::string value = argv[++i];
    if (flag == "--model") modelDir = value;
    else if (flag == "--tokenizer") tokenizerPath = value;
    else if (flag == "--data") dataPath = value;
    else if (flag == "--out-dir") outDir = value;
    else if (flag == "--steps") steps = std::stoll(value);
    else if (flag == "--batch") batch = std::stoll(value);
    else if (flag == "--micro-batch") microBatch = std::stoll(value);
    else if (flag == "--max-length") maxLength = std::stoll(value);
    else if (flag == "--max-prompt-length") maxPromptLength = std::stoll(value);
    else if (flag == "--chunk-rows") chunkRows = std::stoll(value);
    else if (flag == "--beta") beta = std::stod(value);
    else if (flag == "--lr") lr = std::stod(value);
    else if (flag == "--beta1") beta1 = std::stod(value);
    else if (flag == "--beta2") beta2 = std::stod(value);
    else if (flag == "--eps") eps = std::stod(value);
    else if (flag == "--weight-decay") weightDecay = std::stod(value);
    else if (flag == "--clip") clip = std::stod(value);
    else if (flag == "--threads") threads = std::stoi(value);
    else if (flag == "--fused") fused = value != "0" && value != "false";
    else if (flag == "--precision") precision = value;
    else if (flag == "--seed") seed = std::stoull(value);
    else {
      std::fprintf(stderr, "unknown flag %s\n", flag.c_str());
      usage();
      return 2;
    }
  }
  if (modelDir.empty() || tokenizerPath.empty() || dataPath.empty()) {
    usage();
    return 2;
  }
  try {
    if (threads > 0)
      torch::set_num_threads(threads);
    bool ownOutDir = outDir.empty();
    if (ownOutDir) {
      char pattern[] = "/tmp/bench_dpo_step.XXXXXX";
      if (!mkdtemp(pattern))
        throw Error("cannot create a temporary directory");
      outDir = pattern;
    }
    makeDirectories(outDir);

    std::unique_ptr<Tokenizer> tokenizer = loadHfTokenizer(tokenizerPath);
    data::SourceSpec spec;
    spec.name = "pairs";
    spec.kind = DataKind::pairwise;
    spec.path = dataPath;
    data::LoadedSource loaded = data::loadSource(spec);
    const std::vector<data::Example> &rows = loaded.splits.at("train");

    StageInputs inputs;
    inputs.name = "dpo";
    DpoParams dpo;
    dpo.beta = beta;
    inputs.terms.push_back(termOf(dpo));
    PrepareOptions prepare;
    prepare.pairs = true;
    prepare.tokenize.maxLength = maxLength;
    // TRL 1.16 cuts prompt+response as one sequence (keep_start): with the prompt limit at maxLength, the
    // runtime cuts only the response's end, which is the same as long as the prompt alone is shorter than
    // maxLength (the driver leaves out the rows where it is not; TRL drops them too).
    prepare.tokenize.maxPromptLength = maxPromptLength >= 0 ? maxPromptLength : maxLength;
    prepare.tokenize.truncateLeft = false;
    int64_t unused = 0;
    inputs.train = prepareExamples(rows, *tokenizer, prepare, &unused);
    inputs.padId = data::padIdOf(*tokenizer);

    StageSchedule &s = inputs.schedule;
    s.optimizer = OptimizerKind::adamw;
    s.lr = lr;
    s.beta1 = beta1;
    s.beta2 = beta2;
    s.eps = eps;
    s.weightDecay = weightDecay;
    s.lrSchedule = LRScheduleKind::constant;
    s.warmup = 0;
    s.batch = batch;
    s.microBatch = microBatch;
    s.steps = steps;
    s.precision = precision == "bf16" ? Precision::bf16 : Precision::fp32;
    s.clip = clip;
    s.seed = seed;
    s.logEvery = 1;
    s.reference = ReferenceStrategy::precompute;
    s.fusedLogprobs = fused;
    s.logprobChunk = chunkRows;
    s.lengthBuckets = false;
    s.shuffle = false;

    // Non-pad tokens of each step's batch, by the runner's own collation (batches in data order).
    const int64_t total = plannedSteps(s, static_cast<int64_t>(inputs.train.size()), 0);
    std::vector<int64_t> stepTokens, stepSequences;
    {
      int64_t epoch = 0;
      while (static_cast<int64_t>(stepTokens.size()) < total) {
        for (const auto &order : data::batchOrder(static_cast<int64_t>(inputs.train.size()), batch, seed, epoch, false)) {
          if (static_cast<int64_t>(stepTokens.size()) >= total)
            break;
          std::vector<const PreparedExample *> part;
          for (int64_t i : order)
            part.push_back(&inputs.train[i]);
          stepTokens.push_back(collateSequences(part, inputs.padId).tokenCount);
          int64_t n = 0;
          for (const PreparedExample *e : part)
            n += static_cast<int64_t>(e->sequences.size());
          stepSequences.push_back(n);
        }
        ++epoch;
      }
    }

    inputs.policy = loadCausalLM(modelDir);
    inputs.reference = loadCausalLM(modelDir);

    RunOptions options;
    options.outDir = outDir;
    MetricsLog metrics(outDir);
    const int64_t rssBefore = statusKiB("VmRSS");
    const auto start = std::chrono::steady_clock::now();
    StageResult result = runStage(inputs, options, metrics);
    const double stageSeconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

    std::vector<double> losses, stepSeconds;
    double loopSeconds = 0;
    int64_t tokens = 0;
    for (const MetricRecord &r : metrics.records()) {
      if (r.stage != inputs.name || r.split != "train")
        continue;
      const size_t k = losses.size();
      losses.push_back(r.values.at("loss"));
      const double tps = r.values.at("tokens_per_s");
      const double seconds = k < stepTokens.size() && tps > 0 ? static_cast<double>(stepTokens[k]) / tps : 0;
      stepSeconds.push_back(seconds);
      loopSeconds += seconds;
      tokens += k < stepTokens.size() ? stepTokens[k] : 0;
    }
    nlohmann::json out = {{"impl", std::string("alignc-") + (fused ? "fused" : "unfused")},
                          {"steps", result.steps},
                          {"examples", inputs.train.size()},
                          {"unused_examples", unused},
                          {"losses", losses},
                          {"step_tokens", stepTokens},
                          {"step_sequences", stepSequences},
                          {"step_s", stepSeconds},
                          {"loop_s", loopSeconds},
                          {"stage_s", stageSeconds},
                          {"tokens", tokens},
                          {"tokens_per_s", loopSeconds > 0 ? static_cast<double>(tokens) / loopSeconds : 0.0},
                          {"rss_before_stage_bytes", rssBefore * 1024},
                          {"peak_rss_bytes", statusKiB("VmHWM") * 1024},
                          {"threads", torch::get_num_threads()},
                          {"pad_id", inputs.padId},
                          {"vocab", tokenizer->vocabSize()}};
    if (ownOutDir)
      removeTree(outDir);
    std::printf("%s\n", out.dump().c_str());
  } catch (const std::exception &e) {
    std::fprintf(stderr, "bench_dpo_step: %s\n", e.what());
    return 1;
  }
  return 0;
}
