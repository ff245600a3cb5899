//===- TokenizerTest.cpp - Byte and BPE tokenizers on known ids -----------===//
//
// The byte tokenizer round-trips any bytes; the BPE loader is checked on a hand-made tokenizer.json whose
// ids can be worked out by hand (merge ranks, ties, ignore_merges, added-token rules, Split regexes), and
// on malformed files, whose errors must name the file and the field. The comparison with the `tokenizers`
// library on real text is tests/reference/test_tokenizer_peer.py, which drives the *Peer* test below.
//
//===----------------------------------------------------------------------===//

#include "support/Files.h"
#include "tokenizer/Tokenizer.h"

#include "TestFiles.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <atomic>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <iostream>
#include <random>
#include <thread>

#include <ftw.h>
#include <sys/stat.h>
#include <unistd.h>

using namespace align::rt;
using Json = nlohmann::json;
using Ids = std::vector<int64_t>;

namespace {

// Directory helpers come from support/Files.h (POSIX): std::filesystem crashes in binaries linked with libtorch.

std::string tokenizerTempDir(const std::string &name) { return align::rt::testing::scratchDir("tokenizer", name); }

std::string writeJson(const std::string &dir, const std::string &file, const Json &json) {
  std::string path = dir + "/" + file;
  std::ofstream(path) << json.dump(1);
  return path;
}

/// GPT-2's byte → character map, written out independently of the loader: printable Latin-1 bytes are
/// themselves, the rest take U+0100.. in byte order.
std::string byteChar(unsigned byte) {
  static std::vector<std::string> chars = [] {
    std::vector<std::string> table(256);
    unsigned next = 256;
    for (unsigned b = 0; b < 256; ++b) {
      bool printable = (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || b >= 174;
      unsigned cp = printable ? b : next++;
      std::string utf8;
      if (cp < 0x80)
        utf8 += char(cp);
      else
        utf8 += char(0xC0 | (cp >> 6)), utf8 += char(0x80 | (cp & 0x3F));
      table[b] = utf8;
    }
    return table;
  }();
  return chars[byte];
}

/// A tokenizer.json in the library's format: byte b has id b, then the merges below (ids from 256 in
/// order), then "<|endoftext|>" (special) and "<|user|>" (special, single word, lstrip and rstrip).
Json handMadeTokenizer() {
  Json vocab = Json::object();
  for (unsigned b = 0; b < 256; ++b)
    vocab[byteChar(b)] = b;
  // "Ġ" is the space byte's character. Ranks: he, ll, hell, hello, Ġw, or, Ġwor, 12.
  std::vector<std::pair<std::string, std::string>> merges = {{"h", "e"}, {"l", "l"}, {"he", "ll"}, {"hell", "o"},
                                                             {"Ġ", "w"}, {"o", "r"}, {"Ġw", "or"}, {"1", "2"}};
  Json mergeList = Json::array();
  int64_t next = 256;
  for (auto &[left, right] : merges) {
    vocab[left + right] = next++;
    // Both spellings the library writes: "a b" (older files) and ["a", "b"] (tokenizers >= 0.20).
    mergeList.push_back(next % 2 ? Json(left + " " + right) : Json::array({left, right}));
  }
  vocab["Ġworld"] = next++; // 264: only reachable whole through ignore_merges.
  auto added = [](int64_t id, const char *content, bool singleWord, bool strip) {
    return Json{{"id", id},        {"content", content}, {"single_word", singleWord},
                {"lstrip", strip}, {"rstrip", strip},    {"normalized", false},
                {"special", true}};
  };
  return Json{{"version", "1.0"},
              {"added_tokens", {added(265, "<|endoftext|>", false, false), added(266, "<|user|>", true, true)}},
              {"normalizer", nullptr},
              {"pre_tokenizer", {{"type", "ByteLevel"}, {"add_prefix_space", false}, {"use_regex", true}}},
              {"post_processor", nullptr},
              {"decoder", {{"type", "ByteLevel"}}},
              {"model",
               {{"type", "BPE"},
                {"dropout", nullptr},
                {"unk_token", nullptr},
                {"fuse_unk", false},
                {"byte_fallback", false},
                {"ignore_merges", false},
                {"vocab", vocab},
                {"merges", mergeList}}}};
}

Ids bytesOf(const std::string &text) {
  Ids ids;
  for (unsigned char byte : text)
    ids.push_back(byte);
  return ids;
}

std::unique_ptr<Tokenizer> loadHandMade(const std::string &name, const Json &json) {
  return loadHfTokenizer(writeJson(tokenizerTempDir(name), "tokenizer.json", json));
}

/// The Error message of loading `json`, which must fail.
std::string loadError(const std::string &name, const Json &json, std::string *path = nullptr) {
  std::string file = writeJson(tokenizerTempDir(name), "tokenizer.json", json);
  if (path)
    *path = file;
  try {
    loadHfTokenizer(file);
  } catch (const Error &error) {
    return error.what();
  }
  ADD_FAILURE() << "loading " << name << " did not fail";
  return "";
}

TEST(ByteTokenizer, RoundTripsRandomBytes) {
  auto tok = makeByteTokenizer();
  std::mt19937 rng(7);
  for (int round = 0; round < 200; ++round) {
    std::string text(rng() % 300, '\0');
    for (char &c : text)
      c = static_cast<char>(rng() % 256);
    Ids ids = tok->encode(text, false);
    ASSERT_EQ(ids, bytesOf(text)) << "every byte is its own id";
    ASSERT_EQ(tok->decode(ids), text);
    ASSERT_EQ(tok->decode(tok->encode(text)), text) << "special spellings decode to themselves";
  }
}

TEST(ByteTokenizer, SpecialTokens) {
  auto tok = makeByteTokenizer();
  EXPECT_EQ(tok->vocabSize(), 259);
  EXPECT_EQ(tok->bosId(), 256);
  EXPECT_EQ(tok->eosId(), 257);
  EXPECT_EQ(tok->padId(), 258);
  EXPECT_EQ(tok->encode("<bos>hi<eos><pad>"), (Ids{256, 'h', 'i', 257, 258}));
  EXPECT_EQ(tok->encode("<bos>hi", false), bytesOf("<bos>hi"));
  EXPECT_EQ(tok->encode("<bo<eos>"), (Ids{'<', 'b', 'o', 257}));
  EXPECT_EQ(tok->decode({256, 'h', 'i', 257}), "<bos>hi<eos>");
  EXPECT_EQ(tok->decode({256, 'h', 'i', 257, 258}, true), "hi");
  EXPECT_EQ(tok->decode({'a', 259, -1, 'b'}), "ab") << "ids that name no token are left out";
  EXPECT_EQ(tok->tokenId("<eos>"), 257);
  EXPECT_EQ(tok->tokenId("A"), 'A');
  EXPECT_EQ(tok->tokenId("AB"), std::nullopt);
}

TEST(BpeTokenizer, MergesByRankWithKnownIds) {
  auto tok = loadHandMade("merges", handMadeTokenizer());
  // "hello" → he(256), ll(257), hell(258), hello(259); " world" → Ġw(260), or(261), Ġwor(262), l, d.
  EXPECT_EQ(tok->encode("hello world"), (Ids{259, 262, 'l', 'd'}));
  EXPECT_EQ(tok->encode("hell"), (Ids{258}));
  EXPECT_EQ(tok->encode("lll"), (Ids{257, 'l'})) << "equal ranks merge leftmost first";
  // The GPT-2 split: "he" "'s" " 12" "!" — the space stays with the digits, which still merge.
  EXPECT_EQ(tok->encode("he's 12!"), (Ids{256, '\'', 's', ' ', 263, '!'}));
  EXPECT_EQ(tok->encode("there"), (Ids{'t', 256, 'r', 'e'}));
  EXPECT_EQ(tok->encode(""), Ids{});
  EXPECT_EQ(tok->encode("\xC3\xA9"), (Ids{0xC3, 0xA9})) << "é is its two UTF-8 bytes";
  EXPECT_EQ(tok->vocabSize(), 267);
  EXPECT_EQ(tok->tokenId("Ġwor"), 262);
  EXPECT_EQ(tok->tokenId("<|user|>"), 266);
  EXPECT_EQ(tok->tokenId("nope"), std::nullopt);
}

TEST(BpeTokenizer, DecodeRoundTripsAndSkipsSpecialTokens) {
  auto tok = loadHandMade("decode", handMadeTokenizer());
  for (std::string text : {"hello world", "héllo wörld ✓ 日本語 \t\n  x", "a  b   c\r\n", "🙂🙂 12 12"})
    EXPECT_EQ(tok->decode(tok->encode(text)), text);
  EXPECT_EQ(tok->decode({259, 265, 262}), "hello<|endoftext|> wor");
  EXPECT_EQ(tok->decode({259, 265, 262}, true), "hello wor");
  EXPECT_EQ(tok->decode({259, 9999, -3}), "hello") << "ids that name no token are left out";
  EXPECT_EQ(tok->decode({0xC3}), "\xEF\xBF\xBD") << "a lone lead byte decodes to U+FFFD, as in the library";
  EXPECT_EQ(tok->decode({0xE6, 0x97, 'a'}), "\xEF\xBF\xBD"
                                            "a")
      << "one U+FFFD per maximal ill-formed subpart";
}

TEST(BpeTokenizer, IgnoreMergesTakesPiecesThatAreInTheVocabulary) {
  Json json = handMadeTokenizer();
  json["model"]["ignore_merges"] = true;
  EXPECT_EQ(loadHandMade("ignore", json)->encode("hello world"), (Ids{259, 264}));
}

TEST(BpeTokenizer, AddedTokensFollowTheLibraryRules) {
  auto tok = loadHandMade("added", handMadeTokenizer());
  EXPECT_EQ(tok->encode("hello<|endoftext|>hello"), (Ids{259, 265, 259}));
  Ids plain = tok->encode("hello<|endoftext|>hello", false);
  Ids expected = bytesOf("<|endoftext|>");
  expected.insert(expected.begin(), 259);
  expected.push_back(259);
  EXPECT_EQ(plain, expected) << "without parseSpecial the spelling is ordinary text";
  // <|user|> is single_word, lstrip and rstrip: it takes the spaces around it.
  EXPECT_EQ(tok->encode("hi  <|user|>  there"), (Ids{'h', 'i', 266, 't', 256, 'r', 'e'}));
  EXPECT_EQ(tok->encode("a<|user|>b"), bytesOf("a<|user|>b")) << "inside a word it is not the token";
  EXPECT_EQ(tok->eosId(), 265) << "the usual spelling <|endoftext|>";
  EXPECT_EQ(tok->bosId(), std::nullopt);
  EXPECT_EQ(tok->padId(), std::nullopt);
}

TEST(BpeTokenizer, SpecialIdsFromTokenizerConfig) {
  std::string dir = tokenizerTempDir("config");
  std::string path = writeJson(dir, "tokenizer.json", handMadeTokenizer());
  writeJson(dir, "tokenizer_config.json",
            {{"bos_token", {{"__type", "AddedToken"}, {"content", "<|user|>"}}},
             {"eos_token", "<|endoftext|>"},
             {"pad_token", nullptr}});
  auto tok = loadHfTokenizer(path);
  EXPECT_EQ(tok->bosId(), 266);
  EXPECT_EQ(tok->eosId(), 265);
  EXPECT_EQ(tok->padId(), std::nullopt);
  std::string config = writeJson(dir, "tokenizer_config.json", {{"eos_token", "<missing>"}});
  try {
    loadHfTokenizer(path);
    ADD_FAILURE() << "an eos_token outside the vocabulary must fail";
  } catch (const Error &error) {
    EXPECT_NE(std::string(error.what()).find(config + ": eos_token: \"<missing>\""), std::string::npos) << error.what();
  }
}

TEST(BpeTokenizer, PrefixSpaceIsAddedToEveryGap) {
  Json json = handMadeTokenizer();
  json["pre_tokenizer"]["add_prefix_space"] = true;
  auto tok = loadHandMade("prefix", json);
  EXPECT_EQ(tok->encode("hello"), (Ids{' ', 259}));
  EXPECT_EQ(tok->encode("<|endoftext|>hello"), (Ids{265, ' ', 259}));
  EXPECT_EQ(tok->encode(" hello"), (Ids{' ', 259})) << "no second space";
}

TEST(BpeTokenizer, SplitRegexThenByteLevel) {
  Json json = handMadeTokenizer();
  Json byteLevel = {{"type", "ByteLevel"}, {"add_prefix_space", false}, {"use_regex", false}};
  Json split = {{"type", "Split"},
                {"pattern", {{"Regex", R"(\p{N}{1,3}| ?\p{L}+|\s+|[^\s\p{L}\p{N}]+)"}}},
                {"behavior", "Isolated"},
                {"invert", false}};
  json["pre_tokenizer"] = {{"type", "Sequence"}, {"pretokenizers", {split, byteLevel}}};
  // Digits in threes: "121" "21"; the GPT-2 split would give "12121" and merge 12 twice.
  EXPECT_EQ(loadHandMade("split", json)->encode("hello12121"), (Ids{259, 263, '1', '2', '1'}));
  // Without the GPT-2 regex, letters and digits share a piece, so a merge e+1 applies.
  json.erase("added_tokens"); // Their ids must follow the vocabulary, which grows here.
  json["model"]["vocab"]["e1"] = 265;
  json["model"]["merges"].push_back("e 1");
  json["pre_tokenizer"] = byteLevel;
  EXPECT_EQ(loadHandMade("noregex", json)->encode("xe1"), (Ids{'x', 265}));
  json["pre_tokenizer"]["use_regex"] = true;
  EXPECT_EQ(loadHandMade("regex", json)->encode("xe1"), (Ids{'x', 'e', '1'}));
}

TEST(BpeTokenizer, EncodesTheSameFromManyThreads) {
  auto tok = loadHandMade("threads", handMadeTokenizer());
  std::vector<std::string> texts;
  for (int i = 0; i < 200; ++i)
    texts.push_back("hello world " + std::to_string(i * 7919) + " there<|endoftext|>héllo " + std::string(i % 5, ' '));
  std::vector<Ids> expected;
  for (const std::string &text : texts)
    expected.push_back(tok->encode(text));
  std::vector<std::thread> threads;
  std::atomic<int> mismatches{0};
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&, t] {
      for (size_t i = 0; i < texts.size(); ++i) {
        size_t k = (i * (t + 3)) % texts.size(); // Each thread in its own order, sharing the merge cache.
        mismatches += tok->encode(texts[k]) != expected[k];
      }
    });
  for (std::thread &thread : threads)
    thread.join();
  EXPECT_EQ(mismatches, 0);
}

