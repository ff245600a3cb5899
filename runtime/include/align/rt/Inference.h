//===- Inference.h - Models, reward scorers and tokenizers -----*- C++ -*-===//
//
// The runtime's public inference interface: load a checkpoint, score, generate, tokenize, read comparison
// files as a trainer does — what align-lm and other tools use. (Generated trainers include align/rt/Trainer.h
// instead.) No torch header is included, so a translation unit using it compiles in a second; the LibTorch
// types live behind these classes in runtime/src/. Errors are align::rt::Error.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "align/rt/Error.h"

#include <cstdint>
#include <functional>
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

/// How LanguageModel samples (runtime/src/model/Generate.h: the cuts, their order and the determinism contract).
struct GenerationSettings {
  int64_t maxNewTokens = 64;
  double temperature = 1.0; ///< 0: greedy
  double topP = 1.0;        ///< nucleus, in (0, 1]
  int64_t topK = 0;         ///< 0: no cut
  uint64_t seed = 0;
  int64_t eosId = -1; ///< stop after this token; -1: no stop token
};

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
  /// The same with every setting (top-k included); sample 0 of prompt 0 of generateSamples.
  std::vector<int64_t> generate(const std::vector<int64_t> &prompt, const GenerationSettings &settings) const;
  /// `samplesPerPrompt` samples of each prompt, decoded in batches of at most `maxRowsPerBatch` rows with a KV
  /// cache: result[i][j] is sample j of prompt i (without the prompt; eos included when it stopped there).
  /// `padId` fills the left padding. With `wanted`, only the samples it accepts are generated (the others are
  /// empty), each with the same random draws as in a full run: a mixture gives each policy its samples.
  /// The same seed, prompts, samplesPerPrompt and maxRowsPerBatch give the same ids.
  std::vector<std::vector<std::vector<int64_t>>>
  generateSamples(const std::vector<std::vector<int64_t>> &prompts, int64_t samplesPerPrompt,
                  const GenerationSettings &settings, int64_t padId, int64_t maxRowsPerBatch,
                  const std::function<bool(size_t prompt, int64_t sample)> &wanted = {}) const;
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

/// A mixture policy written by an `aggregate` (DIR/mixture.json): policy k answers a prompt with
/// probability w_k (docs/methods.md §3.5).
struct PolicyMixture {
  std::vector<std::string> policies; ///< checkpoint directories
  std::vector<double> weights;
  /// Reads DIR/mixture.json; an Error naming the file and field when it is missing or malformed.
  static PolicyMixture load(const std::string &dir);
  /// The policy answering draw `index` of a run seeded `seed`: k with probability w_k; reproducible.
  size_t pick(uint64_t seed, uint64_t index = 0) const;
};

/// A DPA policy's prompt under a direction (docs/methods.md §4.2): the direction.json that `loop rsf` saves
/// beside each iteration's policy in `modelDir` renders its system text for `direction` ("0.8,-0.6": weights
/// over its objectives, normalised; or "-15deg"), and `prompt` is rendered by the template of the prompts it
/// was trained on, after that text and a newline — exactly as training conditioned it. Errors name the file.
std::string directionPrompt(const std::string &modelDir, const std::string &direction, const std::string &prompt);

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
  /// P-RM: the users of the user model saved beside the checkpoint (user_model.json), empty without one.
  std::vector<std::string> users() const;
  /// Selects whose user tokens score reads from now on; an unseen user (or "") is the generic user, and the
  /// result is false. An Error when the checkpoint has no user model.
  bool selectUser(const std::string &user);
  int64_t outputs() const;
  int64_t vocabSize() const;

  struct Impl; // opaque
  explicit RewardScorer(std::unique_ptr<Impl> impl);

private:
  std::unique_ptr<Impl> impl_;
};

/// How a prompt and a response are fitted into maxLength tokens: BOS counts as a prompt token.
struct PromptTruncation {
  int64_t maxLength = 512;
  int64_t maxPromptLength = 256; ///< the prompt is cut to this only when prompt + response is too long
  bool truncateLeft = true;      ///< which end of the PROMPT is cut: true keeps its end (the latest turns)
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
  /// [BOS] prompt response [EOS] for each of `responses`, tokenized and cut to fit as a trainer does
  /// (runtime/src/data/Collate.h): the prompt and each response are encoded separately; the prompt is cut
  /// once, for the longest response, so every response is scored after the same context; then each
  /// response's end is cut. An Error when maxLength < 1 or maxPromptLength < 0.
  std::vector<std::vector<int64_t>> encodePromptResponses(const std::string &prompt,
                                                          const std::vector<std::string> &responses,
                                                          const PromptTruncation &truncation) const;

  struct Impl; // opaque: defined in runtime/src
  explicit TextTokenizer(std::unique_ptr<Impl> impl);

private:
  std::unique_ptr<Impl> impl_;
};

/// Comparisons of a preference data file, read by the trainers' typed data sources (docs/language.md §data),
/// so a file, a split and a row limit give the rows a trainer's evaluation reads, in its order.
enum class ComparisonFormat {
  /// DSP's listwise {text: [...], score: [...]} list (a `scored` source); with a `domain`, DSP's raw
  /// {query, responses: {domain: text}} list (`domain_pairs`, in the paper's "## Human:/## Assistant:"
  /// template), the domain's response preferred to each other domain's.
  DSP,
  /// TRL's {prompt, chosen, rejected} (a `pairwise` source).
  Pairwise,
};

struct ComparisonOptions {
  ComparisonFormat format = ComparisonFormat::DSP;
  std::string domain; ///< DSP only: the preferred domain ("": the file is listwise)
  /// A recipe's `split NAME = PCT%`: only that split's rows, the same ones for the same shuffle seed;
  /// "": every row.
  std::string split;
  double splitFraction = 0; ///< PCT / 100, within [0, 1]
  uint64_t shuffleSeed = 0;
  size_t limit = 0; ///< the first N rows only (a trainer's --eval-limit N); 0: all
  std::string userColumn; ///< Pairwise only: the column naming each row's user (a P-RM's); "": none
};

struct Comparisons {
  /// Each row's prompt and responses as rendered for a trainer; the texts scored are prompt + response
  /// (TextTokenizer::encodePromptResponses).
  struct Example {
    std::string prompt;
    std::vector<std::string> responses;
    std::string user; ///< the row's value of ComparisonOptions::userColumn ("" without one)
  };
  std::vector<Example> examples;
  /// `better` should out-score `worse`: indices of responses counted over the examples in order.
  struct Pair {
    size_t better, worse;
    std::string group; ///< DSP domain pairs: the other (rejected) domain; "" otherwise
    size_t example;    ///< the index of its row in `examples`
  };
  /// Every two responses of an example with different scores, in example order.
  std::vector<Pair> pairs;
  size_t ties = 0; ///< pairs left out because their scores are equal
};

/// Reads the comparisons of `path`; a malformed row is an Error naming FILE:LINE and the field.
Comparisons readComparisons(const std::string &path, const ComparisonOptions &options);

} // namespace align::rt
