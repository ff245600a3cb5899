//===- align-lm.cpp - Inspect and create models with the runtime ----------===//
//
//   align-lm logprobs --model DIR --input FILE.jsonl [--tokenizer bytes|tokenizer.json]
//       each input line {"input_ids": [...]} or {"text": "..."}; prints one JSON line per input:
//       {"token_logprobs": [...], "sum": x}, token i scored given tokens < i.
//   align-lm init --preset tiny|small|medium --vocab N [--seed S] --out DIR
//       writes a randomly initialised model as a Hugging Face checkpoint directory.
//   align-lm init-reward --from LM_DIR [--outputs K] [--pooling last|eos|mean|max] [--seed S] --out DIR
//       a reward model: the language model's decoder with a new score head.
//   align-lm score --model RM_DIR --input FILE.jsonl [--tokenizer ...] [--user ID]
//       one {"rewards": [...]} line per input ({"input_ids": [...]} or {"text": ...}); a P-RM reads user ID's
//       tokens (unknown users and no --user: the generic user).
//   align-lm generate --model DIR --prompt TEXT [--tokenizer ...] [--max-new-tokens N] [--temperature T]
//                     [--top-p P] [--top-k K] [--eos ID|none] [--seed S]   (or --prompt-ids 1,2,3)
//       → {"ids": [...], "text": ...}; --mixture DIR instead of --model: an aggregate's mixture.json; the seed
//       draws policy k with probability w_k, which answers ({"policy": k, ...})
//   align-lm generate --model DIR --input PROMPTS.jsonl --samples N [--batch ROWS] [--out FILE] [the above]
//       --direction 0.8,-0.6 (or -15deg): a DPA policy (an RSF iteration's checkpoint) answers under that
//       direction, its system prompt rendered from the direction.json beside its weights.
//       one {"prompt": TEXT} per line; one line per sample {"prompt_index", "sample", "ids", "text"} in prompt
//       then sample order, decoded in batches of ROWS (default 64) with a KV cache (runtime/src/model/Generate.h:
//       the same seed and --batch give the same ids). With --mixture, draw i × N + j picks the policy of sample
//       j of prompt i ("policy" in its line). A summary (samples, new tokens, tokens/s) goes to stderr.
//   align-lm score-pairs --model RM_DIR --data FILE [--format dsp|pairwise] [--domain D] [--tokenizer ...]
//                        [--split NAME=PCT --shuffle-seed S] [--limit N] [--batch N]
//       pair accuracy of a reward model (ties skipped), as JSON {"accuracy", "pairs", "correct", ...}; with
//       --domain also by rejected domain and over the cross-domain pairs (not against `normal`). --split
//       scores only the split NAME of a recipe's `split NAME = PCT%` (same rows: same shuffle seed, default 0);
//       --limit N its first N rows (a trainer's --eval-limit N); --batch N pads N rows together in data order as
//       a trainer's evaluation with batch N does, which reproduces its numbers exactly. A P-RM scores every
//       row as --user ID, or (pairwise data) each row as the user its --user-column COL names, reporting
//       "accuracy_by_user" and the "users_unseen" it served as the generic user.
//   --tokenizer defaults to the checkpoint's own tokenizer.json (a trainer copies the recipe's there), else
//   bytes for generate and score-pairs.
//   Common: --device cpu|cuda, --threads N. logprobs and generate take --user ID: the P-RLHF user whose
//   tokens the policy reads (the checkpoint's user_model.json; unknown users get the generic user).
//
// Errors (a malformed input line, a broken checkpoint) print `align-lm: error: ...` naming the file, line
// and field, and exit 1.
//
//===----------------------------------------------------------------------===//

#include "align/rt/Inference.h"
#include "align/rt/InputLines.h"

#include <nlohmann/json.hpp>

#include <sys/stat.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <iterator>
#include <map>
#include <optional>
#include <set>