TEST(BpeTokenizer, LongRunsDoNotExhaustTheRegexStack) {
  auto tok = loadHandMade("long", handMadeTokenizer());
  EXPECT_EQ(tok->encode(std::string(200000, ' ')).size(), 200000u);
  std::string letters;
  for (int i = 0; i < 50000; ++i)
    letters += "hello";
  EXPECT_EQ(tok->encode(letters), Ids(50000, 259)) << "one piece of 250000 letters";
}

TEST(BpeTokenizer, RejectsInvalidUtf8Text) {
  auto tok = loadHandMade("utf8", handMadeTokenizer());
  EXPECT_THROW(tok->encode("ok \xFF"), Error);
  EXPECT_THROW(tok->encode("\xED\xA0\x80"), Error) << "a UTF-16 surrogate";
}

struct BrokenFile {
  const char *name;
  std::function<void(Json &)> breakIt;
  const char *field; // What the message must say after the file name.
};

TEST(BpeTokenizer, ErrorsNameTheFileAndTheField) {
  std::vector<BrokenFile> cases = {
      {"no_model", [](Json &j) { j.erase("model"); }, "model: missing"},
      {"bad_merge", [](Json &j) { j["model"]["merges"][3] = 42; }, "model.merges[3]: expected a string or a pair"},
      {"merge_three", [](Json &j) { j["model"]["merges"][0] = "h e x"; }, "model.merges[0]: expected two tokens"},
      {"merge_oov",
       [](Json &j) {
         j["model"]["merges"][1] = Json::array({"l", "zz"});
       },
       "model.merges[1]: \"zz\" is not in model.vocab"},
      {"no_byte", [](Json &j) { j["model"]["vocab"].erase("Ā"); }, "model.vocab: has no token for byte 0"},
      {"vocab_id", [](Json &j) { j["model"]["vocab"]["x"] = -1; }, "model.vocab[\"x\"]: expected an id"},
      {"model_type", [](Json &j) { j["model"]["type"] = "WordPiece"; }, "model.type: \"WordPiece\" is not supported"},
      {"fallback", [](Json &j) { j["model"]["byte_fallback"] = true; }, "model.byte_fallback"},
      {"dropout", [](Json &j) { j["model"]["dropout"] = 0.1; }, "model.dropout"},
      {"pretok",
       [](Json &j) {
         j["pre_tokenizer"] = {{"type", "Whitespace"}};
       },
       "pre_tokenizer.type: \"Whitespace\" is not supported"},
      {"pretok_nested",
       [](Json &j) {
         j["pre_tokenizer"] = {{"type", "Sequence"}, {"pretokenizers", {j["pre_tokenizer"], {{"type", "Digits"}}}}};
       },
       "pre_tokenizer.pretokenizers[1].type: \"Digits\" is not supported"},
      {"no_pretok", [](Json &j) { j["pre_tokenizer"] = nullptr; }, "pre_tokenizer: missing"},
      {"behavior",
       [](Json &j) {
         j["pre_tokenizer"] = {{"type", "Split"}, {"pattern", {{"Regex", "a"}}}, {"behavior", "Removed"}};
       },
       "pre_tokenizer.behavior: \"Removed\" is not supported"},
      {"regex",
       [](Json &j) {
         j["pre_tokenizer"] = {{"type", "Split"}, {"pattern", {{"Regex", "(a"}}}, {"behavior", "Isolated"}};
       },
       "pre_tokenizer.pattern: invalid regex"},
      {"split_string",
       [](Json &j) {
         j["pre_tokenizer"] = {{"type", "Split"}, {"pattern", {{"String", "e"}}}, {"behavior", "Isolated"}};
       },
       "pre_tokenizer.pattern.Regex: missing"},
      {"normalizer",
       [](Json &j) {
         j["normalizer"] = {{"type", "NFC"}};
       },
       "normalizer: type \"NFC\" is not supported"},
      {"decoder",
       [](Json &j) {
         j["decoder"] = {{"type", "WordPiece"}};
       },
       "decoder: expected the ByteLevel decoder"},
      {"added_id", [](Json &j) { j["added_tokens"][1]["id"] = 300; },
       "added_tokens[1].id: 300, but the tokenizers library would give \"<|user|>\" id 266"},
      {"added_content", [](Json &j) { j["added_tokens"][0].erase("content"); }, "added_tokens[0].content: missing"},
  };
  for (const BrokenFile &broken : cases) {
    Json json = handMadeTokenizer();
    broken.breakIt(json);
    std::string path;
    std::string message = loadError(broken.name, json, &path);
    EXPECT_EQ(message.rfind(path + ": " + broken.field, 0), 0u) << broken.name << ": " << message;
  }
}

