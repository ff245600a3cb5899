//===- BpeTokenizer.cpp - Hugging Face byte-level BPE tokenizer.json ------===//
//
// A tokenizer.json written by the `tokenizers` library with a BPE model and byte-level pre-tokenisation
// (GPT-2, Llama-3, Qwen2 shapes), encoding exactly as that library does: (1) added tokens are cut out of the
// text (leftmost-longest, with their single_word/lstrip/rstrip rules; normalized=false tokens over the whole
// text, then normalized=true ones over the gaps); (2) each gap goes through the pre-tokenizer steps (Split
// regexes; ByteLevel: prefix space, GPT-2 regex, bytes → printable characters); (3) each piece is merged by
// BPE rank (lowest first, leftmost on ties) into vocabulary ids.
//
// The regexes run on PCRE2 (UTF + UCP, JIT when available); the library runs them on Oniguruma, whose
// `\s` is Unicode White_Space, so `\s`/`\S` are rewritten to that property (PCRE2's `\s` also takes
// U+180E). Whatever this file does not implement (another model, normalizer or pre-tokenizer, BPE dropout,
// byte fallback, a vocabulary without all 256 bytes) is an Error at load time, never another tokenization.
//
//===----------------------------------------------------------------------===//

#include "tokenizer/Tokenizer.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <mutex>
#include <queue>
#include <tuple>
#include <unordered_map>
#include <unordered_set>

namespace align::rt {
namespace {

using Json = nlohmann::json;
using bytelevel::utf8SequenceAt;

//===--- Regexes on PCRE2 -------------------------------------------------===//

std::string pcre2Message(int code) {
  PCRE2_UCHAR buffer[256];
  pcre2_get_error_message(code, buffer, sizeof buffer);
  return reinterpret_cast<const char *>(buffer);
}

/// Oniguruma's `\s` (the library's regex engine) is Unicode White_Space; PCRE2's also matches U+180E.
std::string withOnigurumaWhitespace(const std::string &pattern) {
  std::string out;
  for (size_t i = 0; i < pattern.size(); ++i) {
    char escaped = pattern[i] == '\\' && i + 1 < pattern.size() ? pattern[++i] : 0;
    out += !escaped         ? std::string(1, pattern[i])
           : escaped == 's' ? "\\p{White_Space}"
           : escaped == 'S' ? "\\P{White_Space}"
                            : std::string{'\\', escaped};
  }
  return out;
}

class Regex {
public:
  /// `where` names the pattern's place (file and field) for error messages.
  Regex(const std::string &pattern, std::string where) : where_(std::move(where)) {
    int errorCode = 0;
    PCRE2_SIZE errorOffset = 0;
    std::string source = withOnigurumaWhitespace(pattern);
    pcre2_code *code = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(source.data()), source.size(),
                                     PCRE2_UTF | PCRE2_UCP | PCRE2_NO_UTF_CHECK, &errorCode, &errorOffset, nullptr);
    if (!code)
      throw Error(where_ + ": invalid regex at offset " + std::to_string(errorOffset) + ": " + pcre2Message(errorCode));
    code_.reset(code, pcre2_code_free);
    pcre2_jit_compile(code, PCRE2_JIT_COMPLETE); // Without JIT support the interpreter runs instead.
  }

  /// The first match at or after `from`, or only at `from` when anchored (the subject is valid UTF-8).
  std::optional<std::pair<size_t, size_t>> find(const std::string &subject, size_t from, bool anchored) const {
    // Match data is per thread (PCRE2 must not share it). JIT's default stack suffices for the GPT-2 and
    // Llama-3 splits over runs of millions of characters; a pattern needing more fails with an Error.
    thread_local std::unique_ptr<pcre2_match_data, void (*)(pcre2_match_data *)> data(
        pcre2_match_data_create(32, nullptr), pcre2_match_data_free);
    int rc = pcre2_match(code_.get(), reinterpret_cast<PCRE2_SPTR>(subject.data()), subject.size(), from,
                         PCRE2_NO_UTF_CHECK | (anchored ? PCRE2_ANCHORED : 0), data.get(), nullptr);
    if (rc == PCRE2_ERROR_NOMATCH)
      return std::nullopt;
    if (rc < 0)
      throw Error(where_ + ": regex match failed: " + pcre2Message(rc));
    PCRE2_SIZE *ovector = pcre2_get_ovector_pointer(data.get());
    return std::make_pair(size_t(ovector[0]), size_t(ovector[1]));
  }

