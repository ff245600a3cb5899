//===- DiagnosticVerifier.cpp - Check expected-* comments -----------------===//

#include "DiagnosticVerifier.h"

#include <regex>
#include <string>
#include <vector>

namespace align {
namespace {

struct Expectation {
  Severity severity;
  uint32_t line;      // where the diagnostic must be
  uint32_t sourceLine; // where the comment is
  std::string text;
  bool regex = false;
  unsigned long remaining = 1; // how many more diagnostics it must match (`expected-error 2 {{...}}`)
  bool matched() const { return remaining == 0; }
};

std::vector<Expectation> collect(const SourceFile &file, std::ostream &os, bool &ok) {
  // expected-<severity>[-re] [@+N|@-N|@above|@below] [COUNT] {{text}}
  static const std::regex pattern(
      R"(expected-(error|warning|note)(-re)?\s*(@(\+\d+|-\d+|above|below))?\s*(\d+)?\s*\{\{(.*?)\}\})");
  static const std::regex mention(R"(expected-(error|warning|note))");
  std::vector<Expectation> out;
  for (uint32_t n = 1; n <= file.lineCount(); ++n) {
    std::string text(file.line(n));
    // A directive that does not parse must not be skipped silently: the test would pass without checking.
    size_t mentions = std::distance(std::sregex_iterator(text.begin(), text.end(), mention), std::sregex_iterator());
    size_t parsed = std::distance(std::sregex_iterator(text.begin(), text.end(), pattern), std::sregex_iterator());
    if (mentions != parsed) {
      os << file.path() << ':' << n << ": error: malformed expected-* directive (expected-error [@+N] [COUNT] {{text}})\n";
      ok = false;
    }
    for (auto it = std::sregex_iterator(text.begin(), text.end(), pattern); it != std::sregex_iterator(); ++it) {
      const std::smatch &m = *it;
      Expectation e;
      e.severity = m[1] == "error" ? Severity::Error : m[1] == "warning" ? Severity::Warning : Severity::Note;
      e.regex = m[2].matched;
      e.sourceLine = n;
      e.line = n;
      std::string where = m[4];
      if (where == "above")
        e.line = n - 1;
      else if (where == "below")
        e.line = n + 1;
      else if (!where.empty())
        e.line = static_cast<uint32_t>(static_cast<long>(n) + std::stol(where));
      e.text = m[6];
      e.remaining = m[5].matched ? std::stoul(m[5].str()) : 1;
      if (e.regex) {
        try {
          std::regex check(e.text);
        } catch (const std::regex_error &) {
          os << file.path() << ':' << n << ": error: invalid regex in expected-* comment\n";
          ok = false;
          continue;
        }
      }
      out.push_back(e);
    }
  }
  return out;
}

bool matches(const Expectation &e, Severity severity, uint32_t line, const std::string &message) {
  if (e.matched() || e.severity != severity || e.line != line)
    return false;
  return e.regex ? std::regex_search(message, std::regex(e.text)) : message.find(e.text) != std::string::npos;
}

} // namespace

bool verifyDiagnostics(const DiagnosticEngine &diags, std::ostream &os) {
  bool ok = true;
  const SourceFile &file = diags.file();
  std::vector<Expectation> expected = collect(file, os, ok);
  auto consume = [&](Severity severity, const ast::Range &range, const std::string &message) {
    for (Expectation &e : expected)
      if (matches(e, severity, range.begin.line, message)) {
        --e.remaining;
        return true;
      }
    return false;
  };
  for (const Diagnostic &d : diags.diagnostics()) {
    if (!consume(d.severity, d.range, d.message)) {
      os << file.path() << ':' << d.range.begin.line << ':' << d.range.begin.col << ": error: unexpected "
         << severityName(d.severity) << ": " << d.message << '\n';
      ok = false;
    }
    for (const Note &n : d.notes)
      consume(Severity::Note, n.range, n.message);
  }
  for (const Expectation &e : expected)
    if (!e.matched()) {
      os << file.path() << ':' << e.sourceLine << ": error: expected " << severityName(e.severity) << " \""
         << e.text << "\" on line " << e.line << " was not produced"
         << (e.remaining > 1 ? " (" + std::to_string(e.remaining) + " more times)" : std::string()) << "\n";
      ok = false;
    }
  if (diags.droppedCount() > 0) {
    os << file.path() << ": error: more diagnostics than the engine keeps; split the test\n";
    ok = false;
  }
  return ok;
}

} // namespace align