TEST(BpeTokenizer, ErrorsForUnreadableAndMalformedFiles) {
  std::string dir = tokenizerTempDir("unreadable");
  try {
    loadHfTokenizer(dir + "/absent.json");
    ADD_FAILURE() << "a missing file must fail";
  } catch (const Error &error) {
    EXPECT_EQ(std::string(error.what()).rfind(dir + "/absent.json: cannot be read", 0), 0u) << error.what();
  }
  std::string path = dir + "/broken.json";
  std::ofstream(path) << "{\"model\": ";
  try {
    loadHfTokenizer(path);
    ADD_FAILURE() << "truncated JSON must fail";
  } catch (const Error &error) {
    EXPECT_EQ(std::string(error.what()).rfind(path + ": not valid JSON", 0), 0u) << error.what();
  }
}

/// Driven by tests/reference/test_tokenizer_peer.py: encodes every {"text": ...} line of
/// ALIGN_TOKENIZER_INPUT with ALIGN_TOKENIZER_JSON and writes ids and decodings to ALIGN_TOKENIZER_OUTPUT.
TEST(TokenizerPeer, EncodesJsonlForTheReferenceComparison) {
  const char *tokenizerJson = std::getenv("ALIGN_TOKENIZER_JSON");
  const char *input = std::getenv("ALIGN_TOKENIZER_INPUT");
  const char *output = std::getenv("ALIGN_TOKENIZER_OUTPUT");
  if (!tokenizerJson || !input || !output)
    GTEST_SKIP() << "set ALIGN_TOKENIZER_JSON, ALIGN_TOKENIZER_INPUT and ALIGN_TOKENIZER_OUTPUT to run";
  auto tok = loadHfTokenizer(tokenizerJson);
  std::ifstream in(input);
  ASSERT_TRUE(in) << input;
  std::ofstream out(output);
  std::string line;
  size_t lines = 0;
  while (std::getline(in, line)) {
    std::string text = Json::parse(line).at("text").get<std::string>();
    Ids ids = tok->encode(text);
    Json row = {{"ids", ids},
                {"ids_plain", tok->encode(text, false)},
                {"decoded", tok->decode(ids)},
                {"decoded_skip", tok->decode(ids, true)}};
    out << row.dump() << "\n";
    ++lines;
  }
  ASSERT_TRUE(out.good()) << output;
  std::cout << "encoded " << lines << " lines with " << tokenizerJson << "\n";
}

} // namespace