  /// Appends the matches and the gaps between them (the library's "Isolated" split), iterating as the
  /// onig crate does: an empty match where the previous match ended is skipped by stepping one character.
  /// Empty pieces are dropped, as the library drops them.
  void splitIsolated(const std::string &piece, std::vector<std::string> &out) const {
    size_t searchFrom = 0, previousEnd = 0;
    std::optional<size_t> lastMatchEnd;
    auto emit = [&](size_t begin, size_t end) {
      if (end > begin)
        out.push_back(piece.substr(begin, end - begin));
    };
    while (searchFrom <= piece.size()) {
      auto match = find(piece, searchFrom, false);
      if (!match)
        break;
      if (match->first == match->second && lastMatchEnd == match->second) {
        searchFrom += searchFrom < piece.size() ? std::abs(utf8SequenceAt(piece, searchFrom)) : 1;
        continue;
      }
      emit(previousEnd, match->first);
      emit(match->first, match->second);
      previousEnd = searchFrom = match->second;
      lastMatchEnd = match->second;
    }
    emit(previousEnd, piece.size());
  }

private:
  std::string where_;
  std::shared_ptr<pcre2_code> code_;
};

// The ByteLevel pre-tokenizer's built-in split (use_regex: true), as in the library's byte_level.rs.
constexpr const char *kGpt2SplitPattern =
    R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)";

//===--- Added tokens, pre-tokenizer steps, BPE merges, the tokenizer ----===//

struct AddedToken {
  std::string content;
  int64_t id = 0;
  bool special = false, singleWord = false, lstrip = false, rstrip = false, normalized = true;
};

/// A piece of the text: ordinary text to pre-tokenize, or an added token already decided.
struct Segment {
  std::string text;
  const AddedToken *token = nullptr;
};

/// Leftmost-longest matching of added-token contents (the library's aho-corasick LeftmostLongest) with
/// the library's rules for single_word, lstrip, rstrip and encode_special_tokens (AddedVocabulary::find_matches).
class AddedTokenMatcher {
public:
  void add(const AddedToken *token) {
    auto &bucket = byFirstByte_[static_cast<unsigned char>(token->content[0])];
    bucket.push_back(token);
    std::stable_sort(bucket.begin(), bucket.end(),
                     [](const AddedToken *a, const AddedToken *b) { return a->content.size() > b->content.size(); });
  }

  void split(const std::string &text, bool parseSpecial, std::vector<Segment> &out) const {
    size_t startOffset = 0;
    for (size_t pos = 0; pos < text.size();) {
      const AddedToken *token = longestAt(text, pos);
      size_t start = pos, stop = pos + (token ? token->content.size() : 0);
      pos = token ? stop : pos + 1; // The scan resumes after the match itself, whatever rstrip takes below.
      if (!token || (token->special && !parseSpecial))
        continue;
      // Rust's regex crate decides these: `\w` before/after the match, `\s` runs for lstrip and rstrip.
      if (token->singleWord && ((start > 0 && wordChar().find(text, charBefore(text, start), true)) ||
                                (stop < text.size() && wordChar().find(text, stop, true))))
        continue;
      while (token->lstrip && start > startOffset && whiteSpace().find(text, charBefore(text, start), true))
        start = charBefore(text, start); // Not past startOffset: spaces an earlier token took stay with it.
      if (token->rstrip)
        while (stop < text.size() && whiteSpace().find(text, stop, true))
          stop += utf8SequenceAt(text, stop);
      if (startOffset < start)
        out.push_back({text.substr(startOffset, start - startOffset), nullptr});
      out.push_back({text.substr(start, stop - start), token});
      startOffset = stop;
    }
    if (startOffset < text.size())
      out.push_back({text.substr(startOffset), nullptr});
  }

private:
  const AddedToken *longestAt(const std::string &text, size_t pos) const {
    for (const AddedToken *token : byFirstByte_[static_cast<unsigned char>(text[pos])])
      if (text.compare(pos, token->content.size(), token->content) == 0)
        return token;
    return nullptr;
  }
  static size_t charBefore(const std::string &text, size_t pos) { // Steps back over continuation bytes.
    while (--pos > 0 && (static_cast<unsigned char>(text[pos]) & 0xC0) == 0x80)
      ;
    return pos;
  }
  static const Regex &wordChar() { // Rust's Unicode `\w`.
    static const Regex regex(R"([\p{Alphabetic}\p{M}\p{Nd}\p{Pc}\p{Join_Control}])", "added_tokens");
    return regex;
  }
  static const Regex &whiteSpace() {
    static const Regex regex(R"(\p{White_Space})", "added_tokens");
    return regex;
  }

