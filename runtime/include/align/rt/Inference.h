//===- Inference.h - Models, reward scorers and tokenizers -----*- C++ -*-===//
//
// The runtime's public inference interface: load a checkpoint, score, generate, tokenize — what align-lm and
// other tools use. (Generated trainers include align/rt/Trainer.h instead.) No torch header is included, so a
// translation unit using it compiles in a second; the LibTorch types live behind these classes in
// runtime/src/. Errors are align::rt::Error.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "align/rt/Error.h"

#include <cstdint>
#include <map>
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

  /// P-RLHF: the users of the user model saved beside the checkpoint (user_model.json), empty without one.
  std::vector<std::string> users() const;
  /// Selects whose user tokens tokenLogprobs and generate read from now on. A user the model was not
  /// trained on is served as the generic user, and the result is false; so is "" (the generic user).
  /// An Error when the checkpoint has no user model.
  bool selectUser(const std::string &user);

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
  /// Rewards of each sequence (one vector of `outputs()` values per sequence). `batch` 0: batches of 16 of
  /// similar length (fast); N > 0: N sequences at a time in the given order, as a trainer's evaluation pads
  /// them — float sums depend on the padded width, so this is how to reproduce its numbers exactly.
  std::vector<std::vector<double>> score(const std::vector<std::vector<int64_t>> &sequences, int64_t padId,
                                         int64_t batch = 0) const;
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
