//===- align-lm.cpp - Inspect and create models with the runtime ----------===//
//
//   align-lm logprobs --model DIR --input FILE.jsonl [--tokenizer bytes|tokenizer.json]
//       each input line {"input_ids": [...]} or {"text": "..."}; prints one JSON line per input:
//       {"token_logprobs": [...], "sum": x}, token i scored given tokens < i.
//   align-lm init --preset tiny|small|medium --vocab N [--seed S] --out DIR
//       writes a randomly initialised model as a Hugging Face checkpoint directory.
//   Common: --device cpu|cuda, --threads N.
//
// Errors (a malformed input line, a broken checkpoint) print `align-lm: error: ...` naming the file, line
// and field, and exit 1.
//
//===----------------------------------------------------------------------===//

#include "align/rt/api.h"

#include <nlohmann/json.hpp>

#include <cstdlib>
#include <fstream>
#include <iostream>
#include <map>
#include <optional>

namespace {

using align::rt::Error;

const char *kUsage = R"(usage:
  align-lm logprobs --model DIR --input FILE.jsonl [--tokenizer bytes|PATH] [--device cpu|cuda] [--threads N]
  align-lm init --preset tiny|small|medium --vocab N [--seed S] --out DIR
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

int logprobs(int argc, char **argv) {
  auto flags = parseFlags(argc, argv, {"model", "input", "tokenizer", "device", "threads"});
  applyCommon(flags);
  std::string inputPath = required(flags, "input");
  std::ifstream input(inputPath);
  if (!input)
    throw Error(inputPath + ": cannot read file");
  auto model = align::rt::LanguageModel::load(required(flags, "model"),
                                              align::rt::parseDevice(flags.count("device") ? flags["device"] : "cpu"));
  std::unique_ptr<align::rt::TextTokenizer> tokenizer;
  if (flags.count("tokenizer"))
    tokenizer = align::rt::TextTokenizer::open(flags["tokenizer"]);

  std::string line;
  for (size_t lineNo = 1; std::getline(input, line); ++lineNo) {
    if (line.find_first_not_of(" \t\r") == std::string::npos)
      continue; // blank lines separate nothing in JSONL; they are not rows
    std::string where = inputPath + ":" + std::to_string(lineNo);
    nlohmann::json row = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (row.is_discarded() || !row.is_object())
      throw Error(where + ": not a JSON object");
    std::vector<int64_t> ids;
    if (row.contains("input_ids")) {
      const auto &field = row["input_ids"];
      if (!field.is_array())
        throw Error(where + ": field 'input_ids': expected an array of token ids");
      for (size_t i = 0; i < field.size(); ++i) {
        if (!field[i].is_number_integer())
          throw Error(where + ": field 'input_ids'[" + std::to_string(i) + "]: expected an integer token id");
        int64_t id = field[i].get<int64_t>();
        if (id < 0 || id >= model->vocabSize())
          throw Error(where + ": field 'input_ids'[" + std::to_string(i) + "]: id " + std::to_string(id) +
                      " is outside the model's vocabulary of " + std::to_string(model->vocabSize()));
        ids.push_back(id);
      }
    } else if (row.contains("text")) {
      if (!row["text"].is_string())
        throw Error(where + ": field 'text': expected a string");
      if (!tokenizer)
        throw Error(where + ": field 'text' needs --tokenizer (bytes or a tokenizer.json)");
      ids = tokenizer->encode(row["text"].get<std::string>());
    } else {
      throw Error(where + ": expected a field 'input_ids' or 'text'");
    }
    std::vector<double> logps = model->tokenLogprobs(ids);
    double sum = 0;
    for (double v : logps)
      sum += v;
    nlohmann::json out{{"token_logprobs", logps}, {"sum", sum}};
    std::cout << out.dump() << '\n';
  }
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
    std::cerr << "align-lm: error: unknown command '" << command << "'\n" << kUsage;
    return 1;
  } catch (const std::exception &e) {
    // align::rt::Error carries the place; c10::Error (from LibTorch) is reported the same way, not as a crash.
    std::cerr << "align-lm: error: " << e.what() << "\n";
    return 1;
  }
}