  std::array<std::vector<const AddedToken *>, 256> byFirstByte_;
};

struct PreTokenizerStep {
  bool isByteLevel;
  std::shared_ptr<Regex> regex; // The Split pattern, or ByteLevel's GPT-2 split when use_regex is set.
  bool addPrefixSpace = false;
};

/// Runs the steps over one gap between added tokens, as the library's PreTokenizedString::split does.
std::vector<std::string> preTokenize(const std::vector<PreTokenizerStep> &steps, const std::string &gap) {
  std::vector<std::string> pieces{gap}, next, split;
  for (const PreTokenizerStep &step : steps) {
    next.clear();
    for (std::string &piece : pieces) {
      if (!step.isByteLevel) {
        step.regex->splitIsolated(piece, next);
        continue;
      }
      if (step.addPrefixSpace && !piece.empty() && piece[0] != ' ')
        piece.insert(0, " ");
      split.clear();
      if (step.regex)
        step.regex->splitIsolated(piece, split);
      else if (!piece.empty())
        split.push_back(piece);
      for (const std::string &part : split)
        next.push_back(bytelevel::printableChars(part));
    }
    pieces.swap(next);
  }
  return pieces;
}

class BpeModel {
public:
  std::unordered_map<std::string, int64_t> vocab;
  std::unordered_map<int64_t, std::string> tokenOfId;
  /// pairKey(left, right) → (rank, merged id); a later duplicate merge replaces an earlier one.
  std::unordered_map<uint64_t, std::pair<int64_t, int64_t>> merges;
  bool ignoreMerges = false;

  static uint64_t pairKey(int64_t left, int64_t right) { return uint64_t(left) << 32 | uint64_t(right); }

  void tokenize(const std::string &word, std::vector<int64_t> &ids) const {
    auto whole = ignoreMerges ? vocab.find(word) : vocab.end(); // Llama-3: pieces in the vocabulary stay whole.
    if (whole != vocab.end()) {
      ids.push_back(whole->second);
      return;
    }
    std::vector<int64_t> merged;
    {
      std::lock_guard<std::mutex> lock(cacheMutex_);
      if (auto cached = cache_.find(word); cached != cache_.end())
        merged = cached->second;
    }
    if (merged.empty()) { // Pieces are never empty, so neither are their merges.
      merged = mergeWord(word);
      std::lock_guard<std::mutex> lock(cacheMutex_);
      if (cache_.size() < 10000) // Bounded like the library's cache: once full, nothing more is kept.
        cache_.emplace(word, merged);
    }
    ids.insert(ids.end(), merged.begin(), merged.end());
  }

private:
  /// The library's BPE::merge_word and Word::merge_all: the adjacent pair of lowest rank merges first,
  /// leftmost on ties. Every character is in the vocabulary: the loader checked all 256 bytes.
  std::vector<int64_t> mergeWord(const std::string &word) const {
    std::vector<int64_t> ids; // Symbol i is ids[i], linked to its neighbours; merged-away symbols get -1.
    for (size_t pos = 0, length = 0; pos < word.size(); pos += length) {
      length = std::abs(utf8SequenceAt(word, pos));
      ids.push_back(vocab.at(word.substr(pos, length)));
    }
    int count = static_cast<int>(ids.size());
    std::vector<int> prev(count), next(count);
    for (int i = 0; i < count; ++i)
      prev[i] = i - 1, next[i] = i + 1 < count ? i + 1 : -1;
    using Candidate = std::tuple<int64_t, int, int64_t>; // (rank, left symbol, merged id), lowest first.
    std::priority_queue<Candidate, std::vector<Candidate>, std::greater<>> queue;
    auto consider = [&](int left) {
      auto merge = left >= 0 && next[left] >= 0 ? merges.find(pairKey(ids[left], ids[next[left]])) : merges.end();
      if (merge != merges.end())
        queue.emplace(merge->second.first, left, merge->second.second);
    };
    for (int i = 0; i < count; ++i)
      consider(i);
    while (!queue.empty()) {
      auto [rank, left, mergedId] = queue.top();
      queue.pop();
      if (ids[left] < 0 || next[left] < 0)
        continue;
      int right = next[left];
      auto current = merges.find(pairKey(ids[left], ids[right])); // Stale when the pair changed since.
      if (current == merges.end() || current->second.second != mergedId)
        continue;
      ids[left] = mergedId;
      ids[right] = -1;
      next[left] = next[right];
      if (next[right] >= 0)
        prev[next[right]] = left;
      consider(prev[left]);
      consider(left);
    }
    ids.erase(std::remove(ids.begin(), ids.end(), -1), ids.end());
    return ids;
  }

