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


//===----------------------------------------------------------------------===//
// Trainers: what generated trainer programs call
//===----------------------------------------------------------------------===//
//
// A generated trainer fills these plain specs from the recipe (the compiler's schedule decisions included)
// and hands them to a Trainer in the recipe's order; the Trainer owns the models, the data, the stage loop,
// the output directory and the command line. Numbers a recipe names are read through Trainer::number & co.
// so that `--set KEY=VALUE` can replace them.

/// A value the recipe names, with its default as text and the recipe position it comes from.
struct Setting {
  std::string key;      ///< e.g. "align.schedule.lr", "hh.path"
  std::string value;    ///< the recipe's value, as text
  std::string location; ///< file:line:col in the recipe
};

struct ModelSpec {
  std::string family = "llama"; ///< llama, qwen2, mistral, hf
  std::string preset = "tiny";  ///< used when `checkpoint` is empty
  std::string checkpoint;       ///< a Hugging Face directory (relative paths: against the data root)
  std::string tokenizer;        ///< the tokenizer declaration's name
  uint64_t seed = 0;
};

struct SplitRule {
  std::string name;
  std::string kind = "percent"; ///< percent, where, file
  double fraction = 0;          ///< percent: 0..1
  std::string by;               ///< percent: "", user, annotator, domain or group
  std::string column;           ///< where
  std::string equalsJson;       ///< where: the value as JSON ("false", "3", "\"long\"")
  std::string path;             ///< file
};

struct DataSpec {
  std::string kind; ///< pairwise, ranking, scored, rated, sft, prompts, domain_pairs
  std::string path; ///< relative to --data-root unless absolute
  std::map<std::string, std::string> columns; ///< field → column (prompt, chosen, user, …) as the recipe names them
  std::vector<std::string> ratings;
  std::string preferred;
  std::vector<std::string> against;
  bool hasTemplate = false;
  std::string templateText; ///< escapes \\ \{ \} still written
  bool skipMalformed = false;
  int64_t limit = -1;
  uint64_t shuffleSeed = 0;
  std::vector<SplitRule> splits;
};

/// One term of a stage's objective: kind (dpo, ipo, hinge, simpo, pdpo, pipo, psimpo, nll, imitation, bt,
/// rank_loss, regression), its coefficient, and its numeric parameters (beta, label_smoothing, gamma,
/// threshold, alpha; flags prompt_loss and example_weights as 0/1).
struct TermSpec {
  std::string kind;
  double weight = 1.0;
  std::map<std::string, double> params;
};

struct ScheduleSpec {
  std::string optimizer = "adamw";
  double lr = 1e-5, beta1 = 0.9, beta2 = 0.999, eps = 1e-8, weightDecay = 0, alpha = 0.99, momentum = 0;
  std::string lrSchedule = "cosine";
  double lrFinal = 0;
  int64_t warmup = 0, batch = 8, microBatch = 0, steps = 0; ///< steps > 0 replaces epochs
  double epochs = 1;
  std::string precision = "auto";
  int64_t maxLength = 512, maxPromptLength = 0; ///< 0: half of maxLength
  std::string truncation = "right";            ///< which end of the prompt is cut
  std::string reference = "auto";              ///< auto, precompute, online
  double clip = 1;
  uint64_t seed = 42;
  int64_t logEvery = 10, evalEverySteps = 0, checkpointEverySteps = 0;
  double evalEverySeconds = 0, checkpointEverySeconds = 0, timeLimitSeconds = 0;
  // Schedule decisions of the compiler's passes.
  bool fusedLogprobs = true;
  int64_t logprobChunk = 1024;
  bool concatPairs = true;
};

struct LoraSpec {
  bool enabled = false;
  int64_t rank = 8;
  double alpha = 16, dropout = 0.05;
  std::vector<std::string> targets = {"q_proj", "v_proj"};
};

