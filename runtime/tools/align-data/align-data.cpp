//===- align-data.cpp - Data sets the project makes itself -----------------===//
//
// No data set can be downloaded where the project runs, so the recipes that do not read ../shared/data read
// what this tool writes, deterministically from a seed:
//
//   align-data sft-corpus --out DIR [--rows N] [--seed S]
//       DIR/sft/corpus.jsonl: {"prompt", "response"} rows of a small English-like grammar (questions about
//       animals, places and objects with one-sentence answers), for recipes/sft.align.
//
// The generator is a seeded SplitMix64 stream over fixed word lists, so a seed gives the same bytes on every
// machine.
//
//===----------------------------------------------------------------------===//

#include "core/Files.h"

#include <nlohmann/json.hpp>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

namespace {

struct SplitMix64 {
  uint64_t state;
  uint64_t next() {
    uint64_t z = (state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  template <class T> const T &pick(const std::vector<T> &items) { return items[next() % items.size()]; }
};

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

int usage() {
  std::fprintf(stderr, "usage: align-data sft-corpus --out DIR [--rows N] [--seed S]\n");
  return 2;
}

} // namespace

int main(int argc, char **argv) {
  if (argc < 2)
    return usage();
  const std::string command = argv[1];
  std::string out;
  long rows = 400;
  unsigned long long seed = 0;
  for (int i = 2; i < argc; ++i) {
    const std::string flag = argv[i];
    if (i + 1 >= argc)
      return usage();
    const std::string value = argv[++i];
    char *end = nullptr;
    if (flag == "--out")
      out = value;
    else if (flag == "--rows")
      rows = std::strtol(value.c_str(), &end, 10);
    else if (flag == "--seed")
      seed = std::strtoull(value.c_str(), &end, 10);
    else
      return usage();
    if (end && (*end != '\0' || value.empty())) {
      std::fprintf(stderr, "align-data: %s %s: expected a non-negative integer\n", flag.c_str(), value.c_str());
      return 2;
    }
  }
  if (command != "sft-corpus" || out.empty() || rows < 1)
    return usage();
  try {
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