  mutable std::mutex cacheMutex_;
  mutable std::unordered_map<std::string, std::vector<int64_t>> cache_;
};

class BpeTokenizer final : public Tokenizer {
public:
  std::string path;
  BpeModel model;
  std::vector<std::unique_ptr<AddedToken>> addedTokens;
  std::unordered_map<std::string, const AddedToken *> addedByContent;
  std::unordered_map<int64_t, const AddedToken *> addedById;
  std::unordered_set<std::string> specialContents;
  AddedTokenMatcher nonNormalizedMatcher, normalizedMatcher;
  std::vector<PreTokenizerStep> preTokenizerSteps;
  int64_t vocabSize_ = 0;
  std::optional<int64_t> bosId_, eosId_, padId_;

  std::vector<int64_t> encode(const std::string &text, bool parseSpecial) const override {
    if (size_t bad = bytelevel::invalidUtf8At(text); bad != std::string::npos)
      throw Error(path + ": cannot encode text that is not valid UTF-8 (byte " + std::to_string(bad) + ")");
    // Without a normalizer the normalized=true tokens match the same text, but only in the gaps that the
    // normalized=false tokens leave (the library's two passes).
    std::vector<Segment> firstPass, segments;
    nonNormalizedMatcher.split(text, parseSpecial, firstPass);
    for (Segment &segment : firstPass) {
      if (segment.token)
        segments.push_back(std::move(segment));
      else
        normalizedMatcher.split(segment.text, parseSpecial, segments);
    }
    std::vector<int64_t> ids;
    for (const Segment &segment : segments) {
      if (segment.token)
        ids.push_back(segment.token->id);
      else
        for (const std::string &piece : preTokenize(preTokenizerSteps, segment.text))
          model.tokenize(piece, ids);
    }
    return ids;
  }

  std::string decode(const std::vector<int64_t> &ids, bool skipSpecial) const override {
    std::string bytes;
    for (int64_t id : ids) {
      const std::string *token = nullptr;
      if (auto added = addedById.find(id); added != addedById.end())
        token = &added->second->content;
      else if (auto known = model.tokenOfId.find(id); known != model.tokenOfId.end())
        token = &known->second;
      if (token && !(skipSpecial && specialContents.count(*token)))
        bytelevel::appendTokenBytes(*token, bytes);
    }
    return bytelevel::utf8Lossy(bytes); // The library's decode is lossy the same way.
  }

  int64_t vocabSize() const override { return vocabSize_; }
  std::optional<int64_t> bosId() const override { return bosId_; }
  std::optional<int64_t> eosId() const override { return eosId_; }
  std::optional<int64_t> padId() const override { return padId_; }

  std::optional<int64_t> tokenId(const std::string &token) const override {
    if (auto added = addedByContent.find(token); added != addedByContent.end())
      return added->second->id;
    if (auto known = model.vocab.find(token); known != model.vocab.end())
      return known->second;
    return std::nullopt;
  }
};

//===--- Loading tokenizer.json -------------------------------------------===//

/// Field access that names the file and the field in every Error.
struct JsonFile {
  std::string path;

