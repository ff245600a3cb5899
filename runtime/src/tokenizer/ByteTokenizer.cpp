//===- ByteTokenizer.cpp - Byte-level text and the built-in byte tokenizer ===//
//
// Text as bytes, in two forms. The built-in tokenizer is the tokenizer a recipe gets without naming one: every byte is
// its own token (ids 0..255), followed by three special tokens BOS = 256, EOS = 257, PAD = 258. It needs no file,
// accepts any byte string (including invalid UTF-8, which a byte model can still learn from) and decodes back exactly,
// which makes it the tokenizer of the tiny models in tests and CI.
//
// Special tokens are spelled "<bos>", "<eos>", "<pad>" in text; with parseSpecial those spellings become
// the special ids, otherwise they are five or six ordinary bytes. decode() writes the same spellings, so
// encode(decode(ids)) == ids for every id sequence.
//
// The bytelevel helpers are the byte ↔ text pieces of Hugging Face's byte-level BPE (BpeTokenizer.cpp):
// strict UTF-8 sequences, lossy decoding exactly as the `tokenizers` library does it, and GPT-2's alphabet
// of 256 printable characters that stand for the bytes.
//
//===----------------------------------------------------------------------===//

#include "tokenizer/Tokenizer.h"

#include "align/registry/Registry.h"

#include <array>
#include <cstdlib>
#include <cstring>

namespace align::rt {
namespace bytelevel {

int utf8SequenceAt(const std::string &text, size_t pos) {
  auto byte = [&](size_t k) { return static_cast<unsigned char>(text[k]); };
  unsigned char lead = byte(pos);
  if (lead < 0x80)
    return 1;
  int continuations = lead >= 0xC2 && lead <= 0xDF   ? 1
                      : lead >= 0xE0 && lead <= 0xEF ? 2
                      : lead >= 0xF0 && lead <= 0xF4 ? 3
                                                     : 0;
  if (continuations == 0)
    return -1;
  // The second byte's range excludes overlong forms, surrogates and code points above U+10FFFF.
  unsigned char low = lead == 0xE0 ? 0xA0 : lead == 0xF0 ? 0x90 : 0x80;
  unsigned char high = lead == 0xED ? 0x9F : lead == 0xF4 ? 0x8F : 0xBF;
  for (int k = 1; k <= continuations; ++k) {
    if (pos + k >= text.size())
      return -k;
    unsigned char next = byte(pos + k);
    if (next < (k == 1 ? low : 0x80) || next > (k == 1 ? high : 0xBF))
      return -k;
  }
  return continuations + 1;
}

size_t invalidUtf8At(const std::string &text) {
  for (size_t pos = 0; pos < text.size(); pos += std::abs(utf8SequenceAt(text, pos)))
    if (utf8SequenceAt(text, pos) < 0)
      return pos;
  return std::string::npos;
}

std::string utf8Lossy(const std::string &bytes) {
  std::string text;
  text.reserve(bytes.size());
  for (size_t pos = 0; pos < bytes.size();) {
    int length = utf8SequenceAt(bytes, pos);
    if (length > 0)
      text.append(bytes, pos, length);
    else
      text += "\xEF\xBF\xBD";
    pos += std::abs(length);
  }
  return text;
}

namespace {

struct Gpt2Alphabet {
  std::array<std::string, 256> charOfByte;
  std::array<int, 0x144> byteOfCodePoint; // -1 where a code point stands for no byte.