namespace {

using align::rt::Error;

const char *kUsage = R"(usage:
  align-lm logprobs --model DIR --input FILE.jsonl [--tokenizer bytes|PATH] [--user ID] [--device cpu|cuda]
                    [--threads N]
  align-lm init --preset tiny|small|medium --vocab N [--seed S] --out DIR
  align-lm init-reward --from LM_DIR [--outputs K] [--pooling last|eos|mean|max] [--seed S] --out DIR
  align-lm score --model RM_DIR --input FILE.jsonl [--tokenizer bytes|PATH] [--user ID] [--device cpu|cuda]
  align-lm generate (--model DIR | --mixture DIR) (--prompt TEXT | --prompt-ids 1,2,3 | --input PROMPTS.jsonl
                    [--samples N] [--batch ROWS] [--out FILE]) [--tokenizer bytes|PATH] [--user ID]
                    [--max-new-tokens N] [--temperature T] [--top-p P] [--top-k K] [--eos ID|none] [--seed S]
                    [--direction 0.8,-0.6 | --direction -15deg] [--device cpu|cuda] [--threads N]
  align-lm score-pairs --model RM_DIR --data FILE [--format dsp|pairwise] [--domain D] [--tokenizer bytes|PATH]
                       [--max-length N] [--max-prompt-length N] [--truncation left|right]
                       [--split NAME=PCT --shuffle-seed S] [--limit N] [--batch N] [--device cpu|cuda]
                       [--user ID | --user-column COL]
  --tokenizer defaults to the checkpoint's tokenizer.json when it has one.
)";

/// `--key value` pairs after the subcommand; every key must be one the subcommand knows.
std::map<std::string, std::string> parseFlags(int argc, char **argv, const std::vector<std::string> &known) {
  std::map<std::string, std::string> flags;
  for (int i = 2; i < argc; ++i) {
    std::string key = argv[i];
    if (key.rfind("--", 0) != 0)
      throw Error("unexpected argument '" + key + "'");
    key = key.substr(2);
    std::string value;
    if (size_t eq = key.find('='); eq != std::string::npos) {
      value = key.substr(eq + 1);
      key = key.substr(0, eq);
    } else if (i + 1 < argc) {
      value = argv[++i];
    } else {
      throw Error("--" + key + " needs a value");
    }
    if (std::find(known.begin(), known.end(), key) == known.end()) {
      std::string all;
      for (const std::string &k : known)
        all += (all.empty() ? "--" : ", --") + k;
      throw Error("unknown option --" + key + " (this command takes " + all + ")");
    }
    flags[key] = value;
  }
  return flags;
}

std::string required(const std::map<std::string, std::string> &flags, const std::string &key) {
  auto it = flags.find(key);
  if (it == flags.end())
    throw Error("missing --" + key);
  return it->second;
}

long long integer(const std::map<std::string, std::string> &flags, const std::string &key, long long fallback) {
  auto it = flags.find(key);
  if (it == flags.end())
    return fallback;
  char *end = nullptr;
  long long v = std::strtoll(it->second.c_str(), &end, 10);
  if (it->second.empty() || *end != '\0')
    throw Error("--" + key + ": expected an integer, got '" + it->second + "'");
  return v;
}

void applyCommon(const std::map<std::string, std::string> &flags) {
  align::rt::setThreads(static_cast<int>(integer(flags, "threads", 0)));
}

/// BOS + text + EOS (where the tokenizer has them), keeping the last `maxLength` tokens when positive (DSP
/// truncates from the left, so the response survives).
std::vector<int64_t> encodeText(const align::rt::TextTokenizer &tokenizer, const std::string &text, bool addSpecial,
                                int64_t maxLength) {
  std::vector<int64_t> ids;
  if (addSpecial && tokenizer.bosId() >= 0)
    ids.push_back(tokenizer.bosId());
  std::vector<int64_t> body = tokenizer.encode(text);
  ids.insert(ids.end(), body.begin(), body.end());
  if (addSpecial && tokenizer.eosId() >= 0)
    ids.push_back(tokenizer.eosId());
  if (maxLength > 0 && static_cast<int64_t>(ids.size()) > maxLength)
    ids.erase(ids.begin(), ids.end() - maxLength);
  return ids;
}

/// Token ids of one JSONL input row: {"input_ids": [...]} as given, or {"text": ...} through the tokenizer
/// (wrapped in BOS/EOS when `addSpecial` and the tokenizer has them).
std::vector<int64_t> rowIds(const std::string &line, const std::string &where, int64_t vocabSize,
                            const align::rt::TextTokenizer *tokenizer, bool addSpecial) {
  align::rt::InputRow row = align::rt::parseInputRow(line, where, vocabSize);
  if (row.ids)
    return *row.ids;
  if (!tokenizer)
    throw Error(where + ": field 'text' needs --tokenizer (bytes or a tokenizer.json)");
  return encodeText(*tokenizer, row.text, addSpecial, 0);
}

