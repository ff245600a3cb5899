//===- EmTypes.cpp - Two annotator types that binary votes hide ----------===//
//
// The EM-DPO identifiability experiment (docs/methods.md §3.1, the paper's Lemma 4.1 and Theorem 4.2) on a
// task a byte-level model can learn. Every prompt has three responses of 1, 2 and 3 sentences. Half of the
// annotators are "brief" (rewards 2, 1, 0 for 1, 2, 3 sentences), half "thorough" (0, 1, 2): opposite
// preferences in equal proportion, so over the population every binary comparison is a coin flip — the same
// marginals as annotators with no preference at all — while a 3-way ranking still shows which way a person
// leans (a brief annotator puts the middle response second and the long one last far more often than a
// thorough one does). Each annotator answers --prompts-per-user prompts:
//   --feedback binary   two of the three responses (a uniform pair), the winner by Bradley–Terry
//   --feedback ternary  all three, ranked by Plackett–Luce on the same rewards
//
//   OUT/opinions/rankings.jsonl  {"prompt", "responses", "order", "annotator", "country", "true_type"}: responses
//                                in a random display order, order = their indices best first; "country" and
//                                "true_type" name the annotator's type ("brief" / "thorough"; evaluation only)
//   OUT/opinions/sft.jsonl       {"prompt", "response"}: every length equally often, for the reference
//   OUT/opinions/heldout.jsonl   {"prompt"}: one per subject that no ranking or SFT row mentions, for measuring
//                                the type policies (MMRA's regrets) on prompts none of them trained on
//
//===----------------------------------------------------------------------===//

#include "EmTypes.h"

#include "SplitMix64.h"
#include "support/AtomicWrite.h"
#include "support/Files.h"

#include <nlohmann/json.hpp>

#include <cmath>
#include <cstdio>
#include <sstream>
#include <vector>

namespace align::data {

namespace {

const std::vector<std::string> kTopics = {"the cat", "the dog", "the sun", "the moon", "the bird", "the sea",
                                          "the tree", "the river", "the fox", "the owl", "the boat", "the hill"};
const std::vector<std::string> kHeldOutTopics = {"the lake", "the wolf", "the star", "the rain",
                                                 "the horse", "the rose", "the road", "the bear"};
const std::vector<std::string> kVerbs = {"sleeps", "sings", "grows", "rests", "shines", "moves", "waits", "runs"};
const std::vector<std::string> kAdjectives = {"calm", "warm", "tall", "slow", "quiet", "old", "soft", "wild"};

std::string sentence(SplitMix64 &rng, const std::string &topic, bool first) {
  std::string subject = first ? topic : "It";
  if (first && !subject.empty())
    subject[0] = static_cast<char>(subject[0] - 'a' + 'A');
  return subject + (rng.below(2) ? " " + rng.pick(kVerbs) + "." : " is " + rng.pick(kAdjectives) + ".");
}

/// A response of `sentences` sentences about `topic`.
std::string response(SplitMix64 &rng, const std::string &topic, int sentences) {
  std::string out;
  for (int i = 0; i < sentences; ++i)
    out += (i ? " " : "") + sentence(rng, topic, i == 0);
  return out;
}

} // namespace

void writeEmTypes(const EmTypesOptions &options) {
  const std::string dir = rt::joinPath(options.out, "opinions");
  rt::makeDirectories(dir);
  // Types: exactly half of the annotators each, by a seeded shuffle.
  SplitMix64 typeRng{options.seed}, rowRng{options.seed + 1}, sftRng{options.seed + 2};
  std::vector<int> typeOf(static_cast<size_t>(options.users));
  for (size_t u = 0; u < typeOf.size(); ++u)
    typeOf[u] = u < typeOf.size() / 2 ? 0 : 1;
  typeRng.shuffle(typeOf);
  const char *const typeName[] = {"brief", "thorough"};
  std::ostringstream rows;
  for (long u = 0; u < options.users; ++u) {
    char annotator[16];
    std::snprintf(annotator, sizeof annotator, "a%03ld", u);
    const int type = typeOf[static_cast<size_t>(u)];
    for (long p = 0; p < options.promptsPerUser; ++p) {
      const std::string topic = rowRng.pick(kTopics);
      // Lengths 1, 2, 3 in a random display order; the reward of length L for each type.
      std::vector<int> lengths = {1, 2, 3};
      rowRng.shuffle(lengths);
      if (!options.ternary)
        lengths.pop_back(); // binary: a uniform pair of the three
      std::vector<std::string> texts;
      std::vector<double> reward;
      for (int length : lengths) {
        texts.push_back(response(rowRng, topic, length));
        reward.push_back(type == 0 ? 3.0 - length : length - 1.0);
      }
      // Plackett–Luce: the next-best among the remaining with probability ∝ exp(reward) (two: Bradley–Terry).
      std::vector<size_t> remaining(texts.size()), order;
      for (size_t i = 0; i < remaining.size(); ++i)
        remaining[i] = i;
      while (!remaining.empty()) {
        double total = 0;
        for (size_t i : remaining)
          total += std::exp(reward[i]);
        double draw = rowRng.uniform() * total;
        size_t pick = remaining.size() - 1;
        for (size_t j = 0; j < remaining.size(); ++j)
          if ((draw -= std::exp(reward[remaining[j]])) <= 0) {
            pick = j;
            break;
          }
        order.push_back(remaining[pick]);
        remaining.erase(remaining.begin() + static_cast<std::ptrdiff_t>(pick));
      }
      rows << nlohmann::json({{"prompt", "Tell me about " + topic + ".\n"},
                              {"responses", texts},
                              {"order", order},
                              {"annotator", annotator},
                              {"country", typeName[type]},
                              {"true_type", typeName[type]}})
                  .dump()
           << "\n";
    }
  }
  std::ostringstream sft;
  for (long i = 0; i < options.sftRows; ++i) {
    const std::string topic = sftRng.pick(kTopics);
    sft << nlohmann::json({{"prompt", "Tell me about " + topic + ".\n"},
                           {"response", response(sftRng, topic, static_cast<int>(i % 3) + 1)}})
               .dump()
        << "\n";
  }
  std::ostringstream heldout;
  for (const std::string &topic : kHeldOutTopics)
    heldout << nlohmann::json({{"prompt", "Tell me about " + topic + ".\n"}}).dump() << "\n";
  rt::writeFileAtomically(rt::joinPath(dir, "rankings.jsonl"), rows.str());
  rt::writeFileAtomically(rt::joinPath(dir, "heldout.jsonl"), heldout.str());
  rt::writeFileAtomically(rt::joinPath(dir, "sft.jsonl"), sft.str());
  std::fprintf(stderr, "em-types: %ld annotators (half brief, half thorough), %ld %s rows each -> %s\n", options.users,
               options.promptsPerUser, options.ternary ? "3-way ranking" : "binary", dir.c_str());
}

} // namespace align::data
