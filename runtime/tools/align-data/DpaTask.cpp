//===- DpaTask.cpp - The synthetic directional-preference data set --------===//
//
// DPA's experiment (docs/methods.md §4) rebuilt small enough for a byte-level model: questions about a small
// made-up world, whose answers vary independently in helpfulness (how many of the asked facts they state) and
// verbosity (how many words they spend), rated on HelpSteer's 0–4 scale.
//
// The world: 24 animals drawn from a pool of 40 short names, each with a color, size, food and home drawn from
// small lists (no word in two lists). The seed chooses the world, so another seed is another world.
//
//   OUT/dpa/world.json      the seed, the attributes and their values, every entity's facts, the sentence
//                           shapes, W and the rating noise
//   OUT/dpa/prompts.jsonl   {"prompt", "entity", "asks", "facts"}: distinct questions about 1 to 3 attributes
//                           (in random order) of one entity, in one of three phrasings ("Tell me the color and
//                           food of the fox.\n", "What is the size of the owl?\n", "Describe the home, color and
//                           size of the elk.\n"); facts[i] is the value asked by asks[i]. Every prompt ends in "\n".
//   OUT/dpa/sft.jsonl       {"prompt", "response"}
//   OUT/dpa/ratings.jsonl   {"prompt", "response", "helpfulness", "verbosity"}: HelpSteer's integer 0–4 scale,
//                           round(clamp(true + N(0, 0.5²), 0, 4)) of DpaObjectives.h's true values. One row in ten
//                           has "helpfulness": null, another one in ten has no "verbosity" key; never both.
//
// SFT and rated rows ask questions drawn the same way as the prompts (not necessarily ones in prompts.jsonl),
// and their responses are drawn independently of each other:
//   - the number of asked facts stated, uniform in 0..asked, then which ones (so helpfulness_true is uniform
//     over its values for each question); a fact is one sentence: "The fox is red." (color), "The fox is big."
//     (size), "The fox eats mice." (food), "The fox lives in caves." (home);
//   - 0 to 4 distinct filler sentences (uniform) from kFillers, which name no fact ("It is shy.");
//   - at least one sentence: a draw of no fact and no filler gets one filler;
//   - the sentences in random order, joined by single spaces.
// So concise-complete, verbose-incomplete and everything between occur. Responses have 3 to 29 words; with
// seed 1 the mean is 11.6 words and prompt+response runs from 39 to 179 bytes (mean 90).
//
// Byte budget (the recipe puts a 60–230 byte system prompt before the prompt, max_length 512): prompts are at
// most kMaxPromptBytes (47 in fact) and responses at most kMaxResponseBytes (135 in fact); a draw over either
// is a bug (std::logic_error). Separate seeded streams draw the world, the prompts, the SFT rows and the rated
// rows, so changing one count leaves the others' draws alone.
//
//===----------------------------------------------------------------------===//

#include "DpaTask.h"

#include "DpaObjectives.h"
#include "SplitMix64.h"
#include "support/AtomicWrite.h"
#include "support/Files.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <set>
#include <stdexcept>
#include <vector>