/// The whole text of an input file, or an Error naming it.
std::string readInputFile(const std::string &path) {
  std::ifstream input(path, std::ios::binary);
  if (!input)
    throw Error(path + ": cannot read file");
  return std::string((std::istreambuf_iterator<char>(input)), std::istreambuf_iterator<char>());
}

/// --user ID: the P-RLHF user whose tokens the model reads (the checkpoint's user_model.json); a user it
/// was not trained on is served as the generic user, and that is said on stderr.
void selectUser(align::rt::LanguageModel &model, const std::map<std::string, std::string> &flags) {
  auto user = flags.find("user");
  if (user == flags.end())
    return;
  if (!model.selectUser(user->second))
    std::cerr << "align-lm: user '" << user->second << "' was not seen in training; serving the generic user\n";
}

/// --tokenizer when given; else the checkpoint's own tokenizer.json (trainers copy the recipe's there, as
/// transformers' save_pretrained does); else `fallback` ("" = none).
/// (stat, not std::filesystem: libtorch.so exports its own copies of std::filesystem's functions, which win
/// over libstdc++'s in a program linked with it; runtime/src/support/Files.h.)
std::string tokenizerSpec(std::map<std::string, std::string> &flags, const std::string &fallback) {
  if (flags.count("tokenizer"))
    return flags["tokenizer"];
  const std::string &dir = flags["model"];
  const std::string own = dir.empty() ? "tokenizer.json" : dir + (dir.back() == '/' ? "" : "/") + "tokenizer.json";
  struct stat info;
  return ::stat(own.c_str(), &info) == 0 ? own : fallback;
}

int logprobs(int argc, char **argv) {
  auto flags = parseFlags(argc, argv, {"model", "input", "tokenizer", "device", "threads", "user"});
  applyCommon(flags);
  std::string inputPath = required(flags, "input");
  const std::string input = readInputFile(inputPath);
  auto model = align::rt::LanguageModel::load(required(flags, "model"),
                                              align::rt::parseDevice(flags.count("device") ? flags["device"] : "cpu"));
  selectUser(*model, flags);
  std::unique_ptr<align::rt::TextTokenizer> tokenizer;
  if (const std::string spec = tokenizerSpec(flags, ""); !spec.empty())
    tokenizer = align::rt::TextTokenizer::open(spec);

  // Blank lines separate nothing in JSONL; they are not rows.
  align::rt::forEachInputLine(input, inputPath, [&](const std::string &line, const std::string &where) {
    std::vector<int64_t> ids = rowIds(line, where, model->vocabSize(), tokenizer.get(), /*addSpecial=*/false);
    std::vector<double> logps = model->tokenLogprobs(ids);
    double sum = 0;
    for (double v : logps)
      sum += v;
    nlohmann::json out{{"token_logprobs", logps}, {"sum", sum}};
    std::cout << out.dump() << '\n';
  });
  return 0;
}

int init(int argc, char **argv) {
  auto flags = parseFlags(argc, argv, {"preset", "vocab", "seed", "out", "device", "threads"});
  applyCommon(flags);
  long long vocab = integer(flags, "vocab", -1);
  if (vocab < 1)
    throw Error("--vocab: expected a positive vocabulary size");
  long long seed = integer(flags, "seed", 0);
  auto model = align::rt::LanguageModel::preset(required(flags, "preset"), vocab, static_cast<uint64_t>(seed));
  std::string out = required(flags, "out");
  model->save(out);
  std::cerr << "align-lm: wrote " << out << "\n";
  return 0;
}

double real(const std::map<std::string, std::string> &flags, const std::string &key, double fallback) {
  auto it = flags.find(key);
  if (it == flags.end())
    return fallback;
  char *end = nullptr;
  double v = std::strtod(it->second.c_str(), &end);
  if (it->second.empty() || *end != '\0')
    throw Error("--" + key + ": expected a number, got '" + it->second + "'");
  return v;
}