  [[noreturn]] void fail(const std::string &field, const std::string &problem) const {
    throw Error(path + ": " + field + ": " + problem);
  }
  const Json &member(const Json &object, const std::string &key, const std::string &field) const {
    if (!object.is_object() || !object.contains(key))
      fail(field, "missing");
    return object[key];
  }
  std::string string(const Json &value, const std::string &field) const {
    if (!value.is_string())
      fail(field, "expected a string");
    return value.get<std::string>();
  }
  std::string string(const Json &object, const std::string &key, const std::string &field) const {
    return string(member(object, key, field + "." + key), field + "." + key);
  }
  bool flag(const Json &object, const std::string &key, const std::string &field, bool fallback) const {
    if (!object.contains(key) || object[key].is_null())
      return fallback;
    if (!object[key].is_boolean())
      fail(field + "." + key, "expected true or false");
    return object[key].get<bool>();
  }
  int64_t id(const Json &value, const std::string &field) const {
    if (!value.is_number_integer() || value.get<int64_t>() < 0 || value.get<int64_t>() >= (int64_t(1) << 31))
      fail(field, "expected an id (an integer from 0 to 2^31 - 1)");
    return value.get<int64_t>();
  }
};

std::string readText(const std::string &path) {
  std::ifstream in(path, std::ios::binary);
  if (!in)
    throw Error(path + ": cannot be read (" + std::strerror(errno) + ")");
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

Json parseJson(const std::string &text, const std::string &path) {
  try {
    return Json::parse(text);
  } catch (const Json::exception &error) {
    throw Error(path + ": not valid JSON: " + error.what());
  }
}

void loadModel(const JsonFile &file, const Json &json, BpeTokenizer &tok) {
  BpeModel &model = tok.model;
  if (!json.is_object())
    file.fail("model", "expected an object");
  if (json.contains("type") && file.string(json, "type", "model") != "BPE")
    file.fail("model.type", "\"" + json["type"].get<std::string>() + "\" is not supported (only BPE)");
  const Json &vocab = file.member(json, "vocab", "model.vocab");
  if (!vocab.is_object())
    file.fail("model.vocab", "expected an object of token: id");
  for (const auto &[token, value] : vocab.items()) {
    int64_t id = file.id(value, "model.vocab[\"" + token + "\"]");
    if (!model.tokenOfId.emplace(id, token).second)
      file.fail("model.vocab[\"" + token + "\"]",
                "id " + std::to_string(id) + " is also \"" + model.tokenOfId[id] + "\"");
    model.vocab.emplace(token, id);
    tok.vocabSize_ = std::max(tok.vocabSize_, id + 1);
  }
  for (int byte = 0; byte < 256; ++byte) // The library would silently drop a byte missing from the vocabulary.
    if (std::string chars = bytelevel::printableChars(std::string(1, char(byte))); !model.vocab.count(chars))
      file.fail("model.vocab", "has no token for byte " + std::to_string(byte) + " (\"" + chars + "\")");
  const Json &merges = file.member(json, "merges", "model.merges");
  if (!merges.is_array())
    file.fail("model.merges", "expected a list");
  int64_t rank = 0;
  for (size_t i = 0; i < merges.size(); ++i) {
    std::string field = "model.merges[" + std::to_string(i) + "]", left, right;
    if (merges[i].is_string()) {
      std::string line = merges[i].get<std::string>();
      size_t space = line.find(' ');
      if (space == std::string::npos || line.find(' ', space + 1) != std::string::npos)
        file.fail(field, "expected two tokens separated by one space, got \"" + line + "\"");
      left = line.substr(0, space), right = line.substr(space + 1);
    } else if (merges[i].is_array() && merges[i].size() == 2 && merges[i][0].is_string() && merges[i][1].is_string()) {
      left = merges[i][0].get<std::string>(), right = merges[i][1].get<std::string>();
    } else {
      file.fail(field, "expected a string or a pair");
    }
    auto idOf = [&](const std::string &token) {
      auto found = model.vocab.find(token);
      if (found == model.vocab.end())
        file.fail(field, "\"" + token + "\" is not in model.vocab");
      return found->second;
    };
    int64_t leftId = idOf(left), rightId = idOf(right), mergedId = idOf(left + right);
    model.merges[BpeModel::pairKey(leftId, rightId)] = {rank++, mergedId};
  }
  model.ignoreMerges = file.flag(json, "ignore_merges", "model", false);
  if (file.flag(json, "byte_fallback", "model", false))
    file.fail("model.byte_fallback", "true is not supported (byte-level BPE needs no fallback)");
  if (json.contains("dropout") && !json["dropout"].is_null() && json["dropout"] != 0)
    file.fail("model.dropout", "BPE dropout is not supported (it makes encoding random)");
  for (const char *key : {"continuing_subword_prefix", "end_of_word_suffix"})
    if (json.contains(key) && !json[key].is_null() && json[key] != "")
      file.fail(std::string("model.") + key, "is not supported with byte-level BPE");
  // unk_token and fuse_unk never apply: every character of a piece is one of the 256 checked above.
}

void loadAddedTokens(const JsonFile &file, const Json &list, BpeTokenizer &tok) {
  if (!list.is_array())
    file.fail("added_tokens", "expected a list");
  int64_t modelSize = static_cast<int64_t>(tok.model.vocab.size());
  std::optional<int64_t> maxAddedId;
  for (size_t i = 0; i < list.size(); ++i) {
    std::string field = "added_tokens[" + std::to_string(i) + "]";
    auto token = std::make_unique<AddedToken>();
    token->content = file.string(list[i], "content", field);
    token->id = file.id(file.member(list[i], "id", field + ".id"), field + ".id");
    token->special = file.flag(list[i], "special", field, false);
    token->singleWord = file.flag(list[i], "single_word", field, false);
    token->lstrip = file.flag(list[i], "lstrip", field, false);
    token->rstrip = file.flag(list[i], "rstrip", field, false);
    token->normalized = file.flag(list[i], "normalized", field, true);
    if (token->content.empty() || tok.addedByContent.count(token->content))
      file.fail(field + ".content", token->content.empty() ? "empty" : "\"" + token->content + "\" is added twice");
    // The library ignores the stored ids and numbers added tokens itself (AddedVocabulary::add_tokens); a
    // file whose ids disagree would encode differently there, so it is refused here.
    auto known = tok.model.vocab.find(token->content);
    int64_t libraryId = known != tok.model.vocab.end() ? known->second
                        : !maxAddedId                  ? modelSize
                        : *maxAddedId >= modelSize     ? *maxAddedId + 1
                                                       : modelSize;
    if (libraryId != token->id)
      file.fail(field + ".id", std::to_string(token->id) + ", but the tokenizers library would give \"" +
                                   token->content + "\" id " + std::to_string(libraryId));
    maxAddedId = std::max(maxAddedId.value_or(libraryId), libraryId);
    if (token->special)
      tok.specialContents.insert(token->content);
    (token->normalized ? tok.normalizedMatcher : tok.nonNormalizedMatcher).add(token.get());
    tok.addedByContent[token->content] = token.get();
    tok.addedById[token->id] = token.get();
    tok.vocabSize_ = std::max(tok.vocabSize_, token->id + 1);
    tok.addedTokens.push_back(std::move(token));
  }
}

void loadPreTokenizer(const JsonFile &file, const Json &json, const std::string &field,
                      std::vector<PreTokenizerStep> &steps) {
  std::string type = file.string(json, "type", field);
  if (type == "Sequence") {
    const Json &list = file.member(json, "pretokenizers", field + ".pretokenizers");
    if (!list.is_array())
      file.fail(field + ".pretokenizers", "expected a list");
    for (size_t i = 0; i < list.size(); ++i)
      loadPreTokenizer(file, list[i], field + ".pretokenizers[" + std::to_string(i) + "]", steps);
  } else if (type == "ByteLevel") { // The library's defaults: add_prefix_space and use_regex true.
    PreTokenizerStep step{true, nullptr, file.flag(json, "add_prefix_space", field, true)};
    if (file.flag(json, "use_regex", field, true))
      step.regex = std::make_shared<Regex>(kGpt2SplitPattern, file.path + ": " + field);
    steps.push_back(std::move(step));
  } else if (type == "Split") {
    std::string source = file.string(file.member(json, "pattern", field + ".pattern"), "Regex", field + ".pattern");
    std::string behavior = file.string(json, "behavior", field);
    if (behavior != "Isolated")
      file.fail(field + ".behavior", "\"" + behavior + "\" is not supported (only Isolated)");
    if (file.flag(json, "invert", field, false))
      file.fail(field + ".invert", "true is not supported");
    steps.push_back({false, std::make_shared<Regex>(source, file.path + ": " + field + ".pattern")});
  } else {
    file.fail(field + ".type", "\"" + type + "\" is not supported (ByteLevel, Split or a Sequence of them)");
  }
}

/// tokenizer_config.json beside a tokenizer.json: the directory's file of that name.
std::string configPathBeside(const std::string &tokenizerPath) {
  size_t slash = tokenizerPath.find_last_of('/');
  return tokenizerPath.substr(0, slash == std::string::npos ? 0 : slash + 1) + "tokenizer_config.json";
}

/// BOS/EOS/PAD: tokenizer_config.json beside the tokenizer (where transformers reads them; `configText`, or
/// none), else the usual spellings among the added special tokens.
void loadSpecialIds(BpeTokenizer &tok, const std::optional<std::string> &configText) {
  JsonFile config{configPathBeside(tok.path)};
  Json json = configText ? parseJson(*configText, config.path) : Json::object();
  if (!json.is_object())
    config.fail("(top level)", "expected an object");
  auto pick = [&](const char *key, std::initializer_list<const char *> spellings) -> std::optional<int64_t> {
    if (!json.contains(key)) {
      auto usual = std::find_if(spellings.begin(), spellings.end(),
                                [&](const char *spelling) { return tok.specialContents.count(spelling); });
      return usual == spellings.end() ? std::nullopt : tok.tokenId(*usual);
    }
    if (json[key].is_null())
      return std::nullopt;
    std::string content =
        config.string(json[key].is_object() ? config.member(json[key], "content", key) : json[key], key);
    if (!tok.tokenId(content))
      config.fail(key, "\"" + content + "\" is not a token of " + tok.path);
    return tok.tokenId(content);
  };
  tok.bosId_ = pick("bos_token", {"<|begin_of_text|>", "<s>", "<bos>", "<|startoftext|>"});
  tok.eosId_ = pick("eos_token", {"<|end_of_text|>", "</s>", "<eos>", "<|endoftext|>", "<|im_end|>"});
  tok.padId_ = pick("pad_token", {"<pad>", "<|pad|>", "[PAD]", "<|finetune_right_pad_id|>"});
}

} // namespace

