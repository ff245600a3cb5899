//===- JsonRows.cpp - Rows of a .jsonl or .json data file -----------------===//

#include "data/JsonRows.h"

#include <cerrno>
#include <cstring>

#include <fcntl.h>
#include <unistd.h>

namespace align::rt::data {

namespace {

std::string readWholeFile(const std::string &path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    throw Error(path + ": cannot read: " + std::strerror(errno));
  std::string text;
  char buffer[1 << 16];
  for (;;) {
    ssize_t n = ::read(fd, buffer, sizeof buffer);
    if (n < 0) {
      if (errno == EINTR)
        continue;
      int saved = errno;
      ::close(fd);
      throw Error(path + ": cannot read: " + std::strerror(saved));
    }
    if (n == 0)
      break;
    text.append(buffer, static_cast<size_t>(n));
  }
  ::close(fd);
  return text;
}

bool endsWith(const std::string &s, const std::string &suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

bool isBlank(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

/// nlohmann's message without its "[json.exception.parse_error.101] parse error at line L, column C: " head,
/// whose position is relative to the piece we handed it; the caller states the real line.
std::string parseErrorDetail(const nlohmann::json::exception &e) {
  std::string what = e.what();
  size_t column = what.find(", column ");
  if (column != std::string::npos) {
    size_t colon = what.find(": ", column);
    if (colon != std::string::npos)
      return what.substr(colon + 2);
  }
  size_t bracket = what.find("] ");
  return bracket == std::string::npos ? what : what.substr(bracket + 2);
}

/// Parses `piece`, which starts on `firstLine` of `file`; a syntax error names the line it is on.
nlohmann::json parsePiece(const std::string &piece, const std::string &file, int64_t firstLine) {
  try {
    return nlohmann::json::parse(piece);
  } catch (const nlohmann::json::parse_error &e) {
    size_t upTo = std::min(piece.size(), e.byte > 0 ? e.byte - 1 : 0);
    int64_t line = firstLine;
    for (size_t i = 0; i < upTo; ++i)
      line += piece[i] == '\n';
    throw Error(file + ":" + std::to_string(line) + ": invalid JSON: " + parseErrorDetail(e));
  } catch (const nlohmann::json::out_of_range &e) {
    // A number beyond a double's range (1e999) is nlohmann's out_of_range 406, which carries no position.
    throw Error(file + ":" + std::to_string(firstLine) + ": invalid JSON: " + parseErrorDetail(e));
  }
}

/// Rows and the per-row errors collected so far (when the caller asked for them rather than an exception).
struct RowSink {
  std::vector<Row> rows;
  std::vector<RowError> *errors = nullptr;
  int64_t count = 0; // rows + collected errors, for maxRows

  void fail(int64_t line, const std::string &message) {
    if (!errors)
      throw Error(message);
    errors->push_back({line, message});
    ++count;
  }
  void add(nlohmann::json value, const std::string &file, int64_t line) {
    if (!value.is_object())
      return fail(line, file + ":" + std::to_string(line) + ": expected a JSON object, got " + jsonTypeName(value));
    rows.push_back(Row{std::move(value), file, line});
    ++count;
  }
  bool full(int64_t maxRows) const { return maxRows >= 0 && count >= maxRows; }
};

std::vector<Row> parseLines(const std::string &text, const std::string &file, int64_t maxRows,
                            std::vector<RowError> *rowErrors) {
  RowSink sink;
  sink.errors = rowErrors;
  size_t pos = 0;
  for (int64_t line = 1; pos < text.size() && !sink.full(maxRows); ++line) {
    size_t end = text.find('\n', pos);
    if (end == std::string::npos)
      end = text.size();
    std::string piece = text.substr(pos, end - pos);
    pos = end + 1;
    bool blank = true;
    for (char c : piece)
      blank = blank && isBlank(c);
    if (blank)
      continue;
    nlohmann::json value;
    try {
      value = parsePiece(piece, file, line);
    } catch (const Error &e) {
      sink.fail(line, e.what());
      continue;
    }
    sink.add(std::move(value), file, line);
  }
  return std::move(sink.rows);
}

/// The list form. The scanner only finds where each element ends (a ',' or ']' outside strings at bracket
/// depth 0); nlohmann validates the element itself, so the scanner can be lenient about everything else.
class ListScanner {
public:
  ListScanner(const std::string &text, const std::string &file) : text_(text), file_(file) {}

  std::vector<Row> rows(int64_t maxRows, std::vector<RowError> *rowErrors) {
    RowSink sink;
    sink.errors = rowErrors;
    if (text_.compare(0, 3, "\xEF\xBB\xBF") == 0) // a UTF-8 byte-order mark, as some editors write
      pos_ = 3;
    skipBlanks();
    if (pos_ >= text_.size())
      fail("unexpected end of input; expected '[' (a .json data file is a list of objects)");
    if (text_[pos_] != '[') {
      int64_t line = line_;
      nlohmann::json whole = parsePiece(text_.substr(pos_), file_, line);
      throw Error(file_ + ":" + std::to_string(line) + ": expected a JSON list of objects, got " + jsonTypeName(whole));
    }
    ++pos_;
    skipBlanks();
    if (pos_ < text_.size() && text_[pos_] == ']') {
      ++pos_;
      expectEnd();
      return {};
    }
    for (;;) {
      if (sink.full(maxRows))
        return std::move(sink.rows);
      skipBlanks();
      int64_t startLine = line_;
      size_t start = pos_;
      scanElement();
      sink.add(parsePiece(text_.substr(start, pos_ - start), file_, startLine), file_, startLine);
      if (pos_ >= text_.size())
        fail("unexpected end of input; expected ',' or ']'");
      char c = text_[pos_++];
      if (c == ']') {
        expectEnd();
        return std::move(sink.rows);
      }
      if (c != ',')
        fail(std::string("unexpected '") + c + "'; expected ',' or ']'");
    }
  }

private:
  void skipBlanks() {
    while (pos_ < text_.size() && isBlank(text_[pos_]))
      line_ += text_[pos_++] == '\n';
  }

  /// Advances to the ',' / ']' / stray '}' ending the element at depth 0, or to the end of the text.
  void scanElement() {
    int depth = 0;
    bool inString = false;
    for (; pos_ < text_.size(); ++pos_) {
      char c = text_[pos_];
      if (c == '\n')
        ++line_;
      if (inString) {
        if (c == '\\')
          ++pos_; // the escaped character cannot end the string (an escaped newline is invalid JSON anyway)
        else if (c == '"')
          inString = false;
        continue;
      }
      if (c == '"') {
        inString = true;
      } else if (c == '[' || c == '{') {
        ++depth;
      } else if (c == ']' || c == '}') {
        if (depth == 0)
          return;
        --depth;
      } else if (c == ',' && depth == 0) {
        return;
      }
    }
  }

  void expectEnd() {
    skipBlanks();
    if (pos_ < text_.size())
      fail("unexpected text after the top-level list");
  }

  [[noreturn]] void fail(const std::string &detail) {
    throw Error(file_ + ":" + std::to_string(line_) + ": invalid JSON: " + detail);
  }

  const std::string &text_;
  const std::string &file_;
  size_t pos_ = 0;
  int64_t line_ = 1;
};

bool looksLikeList(const std::string &text) {
  size_t i = text.compare(0, 3, "\xEF\xBB\xBF") == 0 ? 3 : 0;
  while (i < text.size() && isBlank(text[i]))
    ++i;
  return i < text.size() && text[i] == '[';
}

} // namespace

std::string jsonTypeName(const nlohmann::json &value) {
  switch (value.type()) {
  case nlohmann::json::value_t::string:
    return "string";
  case nlohmann::json::value_t::number_integer:
  case nlohmann::json::value_t::number_unsigned:
  case nlohmann::json::value_t::number_float:
    return "number";
  case nlohmann::json::value_t::array:
    return "list";
  case nlohmann::json::value_t::object:
    return "object";
  case nlohmann::json::value_t::boolean:
    return "bool";
  case nlohmann::json::value_t::null:
    return "null";
  default:
    return value.type_name();
  }
}

std::vector<Row> parseJsonRows(const std::string &text, const std::string &file, bool jsonList, int64_t maxRows,
                               std::vector<RowError> *rowErrors) {
  if (jsonList)
    return ListScanner(text, file).rows(maxRows, rowErrors);
  return parseLines(text, file, maxRows, rowErrors);
}

std::vector<Row> readJsonRows(const std::string &path, int64_t maxRows, std::vector<RowError> *rowErrors) {
  std::string text = readWholeFile(path);
  bool jsonList = endsWith(path, ".jsonl") ? false : endsWith(path, ".json") ? true : looksLikeList(text);
  return parseJsonRows(text, path, jsonList, maxRows, rowErrors);
}

} // namespace align::rt::data