/// The sampling flags, checked before any model is loaded.
align::rt::GenerationSettings generationSettings(std::map<std::string, std::string> &flags) {
  align::rt::GenerationSettings settings;
  settings.maxNewTokens = integer(flags, "max-new-tokens", 64);
  if (settings.maxNewTokens < 1)
    throw Error("--max-new-tokens: expected a positive number of tokens, got " + std::to_string(settings.maxNewTokens));
  settings.temperature = real(flags, "temperature", 1.0);
  settings.topP = real(flags, "top-p", 1.0);
  if (!(settings.temperature >= 0) || !std::isfinite(settings.temperature))
    throw Error("--temperature: expected a finite number >= 0 (0: greedy), got " + flags["temperature"]);
  if (!(settings.topP > 0 && settings.topP <= 1))
    throw Error("--top-p: expected a number in (0, 1], got " + flags["top-p"]);
  settings.topK = integer(flags, "top-k", 0);
  if (settings.topK < 0)
    throw Error("--top-k: expected 0 (no cut) or a positive number of tokens, got " + flags["top-k"]);
  settings.seed = static_cast<uint64_t>(integer(flags, "seed", 0));
  return settings;
}

/// The stop token: --eos ID, --eos none, or the tokenizer's eos.
int64_t eosOf(std::map<std::string, std::string> &flags, const align::rt::TextTokenizer &tokenizer, int64_t vocabSize) {
  if (!flags.count("eos"))
    return tokenizer.eosId();
  if (flags["eos"] == "none")
    return -1;
  const long long id = integer(flags, "eos", -1);
  if (id < 0 || id >= vocabSize)
    throw Error("--eos: expected a token id of the model's vocabulary of " + std::to_string(vocabSize) +
                " or 'none', got " + flags["eos"]);
  return id;
}

/// The ids the policy reads for a prompt's text: BOS (where the tokenizer has one) and the text. With
/// --direction the text is first conditioned by the caller (align::rt::directionPrompt, docs/methods.md §4.2).
std::vector<int64_t> promptIds(const align::rt::TextTokenizer &tokenizer, const std::string &text) {
  std::vector<int64_t> ids = encodeText(tokenizer, text, /*addSpecial=*/false, 0);
  if (tokenizer.bosId() >= 0)
    ids.insert(ids.begin(), tokenizer.bosId());
  return ids;
}

using align::rt::PromptLine;

/// The "prompt" of each line of a prompts file (blank lines skipped); errors name FILE:LINE and the field.
std::vector<PromptLine> readPrompts(const std::string &path) {
  return align::rt::parsePromptLines(readInputFile(path), path);
}

