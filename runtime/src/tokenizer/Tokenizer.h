//===- Tokenizer.h - Text to token ids and back -----------------*- C++ -*-===//
//
// The runtime's tokenizers behind one interface: the built-in byte-level tokenizer (no files, 259 ids) and
// a Hugging Face tokenizer.json with a byte-level BPE model (GPT-2, Llama-3, Qwen2 shapes). Both are plain
// C++17 without torch, so the data pipeline and its tests compile in seconds.
//
// encode() never adds BOS/EOS: whether a sequence gets them is the data pipeline's decision (chat templates
// already spell them), so the tokenizer only reports which ids they are. Everything a tokenizer rejects is
// an align::rt::Error naming the file and the field.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "align/rt/Error.h"

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace align::rt {

class Tokenizer {
public:
  virtual ~Tokenizer() = default;

  /// Token ids of `text` (UTF-8; invalid UTF-8 is an Error for the BPE tokenizer). Special tokens written
  /// in the text (e.g. "<|endoftext|>") become their ids when `parseSpecial` is true; otherwise they are
  /// tokenized as ordinary text. BOS/EOS are NOT added here.
  virtual std::vector<int64_t> encode(const std::string &text, bool parseSpecial = true) const = 0;

  /// The text of `ids`; special tokens are left out when `skipSpecial` is true. Ids that name no token are
  /// left out, as Hugging Face does: checkpoints often pad the embedding beyond the vocabulary, and a
  /// sampled padding id must not abort an evaluation.
  virtual std::string decode(const std::vector<int64_t> &ids, bool skipSpecial = false) const = 0;

  /// One more than the largest id: the number of embedding rows a model needs for this tokenizer.
  virtual int64_t vocabSize() const = 0;

  virtual std::optional<int64_t> bosId() const = 0;
  virtual std::optional<int64_t> eosId() const = 0;
  virtual std::optional<int64_t> padId() const = 0;

  /// The id of a token spelled exactly as in the vocabulary (e.g. "<|eot_id|>" or "Ġthe"), if any.
  virtual std::optional<int64_t> tokenId(const std::string &token) const = 0;
};

/// Byte-level text, shared by the two tokenizers (defined in ByteTokenizer.cpp).
namespace bytelevel {

/// Length of the well-formed UTF-8 sequence at `text[pos]`, or minus the length of its maximal ill-formed
/// subpart: the unit that Rust's from_utf8_lossy, hence the `tokenizers` library's decode, replaces by one
/// U+FFFD.
int utf8SequenceAt(const std::string &text, size_t pos);

/// The offset of the first byte of `text` that is not well-formed UTF-8, or std::string::npos.
size_t invalidUtf8At(const std::string &text);

/// `bytes` as UTF-8 text, each maximal ill-formed subpart replaced by U+FFFD.
std::string utf8Lossy(const std::string &bytes);

/// GPT-2's bytes_to_unicode applied to every byte: printable Latin-1 bytes stand for themselves and the
/// other 68 take U+0100.. in byte order, so any byte string becomes printable text without spaces. This is
/// the alphabet of every byte-level BPE vocabulary.
std::string printableChars(const std::string &bytes);

/// Appends the bytes that the vocabulary token `token` stands for. A token with a character outside the
/// alphabet (an added token like "<|eot id|>" with a real space) stands for its own UTF-8, as in the
/// library's ByteLevel decoder.
void appendTokenBytes(const std::string &token, std::string &out);

} // namespace bytelevel

/// The built-in byte-level tokenizer: ids 0..255 are the bytes, then BOS = 256, EOS = 257, PAD = 258.
std::unique_ptr<Tokenizer> makeByteTokenizer();

/// A Hugging Face tokenizer.json with a byte-level BPE model. BOS/EOS/PAD come from tokenizer_config.json
/// beside it when present, else from the usual spellings of the added special tokens.
std::unique_ptr<Tokenizer> loadHfTokenizer(const std::string &tokenizerJsonPath);

/// The same on texts already read: the tokenizer.json, and the tokenizer_config.json beside it when there is
/// one. `tokenizerJsonPath` names the file in messages (and the config, as the file beside it).
std::unique_ptr<Tokenizer> parseHfTokenizer(const std::string &tokenizerJson, const std::string &tokenizerJsonPath,
                                            const std::optional<std::string> &configJson = std::nullopt);

} // namespace align::rt