/// A P-RLHF user model (papers.md §1.1): T soft tokens inserted after BOS, one set per user. Ids come from the
/// training data's user column in order of first appearance (1..N); id 0 is the generic user, which users not
/// seen in training are routed to.
struct UserModelSpec {
  bool enabled = false;
  std::string name;                ///< the users declaration
  std::string kind = "individual"; ///< individual: e_i = e_0 + o_i (or o_i); cluster: Σ_k softmax(W_i)_k C_k
  int64_t tokens = 1;              ///< T_u
  bool generic = true;             ///< individual: add the generic embedding e_0 to each user's offset
  int64_t clusters = 5;            ///< cluster: K
  std::string init = "vocab";      ///< vocab: copies of token-embedding rows; uniform: U(-range, range)
  uint64_t initSeed = 123;
  int64_t initCommon = 0;          ///< vocab: draw only from the first N token ids (0: all)
  double initRange = 0.5;
  bool unseenIsError = false;      ///< `unseen: error`: a user not seen in training is an error, not generic
  /// `text: "column"`: the user's textual information (PRISM's explicit user information), read after the
  /// soft tokens as "User textual information: TEXT\n" before the prompt — not on the generic duplicates,
  /// as in the authors' code. "" for none.
  std::string textColumn;
};

struct StageSpec {
  std::string name;
  std::string initFrom;           ///< an earlier stage whose result the model starts from
  std::string model;              ///< the model declaration trained
  bool rewardModel = false;       ///< train a reward head on it (bt, rank_loss, regression)
  std::string pooling = "last";   ///< reward head pooling
  int64_t rewardOutputs = 1;      ///< reward head outputs (regression: one per objective)
  std::string reference;          ///< frozen reference: a model declaration or an earlier stage; "" none
  std::string data, split = "train";
  /// More training data, concatenated after data.split (`train lm on a.train, b.train;`): "data.split"
  /// names, or a bare data name for its whole train split.
  std::vector<std::string> alsoOn;
  std::vector<TermSpec> objective;
  ScheduleSpec schedule;
  LoraSpec lora;
  UserModelSpec users;            ///< soft-prompt user tokens on the trained policy
  /// Train every row of a user i != 0 a second time as the generic user (id 0): the P-DPO family's
  /// duplication, decided by the compiler (pass duplicate-generic-rows).
  bool genericDuplicates = false;
  std::string location;           ///< file:line:col of the stage, for messages
};

/// A metric of the recipe's eval block, evaluated on every stage's final model it applies to:
/// accuracy, margin, length_baseline or loss, optionally `by` user, group, domain or dataset. eval.json
/// holds it as STAGE → metric (or metric_by_X → group); `by dataset` uses the data's name as the group, so
/// one EvalSpec per data source fills one table.
struct EvalSpec {
  std::string metric;
  std::string by;
  std::string data, split = "train";
  std::map<std::string, double> params;
  std::string stage; ///< a stage's own eval block: only that stage's model; "" (the recipe's): every stage
  std::string location;
};

class Trainer {
public:
  /// The value of a recipe setting: the --set override if given, else `recipeValue`. A --set value of the
  /// wrong type is an Error naming the key.
  double number(const std::string &key, double recipeValue);
  int64_t integer(const std::string &key, int64_t recipeValue);
  std::string text(const std::string &key, const std::string &recipeValue);
  bool flag(const std::string &key, bool recipeValue);

  void tokenizer(const std::string &name, const std::string &spec); ///< "bytes" or a tokenizer.json path
  void model(const std::string &name, const ModelSpec &spec);
  void data(const std::string &name, const DataSpec &spec);
  void stage(const StageSpec &spec);
  void evaluate(const EvalSpec &spec);

  struct Impl;
  explicit Trainer(std::unique_ptr<Impl> impl);
  ~Trainer();
  Impl &impl() { return *impl_; }

private:
  std::unique_ptr<Impl> impl_;
};

struct RecipeInfo {
  std::string name;
  std::string source;             ///< the recipe file it was compiled from
  std::vector<Setting> settings;  ///< every key --set accepts
  std::vector<std::string> stages;
};

/// The whole trainer program: parses the command line (--out, --set, --steps, --resume, --device,
/// --data-root, --threads, --help), runs `body`, writes eval.json and prints where the results are.
/// Returns the process exit code; errors are printed, never thrown.
int trainerMain(int argc, char **argv, const RecipeInfo &recipe, void (*body)(Trainer &));

} // namespace align::rt