/// generate --input: every prompt of the file × --samples, in batches of --batch rows; one JSON line per sample.
int generateFromFile(std::map<std::string, std::string> &flags, align::rt::GenerationSettings settings) {
  const long long samples = integer(flags, "samples", 1), batch = integer(flags, "batch", 64);
  if (samples < 1)
    throw Error("--samples: expected a positive number of samples per prompt, got " + flags["samples"]);
  if (batch < 1)
    throw Error("--batch: expected a positive number of rows, got " + flags["batch"]);
  const std::string inputPath = required(flags, "input");
  const std::vector<PromptLine> texts = readPrompts(inputPath);
  const align::rt::Device device = align::rt::parseDevice(flags.count("device") ? flags["device"] : "cpu");
  // The policies that answer: the model, or for --mixture DIR the one its seeded pick draws for each sample
  // (draw i × samples + j for sample j of prompt i; draw 0 is the --prompt mode's pick).
  std::vector<std::string> policies;
  std::vector<std::vector<size_t>> policyOf(texts.size(), std::vector<size_t>(static_cast<size_t>(samples), 0));
  if (flags.count("mixture")) {
    align::rt::PolicyMixture mixture = align::rt::PolicyMixture::load(flags["mixture"]);
    policies = mixture.policies;
    for (size_t i = 0; i < texts.size(); ++i)
      for (long long j = 0; j < samples; ++j)
        policyOf[i][static_cast<size_t>(j)] = mixture.pick(settings.seed, i * static_cast<uint64_t>(samples) + j);
  } else {
    policies = {flags["model"]};
  }
  struct Sample {
    std::vector<int64_t> ids;
    std::string text;
  };
  std::vector<std::vector<Sample>> out(texts.size(), std::vector<Sample>(static_cast<size_t>(samples)));
  double seconds = 0;
  for (size_t k = 0; k < policies.size(); ++k) {
    auto wanted = [&](size_t i, int64_t j) { return policyOf[i][static_cast<size_t>(j)] == k; };
    bool any = false;
    for (size_t i = 0; i < texts.size() && !any; ++i)
      for (long long j = 0; j < samples && !any; ++j)
        any = wanted(i, j);
    if (!any)
      continue;
    flags["model"] = policies[k]; // a policy's own tokenizer.json is its default
    auto model = align::rt::LanguageModel::load(policies[k], device);
    selectUser(*model, flags);
    auto tokenizer = align::rt::TextTokenizer::open(tokenizerSpec(flags, "bytes"));
    align::rt::GenerationSettings mine = settings;
    mine.eosId = eosOf(flags, *tokenizer, model->vocabSize());
    std::vector<std::vector<int64_t>> prompts;
    for (const PromptLine &line : texts) {
      prompts.push_back(promptIds(*tokenizer, flags.count("direction")
                                                  ? align::rt::directionPrompt(policies[k], flags["direction"], line.text)
                                                  : line.text));
      if (prompts.back().empty())
        throw Error(line.where + ": field 'prompt': no tokens to start from (empty, and the tokenizer has no BOS)");
    }
    const auto start = std::chrono::steady_clock::now();
    auto ids = model->generateSamples(prompts, samples, mine, tokenizer->padId(), batch, wanted);
    seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    for (size_t i = 0; i < texts.size(); ++i)
      for (long long j = 0; j < samples; ++j)
        if (wanted(i, j)) {
          Sample &sample = out[i][static_cast<size_t>(j)];
          sample.ids = std::move(ids[i][static_cast<size_t>(j)]);
          sample.text = tokenizer->decode(sample.ids);
        }
  }
  std::ofstream file;
  if (flags.count("out")) {
    file.open(flags["out"]);
    if (!file)
      throw Error(flags["out"] + ": cannot write file");
  }
  std::ostream &sink = flags.count("out") ? static_cast<std::ostream &>(file) : std::cout;
  size_t tokens = 0;
  for (size_t i = 0; i < texts.size(); ++i)
    for (long long j = 0; j < samples; ++j) {
      const Sample &sample = out[i][static_cast<size_t>(j)];
      tokens += sample.ids.size();
      nlohmann::ordered_json line{{"prompt_index", i}, {"sample", j}, {"ids", sample.ids}, {"text", sample.text}};
      if (flags.count("mixture"))
        line["policy"] = policyOf[i][static_cast<size_t>(j)];
      sink << line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << '\n';
    }
  sink.flush();
  if (!sink)
    throw Error((flags.count("out") ? flags["out"] : std::string("stdout")) + ": write failed");
  std::cerr << "align-lm: " << texts.size() * static_cast<size_t>(samples) << " samples, " << tokens
            << " new tokens in " << seconds << " s (" << (seconds > 0 ? double(tokens) / seconds : 0.0)
            << " tokens/s)\n";
  return 0;
}

