//===- api.h - The runtime's public interface ------------------*- C++ -*-===//
//
// What generated trainers and the runtime's tools see of the runtime. No torch header is included here (or
// in anything this includes), so a translation unit using the runtime compiles in a second; the LibTorch
// types live behind these classes in runtime/src/. Errors are align::rt::Error.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "align/rt/Error.h"

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace align::rt {

enum class Device { CPU, CUDA };

/// "cpu" or "cuda"; an Error for anything else, or for "cuda" where no GPU is available.
Device parseDevice(const std::string &name);

/// Sets the number of CPU threads LibTorch uses (intra-op); 0 leaves the default.
void setThreads(int threads);

/// A causal language model of the Llama family (Llama, Qwen2, Mistral shapes).
class LanguageModel {
public:
  /// Loads a Hugging Face checkpoint directory (config.json + safetensors).
  static std::unique_ptr<LanguageModel> load(const std::string &dir, Device device = Device::CPU);
  /// A randomly initialised built-in preset ("tiny", "small", "medium"), seeded.
  static std::unique_ptr<LanguageModel> preset(const std::string &name, int64_t vocabSize, uint64_t seed,
                                               Device device = Device::CPU);
  ~LanguageModel();

  /// Writes the model as a Hugging Face checkpoint directory that transformers loads unchanged.
  void save(const std::string &dir) const;
  /// log p(ids[i] | ids[<i]) for i = 1 .. n-1 (n - 1 values; none for n < 2).
  std::vector<double> tokenLogprobs(const std::vector<int64_t> &ids) const;
  /// New tokens after `prompt`, sampled with a KV cache: temperature 0 is greedy, `topP` < 1 nucleus
  /// sampling; stops after `eosId` (when ≥ 0) or `maxNewTokens`. Reproducible for a given `seed`.
  std::vector<int64_t> generate(const std::vector<int64_t> &prompt, int64_t maxNewTokens, double temperature,
                                double topP, uint64_t seed, int64_t eosId = -1) const;
  int64_t vocabSize() const;

  struct Impl; // opaque: defined in runtime/src, where torch is
  explicit LanguageModel(std::unique_ptr<Impl> impl);

private:
  std::unique_ptr<Impl> impl_;
};

/// A reward model (scalar or multi-objective regression head on a decoder).
class RewardScorer {
public:
  /// Loads a checkpoint directory saved by the runtime or by transformers' *ForSequenceClassification.
  static std::unique_ptr<RewardScorer> load(const std::string &dir, Device device = Device::CPU);
  /// A reward head on a new causal LM loaded from `lmDir`; `pooling` is last, eos, mean or max.
  static std::unique_ptr<RewardScorer> fromLanguageModel(const std::string &lmDir, int64_t outputs,
                                                         const std::string &pooling, uint64_t seed);
  ~RewardScorer();
  void save(const std::string &dir) const;
  /// Rewards of each sequence (one vector of `outputs()` values per sequence), batched internally.
  std::vector<std::vector<double>> score(const std::vector<std::vector<int64_t>> &sequences, int64_t padId) const;
  int64_t outputs() const;
  int64_t vocabSize() const;

  struct Impl; // opaque
  explicit RewardScorer(std::unique_ptr<Impl> impl);

private:
  std::unique_ptr<Impl> impl_;
};

/// Text ↔ token ids: the built-in byte-level tokenizer ("bytes") or a Hugging Face tokenizer.json.
class TextTokenizer {
public:
  /// `spec` is "bytes" or the path of a tokenizer.json.
  static std::unique_ptr<TextTokenizer> open(const std::string &spec);
  ~TextTokenizer();
  std::vector<int64_t> encode(const std::string &text) const;
  std::string decode(const std::vector<int64_t> &ids) const;
  int64_t vocabSize() const;
  /// Special ids, -1 where the tokenizer has none.
  int64_t bosId() const;
  int64_t eosId() const;
  int64_t padId() const;

  struct Impl; // opaque: defined in runtime/src
  explicit TextTokenizer(std::unique_ptr<Impl> impl);

private:
  std::unique_ptr<Impl> impl_;
};

} // namespace align::rt