std::unique_ptr<Tokenizer> loadHfTokenizer(const std::string &tokenizerJsonPath) {
  std::string text = readText(tokenizerJsonPath);
  std::string configPath = configPathBeside(tokenizerJsonPath);
  std::optional<std::string> configText;
  if (std::ifstream(configPath))
    configText = readText(configPath);
  return parseHfTokenizer(text, tokenizerJsonPath, configText);
}

std::unique_ptr<Tokenizer> parseHfTokenizer(const std::string &tokenizerJson, const std::string &tokenizerJsonPath,
                                            const std::optional<std::string> &configJson) {
  auto tok = std::make_unique<BpeTokenizer>();
  tok->path = tokenizerJsonPath;
  JsonFile file{tokenizerJsonPath};
  Json root = parseJson(tokenizerJson, tokenizerJsonPath);
  if (!root.is_object())
    file.fail("(top level)", "expected an object");
  if (root.contains("normalizer") && !root["normalizer"].is_null())
    file.fail("normalizer", "type \"" + file.string(root["normalizer"], "type", "normalizer") +
                                "\" is not supported (only null: byte-level BPE tokenizers use none)");
  loadModel(file, file.member(root, "model", "model"), *tok);
  if (root.contains("added_tokens") && !root["added_tokens"].is_null())
    loadAddedTokens(file, root["added_tokens"], *tok);
  if (!root.contains("pre_tokenizer") || root["pre_tokenizer"].is_null())
    file.fail("pre_tokenizer", "missing (a byte-level BPE tokenizer needs the ByteLevel pre-tokenizer)");
  loadPreTokenizer(file, root["pre_tokenizer"], "pre_tokenizer", tok->preTokenizerSteps);
  if (std::none_of(tok->preTokenizerSteps.begin(), tok->preTokenizerSteps.end(),
                   [](const PreTokenizerStep &step) { return step.isByteLevel; }))
    file.fail("pre_tokenizer", "has no ByteLevel step (only byte-level BPE is supported)");
  if (!root.contains("decoder") || root["decoder"].is_null() ||
      file.string(root["decoder"], "type", "decoder") != "ByteLevel")
    file.fail("decoder", "expected the ByteLevel decoder");
  // post_processor (BOS/EOS templates), truncation and padding are the data pipeline's business.
  loadSpecialIds(*tok, configJson);
  return tok;
}

} // namespace align::rt