int generate(int argc, char **argv) {
  auto flags = parseFlags(argc, argv, {"model", "mixture", "prompt", "prompt-ids", "input", "samples", "batch", "out",
                                       "tokenizer", "max-new-tokens", "temperature", "top-p", "top-k", "eos", "seed",
                                       "device", "threads", "user", "direction"});
  applyCommon(flags);
  align::rt::GenerationSettings settings = generationSettings(flags);
  if (flags.count("direction") && (flags.count("mixture") || flags.count("prompt-ids")))
    throw Error("--direction renders a DPA policy's system prompt from its direction.json: it needs --model DIR and "
                "--prompt TEXT or --input FILE");
  if (flags.count("mixture") == flags.count("model"))
    throw Error("generate takes exactly one of --model DIR and --mixture DIR");
  if (flags.count("input") + flags.count("prompt") + flags.count("prompt-ids") != 1)
    throw Error("generate takes exactly one of --input FILE.jsonl, --prompt TEXT and --prompt-ids 1,2,3");
  if (flags.count("input"))
    return generateFromFile(flags, settings);
  for (const char *key : {"samples", "batch", "out"})
    if (flags.count(key))
      throw Error(std::string("--") + key + " applies to --input only");
  // --mixture DIR (an aggregate's mixture.json): the seeded draw picks the policy that answers.
  std::string modelDir = flags.count("model") ? flags["model"] : "";
  int64_t picked = -1;
  if (flags.count("mixture")) {
    align::rt::PolicyMixture mixture = align::rt::PolicyMixture::load(flags["mixture"]);
    picked = static_cast<int64_t>(mixture.pick(settings.seed));
    modelDir = mixture.policies[static_cast<size_t>(picked)];
    flags["model"] = modelDir; // the picked policy's own tokenizer.json is the default
  }
  auto model = align::rt::LanguageModel::load(modelDir,
                                              align::rt::parseDevice(flags.count("device") ? flags["device"] : "cpu"));
  selectUser(*model, flags);
  auto tokenizer = align::rt::TextTokenizer::open(tokenizerSpec(flags, "bytes"));
  std::vector<int64_t> prompt;
  if (flags.count("prompt-ids")) {
    std::string list = flags["prompt-ids"];
    for (size_t start = 0; start <= list.size();) {
      size_t comma = list.find(',', start);
      std::string item = list.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
      char *end = nullptr;
      long long id = std::strtoll(item.c_str(), &end, 10);
      if (item.empty() || *end != '\0')
        throw Error("--prompt-ids: expected comma-separated token ids, got '" + item + "'");
      prompt.push_back(id);
      if (comma == std::string::npos)
        break;
      start = comma + 1;
    }
  } else {
    prompt = promptIds(*tokenizer, flags.count("direction")
                                       ? align::rt::directionPrompt(modelDir, flags["direction"], flags["prompt"])
                                       : flags["prompt"]);
  }
  settings.eosId = eosOf(flags, *tokenizer, model->vocabSize());
  std::vector<int64_t> ids = model->generate(prompt, settings);
  nlohmann::json out{{"ids", ids}, {"text", tokenizer->decode(ids)}};
  if (picked >= 0)
    out["policy"] = picked;
  std::cout << out.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << '\n';
  return 0;
}

int initReward(int argc, char **argv) {
  auto flags = parseFlags(argc, argv, {"from", "outputs", "pooling", "seed", "out", "threads"});
  applyCommon(flags);
  auto scorer = align::rt::RewardScorer::fromLanguageModel(required(flags, "from"), integer(flags, "outputs", 1),
                                                           flags.count("pooling") ? flags["pooling"] : "last",
                                                           static_cast<uint64_t>(integer(flags, "seed", 0)));
  scorer->save(required(flags, "out"));
  std::cerr << "align-lm: wrote " << flags["out"] << "\n";
  return 0;
}

std::unique_ptr<align::rt::RewardScorer> openScorer(std::map<std::string, std::string> &flags) {
  return align::rt::RewardScorer::load(required(flags, "model"),
                                       align::rt::parseDevice(flags.count("device") ? flags["device"] : "cpu"));
}

int score(int argc, char **argv) {
  auto flags = parseFlags(argc, argv, {"model", "input", "tokenizer", "device", "threads", "user"});
  applyCommon(flags);
  auto scorer = openScorer(flags);
  if (auto user = flags.find("user"); user != flags.end() && !scorer->selectUser(user->second))
    std::cerr << "align-lm: user '" << user->second << "' was not seen in training; serving the generic user\n";
  std::unique_ptr<align::rt::TextTokenizer> tokenizer;
  if (const std::string spec = tokenizerSpec(flags, ""); !spec.empty())
    tokenizer = align::rt::TextTokenizer::open(spec);
  std::string inputPath = required(flags, "input");
  const std::string input = readInputFile(inputPath);
  std::vector<std::vector<int64_t>> sequences;
  align::rt::forEachInputLine(input, inputPath, [&](const std::string &line, const std::string &where) {
    sequences.push_back(rowIds(line, where, scorer->vocabSize(), tokenizer.get(), /*addSpecial=*/true));
  });
  int64_t pad = tokenizer ? tokenizer->padId() : 0;
  for (const auto &rewards : scorer->score(sequences, pad))
    std::cout << nlohmann::json{{"rewards", rewards}}.dump() << '\n';
  return 0;
}

