//===- LengthTask.cpp - The synthetic length-preference data set ----------===//
//
// The P-RLHF length experiment (issue 5), rebuilt small enough for a byte-level model on a CPU:
//
//   OUT/length/sft.jsonl    {"prompt", "response"}: prompts from a small grammar of requests about a topic
//                           ("Tell me about the fox.\n"), responses of 1, 2 or 3 short sentences about it
//                           (uniformly), so the base model learns every length and to stop after a sentence.
//   OUT/length/prefs.jsonl  {"prompt", "chosen", "rejected", "user_id", "group", "seen"}: for each row one
//                           prompt, a SHORT response (1 sentence) and a LONG one (2 or 3 sentences), drawn
//                           independently from the same grammar; users "long" prefer the long response,
//                           users "short" the short one. Seen users u1..uN and unseen users after them; in each
//                           set round(70%) are "long" (chosen by a seeded shuffle), as in the P-RLHF paper.
//
// Byte budget (the recipes use a byte tokenizer with max_length 96 and max_prompt_length 48): prompts are at
// most kMaxPrompt bytes and end in "\n", responses at most kMaxResponse, so nothing is ever truncated.
// Separate seeded streams draw the SFT rows, the user groups, the pairs and the row order, so changing one
// count leaves the others' draws alone.
//
//===----------------------------------------------------------------------===//

#include "LengthTask.h"

#include "SplitMix64.h"
#include "support/Files.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <stdexcept>
#include <vector>

