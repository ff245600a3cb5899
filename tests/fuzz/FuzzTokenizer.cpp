//===- FuzzTokenizer.cpp - libFuzzer target: a Hugging Face tokenizer.json ===//
//
// The bytes are a tokenizer.json, optionally followed by a NUL and the tokenizer_config.json beside it
// (runtime/src/tokenizer/BpeTokenizer.cpp). A tokenizer that loads must then encode and decode: a fixed text
// with special-token spellings and non-ASCII characters, and the input's last bytes, so that its Split
// regexes, added tokens and merges run. Every id must be below vocabSize(). Inputs are bounded (64 KB, texts
// of 64 bytes) so that one input cannot take seconds.
//
//===----------------------------------------------------------------------===//

#include "FuzzHarness.h"

#include "tokenizer/Tokenizer.h"

using namespace align::rt;

namespace {

void checkIds(const Tokenizer &tok, const std::vector<int64_t> &ids) {
  for (int64_t id : ids)
    if (id < 0 || id >= tok.vocabSize())
      std::abort();
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size > 64 * 1024)
    return 0;
  const std::string path = "fuzz/tokenizer.json";
  const std::string input = align::fuzz::bytes(data, size);
  const auto parts = align::fuzz::splitAtNul(input);
  const std::string &tokenizerJson = parts.first, &configJson = parts.second;
  std::unique_ptr<Tokenizer> tok;
  std::optional<std::string> config;
  if (input.find('\0') != std::string::npos)
    config = configJson;
  // Errors in the config name fuzz/tokenizer_config.json, which contains the place "fuzz/tokenizer".
  if (!align::fuzz::parsedOrRefused("fuzz/tokenizer", [&] { tok = parseHfTokenizer(tokenizerJson, path, config); }))
    return 0;
  const std::string tail = tokenizerJson.substr(tokenizerJson.size() - std::min<size_t>(64, tokenizerJson.size()));
  for (const std::string &text : {std::string("Hello  world!\n<|endoftext|> <s>x</s> 12345 caf\xC3\xA9 \xE2\x80\x94 "
                                              "\xF0\x9F\x98\x80\t  end"),
                                  tail}) {
    for (bool special : {true, false}) {
      std::vector<int64_t> ids;
      if (!align::fuzz::parsedOrRefused(path, [&] { ids = tok->encode(text, special); }))
        continue; // not valid UTF-8
      checkIds(*tok, ids);
      std::string back = tok->decode(ids, !special);
      (void)back;
    }
  }
  std::vector<int64_t> some;
  for (size_t i = 0; i < std::min<size_t>(size, 32); ++i)
    some.push_back(static_cast<int64_t>(data[i]) * 7 - 20);
  (void)tok->decode(some, true);
  for (auto id : {tok->bosId(), tok->eosId(), tok->padId()})
    if (id && (*id < 0 || *id >= tok->vocabSize()))
      std::abort();
  return 0;
}
