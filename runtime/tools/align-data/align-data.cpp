//===- align-data.cpp - Data sets the project makes itself -----------------===//
//
// No data set can be downloaded where the project runs, so the recipes that do not read ../shared/data read
// what this tool writes, deterministically from a seed:
//
//   align-data sft-corpus --out DIR [--rows N] [--seed S]
//       DIR/sft/corpus.jsonl: {"prompt", "response"} rows of a small English-like grammar (questions about
//       animals, places and objects with one-sentence answers), for recipes/sft.align.
//
//   align-data length-task --out DIR [--users 10] [--unseen-users 4] [--pairs-per-user 120] [--sft-rows 3000]
//                          [--seed 1]
//       The P-RLHF length-preference experiment (recipes/pdpo_length*.align; LengthTask.cpp):
//       DIR/length/sft.jsonl, {"prompt", "response"} with responses of 1 to 3 sentences, for the tiny base
//       model; DIR/length/prefs.jsonl, {"prompt", "chosen", "rejected", "user_id", "group", "seen"} pairs of a
//       short and a long response, from seen and unseen users of whom 70% prefer the long one.
//
//   align-data em-bandit --out DIR [--mixture 0.2,0,0.8] [--users 100] [--pairs-per-user 100] [--seed 1]
//       The EM-DPO authors' bandit for a language model (recipes/em_bandit.align; EmBandit.cpp): DIR/em_bandit/
//       pairs.jsonl {"prompt", "chosen", "rejected", "annotator", "true_type"}, sft.jsonl, truth.json.
//
//   align-data em-types --out DIR --feedback binary|ternary [--users 60] [--prompts-per-user 8]
//                       [--sft-rows 600] [--seed 1]
//       Two annotator types with opposite length preferences in equal proportion (recipes/em_dpo_types.align;
//       EmTypes.cpp): DIR/opinions/rankings.jsonl (2 responses ranked for binary feedback, 3 for ternary) and
//       DIR/opinions/sft.jsonl.
//
//   align-data dpa-task --out DIR [--prompts 400] [--sft-rows 3000] [--rated-rows 3000] [--seed 1]
//       DPA's helpfulness/verbosity experiment (recipes/dpa_directions.align; DpaTask.cpp): a seeded world of 24
//       animals with a color, size, food and home; DIR/dpa/prompts.jsonl {"prompt", "entity", "asks", "facts"}
//       asking 1 to 3 of them, DIR/dpa/sft.jsonl {"prompt", "response"} and DIR/dpa/ratings.jsonl {"prompt",
//       "response", "helpfulness", "verbosity"} (HelpSteer's 0-4; 10% without each, never both) whose responses
//       state a random subset of the asked facts among 0-4 filler sentences; DIR/dpa/world.json.
//
//   align-data dpa-judge --data DIR --input GEN.jsonl --out SUMMARY.json [--rows OUT.jsonl]
//       Scores generations {"prompt", "text", "iteration"?, "angle_deg"?} on dpa-task's prompts with the true
//       objectives (DpaObjectives.h; DpaJudge.cpp): mean helpfulness, verbosity and words per iteration and
//       angle, Spearman's rho of verbosity against the angle and the mean scalarized reward per iteration, and
//       how many angles the last iteration improves on the first. Bad input is an error naming FILE:LINE.
//
// The generators are seeded SplitMix64 streams over fixed word lists (SplitMix64.h), so a seed gives the same
// bytes on every machine.
//
//===----------------------------------------------------------------------===//

#include "DpaJudge.h"
#include "DpaTask.h"
#include "EmBandit.h"
#include "EmTypes.h"
#include "LengthTask.h"
#include "SplitMix64.h"
#include "support/Files.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