namespace align::data {

namespace {

constexpr size_t kMaxPrompt = 40, kMaxResponse = 52;

const std::vector<std::string> kTopics = {"the cat",  "the dog",  "the sun",   "the moon", "the bird", "the sea",
                                          "the tree", "the city", "the river", "the wind", "the horse", "the lake",
                                          "the fox",  "the owl",  "the boat",  "the hill"};
const std::vector<std::string> kRequests = {"Tell me about ", "Describe ", "Say something about ", "Write about ",
                                            "What do you know about "};
const std::vector<std::string> kVerbs = {"sleeps", "sings", "grows", "rests", "shines",
                                         "moves",  "waits", "runs",  "glows", "drifts"};
const std::vector<std::string> kAdjectives = {"calm", "warm", "tall", "slow", "quiet",
                                              "old",  "soft", "wild", "kind", "small"};
const std::vector<std::string> kWhen = {"here", "a lot", "all day", "at dawn", "today", "at home"};

std::string capitalise(std::string s) {
  if (!s.empty() && s[0] >= 'a' && s[0] <= 'z')
    s[0] = static_cast<char>(s[0] - 'a' + 'A');
  return s;
}

std::string prompt(SplitMix64 &rng, const std::string &topic) {
  const std::string &request = rng.pick(kRequests);
  return request + topic + (request.rfind("What", 0) == 0 ? "?\n" : ".\n");
}

/// The first sentence names the topic (13 to 19 bytes): "The fox runs." or "The fox is calm."
std::string firstSentence(SplitMix64 &rng, const std::string &topic) {
  if (rng.below(2) == 0)
    return capitalise(topic) + " " + rng.pick(kVerbs) + ".";
  return capitalise(topic) + " is " + rng.pick(kAdjectives) + ".";
}

/// A sentence that goes on about the topic (10 to 18 bytes).
std::string laterSentence(SplitMix64 &rng) {
  switch (rng.below(3)) {
  case 0:
    return "It is " + rng.pick(kAdjectives) + ".";
  case 1:
    return "It is very " + rng.pick(kAdjectives) + ".";
  default:
    return "It " + rng.pick(kVerbs) + " " + rng.pick(kWhen) + ".";
  }
}

/// `sentences` sentences about `topic`, no sentence twice, redrawn until within kMaxResponse bytes.
std::string response(SplitMix64 &rng, const std::string &topic, int sentences) {
  for (;;) {
    std::string text = firstSentence(rng, topic);
    std::vector<std::string> later;
    while (static_cast<int>(later.size()) < sentences - 1) {
      std::string next = laterSentence(rng);
      if (std::find(later.begin(), later.end(), next) == later.end())
        later.push_back(std::move(next));
    }
    for (const std::string &s : later)
      text += " " + s;
    if (text.size() <= kMaxResponse)
      return text;
  }
}

struct User {
  std::string id;
  bool seen = true, prefersLong = false;
};

/// `count` users numbered from `first`, round(70%) of them preferring long responses (which ones: seeded).
std::vector<User> makeUsers(SplitMix64 &rng, long first, long count, bool seen) {
  std::vector<long> order;
  for (long i = 0; i < count; ++i)
    order.push_back(i);
  rng.shuffle(order);
  const long longCount = (7 * count + 5) / 10;
  std::vector<User> users(static_cast<size_t>(count));
  for (long i = 0; i < count; ++i) {
    User &u = users[static_cast<size_t>(order[static_cast<size_t>(i)])];
    u.prefersLong = i < longCount;
  }
  for (long i = 0; i < count; ++i)
    users[static_cast<size_t>(i)].id = "u" + std::to_string(first + i), users[static_cast<size_t>(i)].seen = seen;
  return users;
}

void writeLines(const std::string &path, const std::vector<std::string> &lines) {
  std::ofstream file(path, std::ios::binary);
  for (const std::string &line : lines)
    file << line << "\n";
  if (!file.flush())
    throw std::runtime_error(path + ": write failed");
}

} // namespace

void writeLengthTask(const LengthTaskOptions &options) {
  SplitMix64 base{options.seed};
  SplitMix64 sftRng{base.next()}, userRng{base.next()}, pairRng{base.next()}, orderRng{base.next()};

  std::vector<std::string> sft;
  for (long i = 0; i < options.sftRows; ++i) {
    const std::string &topic = sftRng.pick(kTopics);
    nlohmann::ordered_json row;
    row["prompt"] = prompt(sftRng, topic);
    row["response"] = response(sftRng, topic, 1 + static_cast<int>(sftRng.below(3)));
    sft.push_back(row.dump());
  }

  std::vector<User> users = makeUsers(userRng, 1, options.users, true);
  for (const User &u : makeUsers(userRng, 1 + options.users, options.unseenUsers, false))
    users.push_back(u);
  std::vector<std::string> prefs;
  double shortBytes = 0, longBytes = 0;
  size_t longestRow = 0;
  for (const User &u : users)
    for (long i = 0; i < options.pairsPerUser; ++i) {
      const std::string &topic = pairRng.pick(kTopics);
      const std::string p = prompt(pairRng, topic);
      const std::string shortResponse = response(pairRng, topic, 1);
      const std::string longResponse = response(pairRng, topic, 2 + static_cast<int>(pairRng.below(2)));
      if (p.size() > kMaxPrompt)
        throw std::logic_error("length-task: prompt over the byte budget: " + p);
      shortBytes += static_cast<double>(shortResponse.size());
      longBytes += static_cast<double>(longResponse.size());
      longestRow = std::max(longestRow, p.size() + longResponse.size());
      nlohmann::ordered_json row;
      row["prompt"] = p;
      row["chosen"] = u.prefersLong ? longResponse : shortResponse;
      row["rejected"] = u.prefersLong ? shortResponse : longResponse;
      row["user_id"] = u.id;
      row["group"] = u.prefersLong ? "long" : "short";
      row["seen"] = u.seen;
      prefs.push_back(row.dump());
    }
  orderRng.shuffle(prefs);

  const std::string dir = rt::joinPath(options.out, "length");
  rt::makeDirectories(dir);
  writeLines(rt::joinPath(dir, "sft.jsonl"), sft);
  writeLines(rt::joinPath(dir, "prefs.jsonl"), prefs);

  auto countGroup = [&](bool seen, bool prefersLong) {
    long n = 0;
    for (const User &u : users)
      n += u.seen == seen && u.prefersLong == prefersLong;
    return n;
  };
  const double pairs = std::max<double>(1, static_cast<double>(prefs.size()));
  std::fprintf(stderr,
               "length-task: %zu SFT rows, %zu preference rows (seen users: %ld long, %ld short; unseen: %ld long, "
               "%ld short); mean response bytes short %.1f, long %.1f; longest prompt+response %zu bytes -> %s\n",
               sft.size(), prefs.size(), countGroup(true, true), countGroup(true, false), countGroup(false, true),
               countGroup(false, false), shortBytes / pairs, longBytes / pairs, longestRow, dir.c_str());
}

} // namespace align::data