namespace align::data {

namespace {

constexpr size_t kEntities = 24, kMaxPromptBytes = 56, kMaxResponseBytes = 144;
constexpr double kRatingNoise = 0.5;

const std::vector<std::string> kNamePool = {
    "fox",  "owl",  "cat",  "dog",  "bee",  "ant",  "elk",  "yak",  "cow",  "pig",  "hen",  "bat",  "eel",  "ram",
    "emu",  "ape",  "jay",  "crab", "frog", "toad", "deer", "duck", "goat", "hare", "lamb", "lark", "mole", "moth",
    "newt", "seal", "swan", "wasp", "wolf", "wren", "mule", "bear", "lion", "puma", "crow", "dove"};

struct Attribute {
  std::string name;                ///< as the prompt asks it ("color")
  std::string before, after;       ///< a fact sentence is "The " + entity + before + value + after
  std::vector<std::string> values; ///< single words, none in another attribute's list
};

const std::vector<Attribute> kAttributes = {
    {"color", " is ", ".", {"red", "blue", "green", "gray", "brown", "white", "black", "pink"}},
    {"size", " is ", ".", {"tiny", "small", "big", "huge"}},
    {"food", " eats ", ".", {"mice", "fish", "seeds", "grass", "nuts", "bugs", "fruit", "leaves"}},
    {"home", " lives in ", ".", {"caves", "trees", "ponds", "hills", "farms", "nests", "fields", "reeds"}}};

/// Sentences that state no fact (3 or 4 words, at most 17 bytes).
const std::vector<std::string> kFillers = {"It wakes at dawn.", "Many like it.",    "It is shy.",
                                           "It moves fast.",    "It naps a lot.",   "Kids draw it.",
                                           "It is well known.", "It likes the sun."};

struct Entity {
  std::string name;
  std::vector<std::string> values; ///< one per kAttributes entry
};

struct Question {
  const Entity *entity = nullptr;
  std::vector<size_t> asks; ///< indices into kAttributes, in the order the prompt names them
  std::string prompt;
  std::vector<std::string> facts() const {
    std::vector<std::string> out;
    for (size_t a : asks)
      out.push_back(entity->values[a]);
    return out;
  }
};

/// The vocabulary rule the judge relies on: a value is one word, in no other list, not an entity's name and
/// not a word of any filler, prompt phrasing or attribute name — so stating it can only mean stating the fact.
void checkVocabulary() {
  std::set<std::string> others;
  for (const std::string &name : kNamePool)
    others.insert(name);
  for (const std::string &filler : kFillers)
    for (const std::string &word : dpaWords(filler))
      others.insert(word);
  for (const char *phrasing : {"tell me the of what is are describe the", "the is eats lives in"})
    for (const std::string &word : dpaWords(phrasing))
      others.insert(word);
  for (const Attribute &attribute : kAttributes)
    others.insert(attribute.name);
  std::set<std::string> values;
  for (const Attribute &attribute : kAttributes)
    for (const std::string &value : attribute.values)
      if (dpaWords(value) != std::vector<std::string>{value} || others.count(value) || !values.insert(value).second)
        throw std::logic_error("dpa-task: the value '" + value + "' is not a word of its own");
}

std::vector<Entity> makeWorld(SplitMix64 &rng) {
  std::vector<std::string> names = kNamePool;
  rng.shuffle(names);
  std::vector<Entity> world(kEntities);
  for (size_t i = 0; i < kEntities; ++i) {
    world[i].name = names[i];
    for (const Attribute &attribute : kAttributes)
      world[i].values.push_back(rng.pick(attribute.values));
  }
  return world;
}

/// "color", "color and food", "color, food and home".
std::string attributeList(const std::vector<size_t> &asks) {
  std::string out;
  for (size_t i = 0; i < asks.size(); ++i)
    out += (i == 0 ? "" : i + 1 == asks.size() ? " and " : ", ") + kAttributes[asks[i]].name;
  return out;
}

Question drawQuestion(SplitMix64 &rng, const std::vector<Entity> &world) {
  Question q;
  q.entity = &rng.pick(world);
  std::vector<size_t> order = {0, 1, 2, 3};
  rng.shuffle(order);
  q.asks.assign(order.begin(), order.begin() + 1 + static_cast<long>(rng.below(3)));
  const std::string list = attributeList(q.asks), of = " of the " + q.entity->name;
  switch (rng.below(3)) {
  case 0:
    q.prompt = "Tell me the " + list + of + ".\n";
    break;
  case 1:
    q.prompt = (q.asks.size() == 1 ? "What is the " : "What are the ") + list + of + "?\n";
    break;
  default:
    q.prompt = "Describe the " + list + of + ".\n";
  }
  if (q.prompt.size() > kMaxPromptBytes)
    throw std::logic_error("dpa-task: prompt over the byte budget: " + q.prompt);
  return q;
}

/// A response stating a uniform number (0..asked) of the asked facts and 0 to 4 fillers, in random order.
std::string drawResponse(SplitMix64 &rng, const Question &q) {
  std::vector<size_t> asked = q.asks;
  rng.shuffle(asked);
  asked.resize(rng.below(asked.size() + 1));
  std::vector<std::string> fillers = kFillers;
  rng.shuffle(fillers);
  fillers.resize(std::max<size_t>(rng.below(5), asked.empty() ? 1 : 0));
  std::vector<std::string> sentences = fillers;
  for (size_t a : asked)
    sentences.push_back("The " + q.entity->name + kAttributes[a].before + q.entity->values[a] + kAttributes[a].after);
  rng.shuffle(sentences);
  std::string text;
  for (const std::string &s : sentences)
    text += (text.empty() ? "" : " ") + s;
  if (text.size() > kMaxResponseBytes)
    throw std::logic_error("dpa-task: response over the byte budget: " + text);
  return text;
}

/// A HelpSteer rating: the true value plus N(0, kRatingNoise²), clamped to [0, 4] and rounded.
long rate(double truth, double standardNormal) {
  return std::lround(std::clamp(truth + kRatingNoise * standardNormal, 0.0, 4.0));
}

/// Writes `rows` lines, each made by `row(i)`, to `path` atomically without holding them all in memory.
template <class Row> void writeRows(const std::string &path, long rows, Row row) {
  rt::writeFileAtomically(path, [&](const rt::ByteSink &write) {
    for (long i = 0; i < rows; ++i) {
      const std::string line = row(i).dump() + "\n";
      write(line.data(), line.size());
    }
  });
}

} // namespace

void writeDpaTask(const DpaTaskOptions &options) {
  if (options.prompts > kDpaMaxPrompts)
    throw std::invalid_argument("dpa-task: at most " + std::to_string(kDpaMaxPrompts) + " distinct prompts");
  checkVocabulary();
  SplitMix64 base{options.seed};
  SplitMix64 worldRng{base.next()}, promptRng{base.next()}, sftRng{base.next()}, ratedRng{base.next()};
  const std::vector<Entity> world = makeWorld(worldRng);
  const std::string dir = rt::joinPath(options.out, "dpa");
  rt::makeDirectories(dir);

  nlohmann::ordered_json worldJson;
  worldJson["seed"] = options.seed;
  for (const Attribute &attribute : kAttributes) {
    worldJson["attributes"].push_back(attribute.name);
    worldJson["values"][attribute.name] = attribute.values;
    worldJson["fact_sentences"][attribute.name] = "The {entity}" + attribute.before + "{value}" + attribute.after;
  }
  for (const Entity &entity : world) {
    nlohmann::ordered_json e;
    e["name"] = entity.name;
    for (size_t a = 0; a < kAttributes.size(); ++a)
      e[kAttributes[a].name] = entity.values[a];
    worldJson["entities"].push_back(e);
  }
  worldJson["fillers"] = kFillers;
  worldJson["words_per_verbosity_point"] = kDpaWordsPerVerbosityPoint;
  worldJson["rating_noise_sd"] = kRatingNoise;
  rt::writeFileAtomically(rt::joinPath(dir, "world.json"), worldJson.dump(2) + "\n");

  std::vector<Question> prompts;
  std::set<std::string> seen;
  while (static_cast<long>(prompts.size()) < options.prompts) {
    Question q = drawQuestion(promptRng, world);
    if (seen.insert(q.prompt).second)
      prompts.push_back(std::move(q));
  }
  writeRows(rt::joinPath(dir, "prompts.jsonl"), options.prompts, [&](long i) {
    const Question &q = prompts[static_cast<size_t>(i)];
    nlohmann::ordered_json row;
    row["prompt"] = q.prompt;
    row["entity"] = q.entity->name;
    for (size_t a : q.asks)
      row["asks"].push_back(kAttributes[a].name);
    row["facts"] = q.facts();
    return row;
  });

  double words = 0;
  size_t longest = 0;
  auto draw = [&](SplitMix64 &rng, nlohmann::ordered_json &row) {
    const Question q = drawQuestion(rng, world);
    const std::string response = drawResponse(rng, q);
    longest = std::max(longest, q.prompt.size() + response.size());
    row["prompt"] = q.prompt;
    row["response"] = response;
    const DpaObjectives truth = dpaTrueObjectives(response, q.facts());
    words += static_cast<double>(truth.words);
    return truth;
  };
  writeRows(rt::joinPath(dir, "sft.jsonl"), options.sftRows, [&](long) {
    nlohmann::ordered_json row;
    draw(sftRng, row);
    return row;
  });
  long noHelpfulness = 0, noVerbosity = 0;
  writeRows(rt::joinPath(dir, "ratings.jsonl"), options.ratedRows, [&](long) {
    nlohmann::ordered_json row;
    const DpaObjectives truth = draw(ratedRng, row);
    const double helpfulnessNoise = ratedRng.normal(), verbosityNoise = ratedRng.normal();
    const uint64_t missing = ratedRng.below(10); // 0: no helpfulness, 1: no verbosity
    noHelpfulness += missing == 0;
    noVerbosity += missing == 1;
    row["helpfulness"] =
        missing == 0 ? nlohmann::ordered_json() : nlohmann::ordered_json(rate(truth.helpfulness, helpfulnessNoise));
    if (missing != 1)
      row["verbosity"] = rate(truth.verbosity, verbosityNoise);
    return row;
  });

  std::fprintf(stderr,
               "dpa-task: %zu entities, %ld prompts, %ld SFT rows, %ld rated rows (%ld without helpfulness, %ld "
               "without verbosity); mean response words %.1f (W = %g); longest prompt+response %zu bytes -> %s\n",
               world.size(), options.prompts, options.sftRows, options.ratedRows, noHelpfulness, noVerbosity,
               words / std::max<double>(1, static_cast<double>(options.sftRows + options.ratedRows)),
               kDpaWordsPerVerbosityPoint, longest, dir.c_str());
}

} // namespace align::data
