//===- Diagnostics.cpp - Diagnostic engine and renderers ------------------===//

#include "Diagnostics.h"

#include <nlohmann/json.hpp>

#include <algorithm>

namespace align {

SourceFile::SourceFile(std::string path, std::string text) : path_(std::move(path)), text_(std::move(text)) {
  lineStarts_.push_back(0);
  for (size_t i = 0; i < text_.size(); ++i)
    if (text_[i] == '\n')
      lineStarts_.push_back(i + 1);
}

std::string_view SourceFile::line(uint32_t line) const {
  if (line == 0 || line > lineStarts_.size())
    return {};
  size_t begin = lineStarts_[line - 1];
  size_t end = line < lineStarts_.size() ? lineStarts_[line] - 1 : text_.size();
  if (end > begin && text_[end - 1] == '\r')
    --end;
  return std::string_view(text_).substr(begin, end - begin);
}

const char *severityName(Severity severity) {
  switch (severity) {
  case Severity::Error:
    return "error";
  case Severity::Warning:
    return "warning";
  case Severity::Note:
    return "note";
  }
  return "error";
}

Diagnostic &DiagnosticEngine::report(Severity severity, ast::Range range, std::string message) {
  if (severity == Severity::Error)
    ++errorCount_;
  if (diagnostics_.size() >= kErrorLimit) {
    ++dropped_;
    overflow_ = Diagnostic{};
    return overflow_;
  }
  if (message.size() > 1000) // a message quoting a huge name stays readable
    message = message.substr(0, 1000) + "...";
  diagnostics_.push_back(Diagnostic{severity, range, std::move(message), {}, {}});
  return diagnostics_.back();
}

Diagnostic &DiagnosticEngine::error(ast::Range range, std::string message) {
  return report(Severity::Error, range, std::move(message));
}

Diagnostic &DiagnosticEngine::warning(ast::Range range, std::string message) {
  return report(Severity::Warning, range, std::move(message));
}

void DiagnosticEngine::printOne(std::ostream &os, Severity severity, ast::Range range,
                                const std::string &message, bool color) const {
  const char *bold = color ? "\033[1m" : "";
  const char *reset = color ? "\033[0m" : "";
  const char *tint = !color ? "" : severity == Severity::Error ? "\033[1;31m" : severity == Severity::Warning ? "\033[1;35m" : "\033[1;36m";
  os << bold << file_.path();
  if (range.begin.valid())
    os << ':' << range.begin.line << ':' << range.begin.col;
  os << ": " << reset << tint
     << severityName(severity) << ": " << reset << bold << message << reset << '\n';
  if (!range.begin.valid() || range.begin.col == 0)
    return;
  std::string_view text = file_.line(range.begin.line);
  uint32_t col = std::min<uint32_t>(range.begin.col, static_cast<uint32_t>(text.size()) + 1);
  uint32_t end = range.end.line == range.begin.line ? range.end.col : static_cast<uint32_t>(text.size()) + 1;
  end = std::max(std::min<uint32_t>(end, static_cast<uint32_t>(text.size()) + 1), col + 1);
  // A very long line is shown as a window around the range, so a megabyte line is not echoed whole.
  constexpr uint32_t kLongLine = 240, kContext = 80;
  bool windowed = text.size() > kLongLine;
  uint32_t first = windowed && col > kContext ? col - kContext : 1;
  uint32_t last = windowed ? std::min<uint32_t>(static_cast<uint32_t>(text.size()), std::max(end, col + 1) + kContext)
                           : static_cast<uint32_t>(text.size());
  while (first > 1 && (static_cast<unsigned char>(text[first - 1]) & 0xC0) == 0x80)
    --first; // do not start inside a UTF-8 sequence
  while (last < text.size() && (static_cast<unsigned char>(text[last]) & 0xC0) == 0x80)
    ++last;
  std::string_view shown = text.substr(first - 1, last - first + 1);
  std::string prefix = first > 1 ? "..." : "";
  os << "  " << prefix << shown << (last < text.size() ? "..." : "") << '\n' << "  " << std::string(prefix.size(), ' ');
  // One caret column per character, not per byte: skip UTF-8 continuation bytes; keep tabs as tabs.
  auto isContinuation = [&](uint32_t c) { return (static_cast<unsigned char>(text[c - 1]) & 0xC0) == 0x80; };
  for (uint32_t c = first; c < col; ++c)
    if (!isContinuation(c))
      os << (text[c - 1] == '\t' ? '\t' : ' ');
  os << (color ? "\033[1;32m" : "") << '^';
  for (uint32_t c = col + 1; c < end && c <= last; ++c)
    if (!isContinuation(c))
      os << '~';
  os << reset << '\n';
}

std::vector<const Diagnostic *> DiagnosticEngine::inSourceOrder() const {
  std::vector<const Diagnostic *> out;
  for (const Diagnostic &d : diagnostics_)
    out.push_back(&d);
  std::stable_sort(out.begin(), out.end(), [](const Diagnostic *a, const Diagnostic *b) {
    return std::make_pair(a->range.begin.line, a->range.begin.col) < std::make_pair(b->range.begin.line, b->range.begin.col);
  });
  return out;
}

void DiagnosticEngine::printText(std::ostream &os, bool color) const {
  for (const Diagnostic *p : inSourceOrder()) {
    const Diagnostic &d = *p;
    printOne(os, d.severity, d.range, d.message, color);
    for (const Note &n : d.notes)
      printOne(os, Severity::Note, n.range, n.message, color);
    for (const std::string &h : d.hints)
      os << "  hint: " << h << '\n';
  }
  if (dropped_ > 0)
    os << file_.path() << ": note: " << dropped_ << " more diagnostics not shown (limit " << kErrorLimit << ")\n";
}

void DiagnosticEngine::printJson(std::ostream &os) const {
  auto position = [](const ast::Range &r) {
    return nlohmann::json{{"line", r.begin.line}, {"column", r.begin.col},
                          {"end_line", r.end.line}, {"end_column", r.end.col}};
  };
  for (const Diagnostic *p : inSourceOrder()) {
    const Diagnostic &d = *p;
    nlohmann::json j = position(d.range);
    j["file"] = file_.path();
    j["severity"] = severityName(d.severity);
    j["message"] = d.message;
    j["notes"] = nlohmann::json::array();
    for (const Note &n : d.notes) {
      nlohmann::json note = position(n.range);
      note["message"] = n.message;
      j["notes"].push_back(note);
    }
    j["hints"] = d.hints;
    // Replace invalid UTF-8 (a broken input may carry any bytes) rather than throwing.
    os << j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << '\n';
  }
  if (dropped_ > 0) { // the same notice as the text format, as a note with no position
    nlohmann::json j = position(ast::Range{});
    j["file"] = file_.path();
    j["severity"] = "note";
    j["message"] = std::to_string(dropped_) + " more diagnostics not shown (limit " + std::to_string(kErrorLimit) + ")";
    j["notes"] = nlohmann::json::array();
    j["hints"] = nlohmann::json::array();
    os << j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << '\n';
  }
}

/// Optimal-string-alignment distance: insertions, deletions, substitutions and adjacent transpositions
/// ("bacth" → "batch") each cost 1.
static size_t editDistance(std::string_view a, std::string_view b) {
  std::vector<std::vector<size_t>> d(a.size() + 1, std::vector<size_t>(b.size() + 1));
  for (size_t i = 0; i <= a.size(); ++i)
    d[i][0] = i;
  for (size_t j = 0; j <= b.size(); ++j)
    d[0][j] = j;
  for (size_t i = 1; i <= a.size(); ++i)
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
      d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
        d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
    }
  return d[a.size()][b.size()];
}

std::string closestMatch(std::string_view word, const std::vector<std::string> &candidates) {
  std::string best;
  if (word.size() > 64)
    return best; // no name is that long; keep the quadratic distance cheap on hostile input
  size_t bestDistance = 0;
  for (const std::string &c : candidates) {
    size_t d = editDistance(word, c);
    if (best.empty() || d < bestDistance) {
      best = c;
      bestDistance = d;
    }
  }
  // A plausible typo: at most a third of the longer word changed (and at least one edit allowed).
  size_t limit = std::max<size_t>(1, std::max(word.size(), best.size()) / 3);
  if (best.empty() || bestDistance > limit || bestDistance == 0)
    return {};
  return best;
}

} // namespace align