  Gpt2Alphabet() {
    byteOfCodePoint.fill(-1);
    unsigned nextUnprintable = 256;
    for (unsigned byte = 0; byte < 256; ++byte) {
      bool printable = (byte >= '!' && byte <= '~') || (byte >= 0xA1 && byte <= 0xAC) || byte >= 0xAE;
      unsigned codePoint = printable ? byte : nextUnprintable++;
      if (codePoint < 0x80) {
        charOfByte[byte] = std::string(1, static_cast<char>(codePoint));
      } else { // Every code point of the alphabet is below U+0800: two UTF-8 bytes.
        charOfByte[byte] += static_cast<char>(0xC0 | (codePoint >> 6));
        charOfByte[byte] += static_cast<char>(0x80 | (codePoint & 0x3F));
      }
      byteOfCodePoint[codePoint] = static_cast<int>(byte);
    }
  }
};

const Gpt2Alphabet &gpt2Alphabet() {
  static const Gpt2Alphabet alphabet;
  return alphabet;
}

} // namespace

std::string printableChars(const std::string &bytes) {
  std::string chars;
  chars.reserve(bytes.size() * 2);
  for (unsigned char byte : bytes)
    chars += gpt2Alphabet().charOfByte[byte];
  return chars;
}

void appendTokenBytes(const std::string &token, std::string &out) {
  const Gpt2Alphabet &alphabet = gpt2Alphabet();
  std::string bytes;
  for (size_t pos = 0; pos < token.size();) {
    int length = std::abs(utf8SequenceAt(token, pos));
    unsigned codePoint = static_cast<unsigned char>(token[pos]);
    if (length == 2)
      codePoint = ((codePoint & 0x1F) << 6) | (static_cast<unsigned char>(token[pos + 1]) & 0x3F);
    if (length > 2 || codePoint >= alphabet.byteOfCodePoint.size() || alphabet.byteOfCodePoint[codePoint] < 0) {
      out += token;
      return;
    }
    bytes += static_cast<char>(alphabet.byteOfCodePoint[codePoint]);
    pos += length;
  }
  out += bytes;
}

} // namespace bytelevel

namespace {

constexpr int64_t kByteCount = 256;
constexpr int64_t kBosId = 256;
constexpr int64_t kEosId = 257;
constexpr int64_t kPadId = 258;
constexpr int64_t kVocabSize = registry::kByteTokenizerVocab; // the compiler's cost model counts it too
static_assert(kVocabSize == kPadId + 1);

struct SpecialSpelling {
  const char *text;
  int64_t id;
};

// All three spellings start with '<', so encode() only looks for them where the text has one.
constexpr std::array<SpecialSpelling, 3> kSpecialSpellings = {{
    {"<bos>", kBosId},
    {"<eos>", kEosId},
    {"<pad>", kPadId},
}};

const char *spellingOf(int64_t id) {
  for (const SpecialSpelling &special : kSpecialSpellings)
    if (special.id == id)
      return special.text;
  return nullptr;
}

/// The special token spelled at `text[pos]`, if any.
const SpecialSpelling *specialAt(const std::string &text, size_t pos) {
  if (text[pos] != '<')
    return nullptr;
  for (const SpecialSpelling &special : kSpecialSpellings) {
    size_t length = std::strlen(special.text);
    if (text.compare(pos, length, special.text) == 0)
      return &special;
  }
  return nullptr;
}

class ByteTokenizer final : public Tokenizer {
public:
  std::vector<int64_t> encode(const std::string &text, bool parseSpecial) const override {
    std::vector<int64_t> ids;
    ids.reserve(text.size());
    for (size_t pos = 0; pos < text.size();) {
      if (parseSpecial) {
        if (const SpecialSpelling *special = specialAt(text, pos)) {
          ids.push_back(special->id);
          pos += std::strlen(special->text);
          continue;
        }
      }
      ids.push_back(static_cast<unsigned char>(text[pos]));
      ++pos;
    }
    return ids;
  }

  std::string decode(const std::vector<int64_t> &ids, bool skipSpecial) const override {
    std::string text;
    text.reserve(ids.size());
    for (int64_t id : ids) {
      if (id >= 0 && id < kByteCount) {
        text.push_back(static_cast<char>(static_cast<unsigned char>(id)));
      } else if (const char *spelling = spellingOf(id)) {
        if (!skipSpecial)
          text += spelling;
      }
      // Anything else names no token and is left out (see Tokenizer::decode).
    }
    return text;
  }

  int64_t vocabSize() const override { return kVocabSize; }
  std::optional<int64_t> bosId() const override { return kBosId; }
  std::optional<int64_t> eosId() const override { return kEosId; }
  std::optional<int64_t> padId() const override { return kPadId; }

  std::optional<int64_t> tokenId(const std::string &token) const override {
    for (const SpecialSpelling &special : kSpecialSpellings)
      if (token == special.text)
        return special.id;
    if (token.size() == 1)
      return static_cast<unsigned char>(token[0]);
    return std::nullopt;
  }
};

} // namespace

std::unique_ptr<Tokenizer> makeByteTokenizer() { return std::make_unique<ByteTokenizer>(); }

} // namespace align::rt