/// The comparisons --format, --domain and --split ask for (a wrong one reported in that order).
align::rt::ComparisonOptions comparisonOptions(std::map<std::string, std::string> &flags) {
  align::rt::ComparisonOptions options;
  const std::string format = flags.count("format") ? flags["format"] : "dsp";
  if (format == "dsp")
    options.format = align::rt::ComparisonFormat::DSP;
  else if (format == "pairwise")
    options.format = align::rt::ComparisonFormat::Pairwise;
  else
    throw Error("--format: unknown format '" + format + "' (expected dsp or pairwise)");
  options.domain = flags.count("domain") ? flags["domain"] : "";
  if (!options.domain.empty() && format != "dsp")
    throw Error("--domain applies to --format dsp only");
  // A recipe's `split NAME = PCT%` (docs/language.md §Splits).
  if (const std::string split = flags.count("split") ? flags["split"] : ""; !split.empty()) {
    const size_t eq = split.find('=');
    char *end = nullptr;
    const double percent = eq == std::string::npos ? 0 : std::strtod(split.c_str() + eq + 1, &end);
    if (eq == std::string::npos || eq == 0 || !end || (*end != '\0' && std::string(end) != "%") || !(percent > 0) ||
        !(percent < 100))
      throw Error("--split " + split + ": expected NAME=PCT with 0 < PCT < 100 (e.g. eval=20%)");
    options.split = split.substr(0, eq);
    options.splitFraction = percent / 100.0;
  }
  return options;
}