namespace {

using align::data::SplitMix64;

const std::vector<std::string> kSubjects = {"the cat", "a dog", "the river", "an old tree", "the city", "a small bird",
                                            "the ocean", "a farmer", "the mountain", "a child", "the moon", "a baker"};
const std::vector<std::string> kVerbs = {"sleeps", "waits", "sings", "grows", "rests", "shines", "moves", "works"};
const std::vector<std::string> kPlaces = {"near the house", "in the morning", "under the bridge", "by the sea",
                                          "after the rain", "in the garden", "at night", "on the hill"};
const std::vector<std::string> kAdjectives = {"quiet", "bright", "gentle", "busy", "calm", "warm", "tall", "slow"};

std::string capitalise(std::string s) {
  if (!s.empty() && s[0] >= 'a' && s[0] <= 'z')
    s[0] = static_cast<char>(s[0] - 'a' + 'A');
  return s;
}

nlohmann::json sftRow(SplitMix64 &rng) {
  const std::string subject = rng.pick(kSubjects), verb = rng.pick(kVerbs), place = rng.pick(kPlaces);
  const std::string adjective = rng.pick(kAdjectives);
  switch (rng.next() % 3) {
  case 0:
    return {{"prompt", "What does " + subject + " do " + place + "?"},
            {"response", capitalise(subject) + " " + verb + " " + place + "."}};
  case 1:
    return {{"prompt", "Describe " + subject + " in one word."}, {"response", capitalise(adjective) + "."}};
  default:
    return {{"prompt", "Tell me about " + subject + "."},
            {"response", capitalise(subject) + " is " + adjective + " and " + verb + " " + place + "."}};
  }
}

const char *const kUsage =
    "usage: align-data sft-corpus --out DIR [--rows N] [--seed S]\n"
    "       align-data length-task --out DIR [--users 10] [--unseen-users 4] [--pairs-per-user 120]\n"
    "                              [--sft-rows 3000] [--seed 1]\n"
    "\n"
    "  sft-corpus   DIR/sft/corpus.jsonl: prompt/response rows of a small English-like grammar (--rows 400,\n"
    "               --seed 0).\n"
    "  length-task  DIR/length/sft.jsonl (prompt/response, responses of 1-3 sentences) and\n"
    "               DIR/length/prefs.jsonl (prompt, chosen, rejected, user_id, group, seen): pairs of a short and\n"
    "               a long response; --users seen and --unseen-users unseen users, 70% of each preferring the\n"
    "               long response (group \"long\") and the rest the short one (group \"short\").\n"
    "       align-data em-bandit --out DIR [--mixture 0.2,0,0.8] [--users 100] [--pairs-per-user 100] [--seed 1]\n"
    "  em-bandit    DIR/em_bandit/pairs.jsonl (prompt, chosen, rejected, annotator, true_type): users of K latent\n"
    "               types (K = the mixture's size) compare two of K arms; type i prefers arm i (reward 10 vs 0,\n"
    "               Bradley-Terry). Also sft.jsonl (each arm equally often) and truth.json.\n"
    "       align-data em-types --out DIR --feedback binary|ternary [--users 60] [--prompts-per-user 8]\n"
    "                           [--sft-rows 600] [--seed 1]\n"
    "  em-types     DIR/opinions/rankings.jsonl (prompt, responses, order, annotator, country, true_type): half\n"
    "               the annotators prefer shorter responses, half longer; binary feedback ranks 2 of 3 responses,\n"
    "               ternary all 3. Also sft.jsonl.\n"
    "       align-data dpa-task --out DIR [--prompts 400] [--sft-rows 3000] [--rated-rows 3000] [--seed 1]\n"
    "  dpa-task     DPA's helpfulness/verbosity task: a seeded world of 24 animals with a color, size, food and\n"
    "               home. DIR/dpa/prompts.jsonl (prompt, entity, asks, facts): distinct questions about 1-3\n"
    "               attributes of one animal; DIR/dpa/sft.jsonl (prompt, response) and DIR/dpa/ratings.jsonl\n"
    "               (prompt, response, helpfulness, verbosity): responses stating a random subset of the asked\n"
    "               facts (\"The fox eats mice.\") among 0-4 filler sentences, rated 0-4 from the true values\n"
    "               plus noise (10% helpfulness null, 10% verbosity absent, never both); DIR/dpa/world.json.\n"
    "               True values: helpfulness = 4 * asked facts stated / asked (a fact is stated when its value\n"
    "               is a whole word of the response, any case); verbosity = min(words / 6, 4), a word being a\n"
    "               run of ASCII letters and digits.\n"
    "       align-data dpa-judge --data DIR --input GEN.jsonl --out SUMMARY.json [--rows OUT.jsonl]\n"
    "  dpa-judge    Scores generations, one {\"prompt\", \"text\", \"iteration\"?, \"angle_deg\"?} per line, the\n"
    "               prompt as in DIR/dpa/prompts.jsonl, with those true values. SUMMARY.json: points (mean\n"
    "               helpfulness, verbosity, words and n per iteration and angle), by_iteration (Spearman's rho\n"
    "               of verbosity against the angle; mean of cos(a)*h + sin(a)*v over the angles) and dominance\n"
    "               (first and last iteration: at how many angles the last is better, and dominates). --rows\n"
    "               copies the input rows with helpfulness_true, verbosity_true and words added. Bad input or an\n"
    "               unknown prompt: an error naming GEN.jsonl:LINE, exit 1.\n"
    "  The same seed gives the same bytes.\n";

int usageError(const std::string &message) {
  std::fprintf(stderr, "align-data: %s\n%s", message.c_str(), kUsage);
  return 2;
}

/// `align-data dpa-judge`: its flags name files, not counts, so it has a parser of its own.
int dpaJudge(int argc, char **argv) {
  align::data::DpaJudgeOptions options;
  const std::vector<std::pair<std::string, std::string *>> flags = {
      {"--data", &options.data}, {"--input", &options.input}, {"--out", &options.out}, {"--rows", &options.rows}};
  for (int i = 2; i < argc; ++i) {
    const std::string flag = argv[i];
    if (flag == "--help" || flag == "-h") {
      std::fputs(kUsage, stdout);
      return 0;
    }
    auto it = std::find_if(flags.begin(), flags.end(), [&](const auto &f) { return f.first == flag; });
    if (it == flags.end())
      return usageError("unknown flag '" + flag + "' for dpa-judge");
    if (i + 1 >= argc || argv[i + 1][0] == '\0')
      return usageError(flag + " needs a value");
    *it->second = argv[++i];
  }
  for (const auto &[flag, value] : flags)
    if (flag != "--rows" && value->empty())
      return usageError(flag + " is required for dpa-judge");
  try {
    align::data::runDpaJudge(options);
    return 0;
  } catch (const std::exception &e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
}

} // namespace

int main(int argc, char **argv) {
  if (argc < 2)
    return usageError("no command");
  const std::string command = argv[1];
  if (command == "--help" || command == "-h" || command == "help") {
    std::fputs(kUsage, stdout);
    return 0;
  }
  if (command == "dpa-judge")
    return dpaJudge(argc, argv);
  if (command != "sft-corpus" && command != "length-task" && command != "em-bandit" && command != "em-types" &&
      command != "dpa-task")
    return usageError("unknown command '" + command + "'");
  const bool length = command == "length-task", bandit = command == "em-bandit", types = command == "em-types";
  const bool dpa = command == "dpa-task";
  std::string feedback;
  std::string out;
  long rows = 400;
  unsigned long long seed = length || bandit || types || dpa ? 1 : 0;
  align::data::LengthTaskOptions task;
  align::data::EmBanditOptions emBandit;
  align::data::EmTypesOptions emTypes;
  align::data::DpaTaskOptions dpaTask;
  // The integer flags of each command, with the least value each accepts.
  std::vector<std::tuple<std::string, long *, long>> counts;
  if (length)
    counts = {{"--users", &task.users, 1},
              {"--unseen-users", &task.unseenUsers, 0},
              {"--pairs-per-user", &task.pairsPerUser, 1},
              {"--sft-rows", &task.sftRows, 1}};
  else if (types)
    counts = {{"--users", &emTypes.users, 2},
              {"--prompts-per-user", &emTypes.promptsPerUser, 1},
              {"--sft-rows", &emTypes.sftRows, 1}};
  else if (dpa)
    counts = {{"--prompts", &dpaTask.prompts, 1},
              {"--sft-rows", &dpaTask.sftRows, 1},
              {"--rated-rows", &dpaTask.ratedRows, 1}};
  else if (bandit)
    counts = {{"--users", &emBandit.users, 1}, {"--pairs-per-user", &emBandit.pairsPerUser, 1}};
  else
    counts = {{"--rows", &rows, 1}};
  for (int i = 2; i < argc; ++i) {
    const std::string flag = argv[i];
    if (flag == "--help" || flag == "-h") {
      std::fputs(kUsage, stdout);
      return 0;
    }
    auto count = std::find_if(counts.begin(), counts.end(), [&](const auto &c) { return std::get<0>(c) == flag; });
    if (flag != "--out" && flag != "--seed" && !(bandit && flag == "--mixture") && !(types && flag == "--feedback") &&
        count == counts.end())
      return usageError("unknown flag '" + flag + "' for " + command);
    if (i + 1 >= argc)
      return usageError(flag + " needs a value");
    const std::string value = argv[++i];
    if (flag == "--out") {
      out = value;
      continue;
    }
    if (flag == "--feedback") {
      if (value != "binary" && value != "ternary")
        return usageError("--feedback " + value + ": expected binary or ternary");
      feedback = value;
      continue;
    }
    if (flag == "--mixture") {
      try {
        emBandit.mixture = align::data::parseMixture(value);
      } catch (const std::invalid_argument &e) {
        return usageError(e.what());
      }
      continue;
    }
    char *end = nullptr;
    errno = 0;
    const unsigned long long n = std::strtoull(value.c_str(), &end, 10);
    if (value.empty() || value[0] == '-' || *end != '\0' || errno == ERANGE ||
        (flag != "--seed" && n > 100000000ull))
      return usageError(flag + " " + value + ": expected a non-negative integer" +
                        (flag == "--seed" ? "" : " (at most 100000000)"));
    if (flag == "--seed") {
      seed = n;
      continue;
    }
    if (static_cast<long>(n) < std::get<2>(*count))
      return usageError(flag + " " + value + ": must be at least " + std::to_string(std::get<2>(*count)));
    *std::get<1>(*count) = static_cast<long>(n);
  }
  if (out.empty())
    return usageError("--out DIR is required");
  if (types && feedback.empty())
    return usageError("--feedback binary|ternary is required for em-types");
  if (bandit && static_cast<long long>(emBandit.users) * emBandit.pairsPerUser > align::data::kEmBanditMaxComparisons)
    return usageError("--users " + std::to_string(emBandit.users) + " with --pairs-per-user " +
                      std::to_string(emBandit.pairsPerUser) + ": at most " +
                      std::to_string(align::data::kEmBanditMaxComparisons) + " comparisons in all");
  if (dpa && dpaTask.prompts > align::data::kDpaMaxPrompts)
    return usageError("--prompts " + std::to_string(dpaTask.prompts) + ": a world has at most " +
                      std::to_string(align::data::kDpaMaxPrompts) + " distinct prompts");
  try {
    if (dpa) {
      dpaTask.out = out;
      dpaTask.seed = seed;
      align::data::writeDpaTask(dpaTask);
      return 0;
    }
    if (types) {
      emTypes.out = out;
      emTypes.ternary = feedback == "ternary";
      emTypes.seed = seed;
      align::data::writeEmTypes(emTypes);
      return 0;
    }
    if (bandit) {
      emBandit.out = out;
      emBandit.seed = seed;
      align::data::writeEmBandit(emBandit);
      return 0;
    }
    if (length) {
      task.out = out;
      task.seed = seed;
      align::data::writeLengthTask(task);
      return 0;
    }
    const std::string dir = align::rt::joinPath(out, "sft");
    align::rt::makeDirectories(dir);
    const std::string path = align::rt::joinPath(dir, "corpus.jsonl");
    std::ofstream file(path);
    SplitMix64 rng{seed};
    for (long i = 0; i < rows; ++i)
      file << sftRow(rng).dump() << "\n";
    if (!file.flush())
      throw std::runtime_error(path + ": write failed");
    std::printf("wrote %ld rows to %s\n", rows, path.c_str());
    return 0;
  } catch (const std::exception &e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
}