int scorePairs(int argc, char **argv) {
  auto flags = parseFlags(argc, argv, {"model", "data", "format", "domain", "tokenizer", "max-length", "device", "threads",
                                       "split", "shuffle-seed", "max-prompt-length", "truncation", "limit", "batch",
                                       "user", "user-column"});
  applyCommon(flags);
  auto scorer = openScorer(flags);
  if (scorer->outputs() != 1)
    throw Error("score-pairs needs a scalar reward model; this one has " + std::to_string(scorer->outputs()) + " outputs");
  const long long limit = integer(flags, "limit", 0);
  if (limit < 0)
    throw Error("--limit: expected a positive number of rows, got " + std::to_string(limit));
  auto tokenizer = align::rt::TextTokenizer::open(tokenizerSpec(flags, "bytes"));
  // A wrong --shuffle-seed is reported before a missing --data, and that before a wrong --format.
  const auto shuffleSeed = static_cast<uint64_t>(integer(flags, "shuffle-seed", 0));
  const std::string dataPath = required(flags, "data");
  align::rt::ComparisonOptions options = comparisonOptions(flags);
  options.shuffleSeed = shuffleSeed;
  options.limit = static_cast<size_t>(limit);
  // A P-RM scores each row as its user (--user-column COL of pairwise data) or every row as one (--user ID).
  if (flags.count("user") && flags.count("user-column"))
    throw Error("--user and --user-column: give one (a user for every row, or each row's own)");
  options.userColumn = flags.count("user-column") ? flags["user-column"] : "";
  if ((flags.count("user") || !options.userColumn.empty()) && scorer->users().empty())
    throw Error("--user/--user-column: the reward model in " + flags["model"] + " has no user model (user_model.json)");
  if (auto user = flags.find("user"); user != flags.end() && !scorer->selectUser(user->second))
    std::cerr << "align-lm: user '" << user->second << "' was not seen in training; serving the generic user\n";
  const align::rt::Comparisons data = align::rt::readComparisons(dataPath, options);
  // The trainer's tokenization: [BOS] prompt response [EOS], the prompt cut to --max-prompt-length (default
  // half of --max-length) from the --truncation end, the response's end cut.
  align::rt::PromptTruncation truncation;
  truncation.maxLength = integer(flags, "max-length", 512);
  truncation.maxPromptLength = integer(flags, "max-prompt-length", truncation.maxLength / 2);
  const std::string cut = flags.count("truncation") ? flags["truncation"] : "left";
  if (cut != "left" && cut != "right")
    throw Error("--truncation: expected left or right, got '" + cut + "'");
  truncation.truncateLeft = cut == "left";
  // --batch N: N rows at a time in data order, padded together, as a trainer evaluates with batch N (float sums
  // depend on the padded width, so this reproduces its numbers exactly); default: sorted batches, faster.
  const long long batch = integer(flags, "batch", 0);
  if (batch < 0)
    throw Error("--batch: expected a positive number of rows, got " + std::to_string(batch));
  std::vector<std::vector<double>> rewards;
  std::vector<std::vector<int64_t>> sequences;
  std::set<std::string> unseen;
  if (options.userColumn.empty()) {
    auto flush = [&] {
      for (auto &r : scorer->score(sequences, tokenizer->padId(), batch > 0 ? static_cast<int64_t>(sequences.size()) : 0))
        rewards.push_back(std::move(r));
      sequences.clear();
    };
    for (size_t row = 0; row < data.examples.size(); ++row) {
      const align::rt::Comparisons::Example &example = data.examples[row];
      for (auto &ids : tokenizer->encodePromptResponses(example.prompt, example.responses, truncation))
        sequences.push_back(std::move(ids));
      if (batch > 0 && (row + 1) % static_cast<size_t>(batch) == 0)
        flush();
    }
    if (!sequences.empty())
      flush();
  } else {
    // Each row as its own user: the rows of one user at a time, their rewards put back in row order.
    std::map<std::string, std::vector<size_t>> rowsOf;
    std::vector<size_t> firstResponse;
    size_t responses = 0;
    for (size_t row = 0; row < data.examples.size(); ++row) {
      rowsOf[data.examples[row].user].push_back(row);
      firstResponse.push_back(responses);
      responses += data.examples[row].responses.size();
    }
    rewards.resize(responses);
    for (const auto &[user, rows] : rowsOf) {
      if (!scorer->selectUser(user))
        unseen.insert(user);
      for (size_t row : rows)
        for (auto &ids : tokenizer->encodePromptResponses(data.examples[row].prompt, data.examples[row].responses, truncation))
          sequences.push_back(std::move(ids));
      std::vector<std::vector<double>> scored = scorer->score(sequences, tokenizer->padId(), batch);
      sequences.clear();
      size_t next = 0;
      for (size_t row : rows)
        for (size_t r = 0; r < data.examples[row].responses.size(); ++r)
          rewards[firstResponse[row] + r] = std::move(scored[next++]);
    }
  }
  size_t correct = 0, crossCorrect = 0, crossPairs = 0;
  std::map<std::string, std::pair<size_t, size_t>> byGroup, byUser; // group or user → (correct, pairs)
  for (const auto &pair : data.pairs) {
    bool right = rewards[pair.better][0] > rewards[pair.worse][0];
    correct += right;
    if (!options.userColumn.empty()) {
      byUser[data.examples[pair.example].user].first += right;
      byUser[data.examples[pair.example].user].second += 1;
    }
    if (!pair.group.empty()) {
      byGroup[pair.group].first += right;
      byGroup[pair.group].second += 1;
      if (pair.group != "normal") { // DSP's cross-domain pairs: eval.json's accuracy_by_domain_cross
        crossCorrect += right;
        crossPairs += 1;
      }
    }
  }
  nlohmann::json out{{"accuracy", data.pairs.empty() ? 0.0 : double(correct) / double(data.pairs.size())},
                     {"pairs", data.pairs.size()}, {"correct", correct}, {"ties_skipped", data.ties}};
  for (const auto &[group, counts] : byGroup)
    out["accuracy_against"][group] = double(counts.first) / double(counts.second);
  for (const auto &[user, counts] : byUser)
    out["accuracy_by_user"][user] = double(counts.first) / double(counts.second);
  if (!options.userColumn.empty())
    out["users_unseen"] = std::vector<std::string>(unseen.begin(), unseen.end()); // scored as the generic user
  if (crossPairs > 0) {
    out["accuracy_cross"] = double(crossCorrect) / double(crossPairs);
    out["pairs_cross"] = crossPairs;
  }
  std::cout << out.dump() << '\n';
  return 0;
}

} // namespace

int main(int argc, char **argv) {
  if (argc < 2 || std::string(argv[1]) == "--help" || std::string(argv[1]) == "-h") {
    std::cout << kUsage;
    return argc < 2 ? 1 : 0;
  }
  std::string command = argv[1];
  try {
    if (command == "logprobs")
      return logprobs(argc, argv);
    if (command == "init")
      return init(argc, argv);
    if (command == "generate")
      return generate(argc, argv);
    if (command == "init-reward")
      return initReward(argc, argv);
    if (command == "score")
      return score(argc, argv);
    if (command == "score-pairs")
      return scorePairs(argc, argv);
    std::cerr << "align-lm: error: unknown command '" << command << "'\n" << kUsage;
    return 1;
  } catch (const std::exception &e) {
    // align::rt::Error carries the place; c10::Error (from LibTorch) is reported the same way, not as a crash.
    std::cerr << "align-lm: error: " << e.what() << "\n";
    return 1;
  }
}
