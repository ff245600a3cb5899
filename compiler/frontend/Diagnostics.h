//===- Diagnostics.h - One diagnostic engine for the compiler --*- C++ -*-===//
//
// The front end's errors (file loading, lexer and parser through SyntaxErrors.h, Sema) go through a
// DiagnosticEngine, one per source file. It renders them as
//
//   file:line:col: error: message
//     source line
//           ^~~~~
//   file:line:col: note: previous definition is here
//   hint: did you mean 'lr'?
//
// or as JSON (one object per line) for editors, or keeps them for `--verify-diagnostics` (DiagnosticVerifier.h).
// Errors of MLIRGen, the passes and the emitter do not go through it: they are MLIR diagnostics, printed
// as text by MLIR's SourceMgrDiagnosticHandler (compiler/tools/alignc/TrainerSource.cpp).
//
//===----------------------------------------------------------------------===//
#pragma once

#include "AST.h"

#include <ostream>
#include <string>
#include <string_view>
#include <vector>

namespace align {

/// A loaded source file: its path as the user spelled it and its bytes, with line starts for rendering.
class SourceFile {
public:
  SourceFile(std::string path, std::string text);
  const std::string &path() const { return path_; }
  const std::string &text() const { return text_; }
  /// The text of 1-based line `line` without its newline; empty if out of range.
  std::string_view line(uint32_t line) const;
  uint32_t lineCount() const { return static_cast<uint32_t>(lineStarts_.size()); }

private:
  std::string path_;
  std::string text_;
  std::vector<size_t> lineStarts_;
};

enum class Severity { Error, Warning, Note };
const char *severityName(Severity severity);

struct Note {
  ast::Range range;
  std::string message;
};

struct Diagnostic {
  Severity severity = Severity::Error;
  ast::Range range;
  std::string message;
  std::vector<Note> notes;
  std::vector<std::string> hints;
};

/// Collects diagnostics for one source file. Rendering is separate so that the driver can choose text,
/// JSON or verification after the fact.
class DiagnosticEngine {
public:
  explicit DiagnosticEngine(const SourceFile &file) : file_(file) {}

  /// Reports an error and returns it so the caller can attach notes and hints.
  Diagnostic &error(ast::Range range, std::string message);
  Diagnostic &warning(ast::Range range, std::string message);

  bool hasErrors() const { return errorCount_ > 0; }
  unsigned errorCount() const { return errorCount_; }
  const std::vector<Diagnostic> &diagnostics() const { return diagnostics_; }
  const SourceFile &file() const { return file_; }

  /// After this many errors further ones are counted but not kept (like clang's -ferror-limit).
  static constexpr unsigned kErrorLimit = 50;
  unsigned droppedCount() const { return dropped_; }

  /// Human-readable text with the source line and a caret under the range.
  void printText(std::ostream &os, bool color = false) const;
  /// One JSON object per diagnostic and line: {file, line, column, end_line, end_column, severity, message,
  /// notes: [{line, column, message}], hints: [...]}.
  void printJson(std::ostream &os) const;

private:
  /// Diagnostics sorted by position (stable), so output reads top to bottom whatever order checks ran in.
  std::vector<const Diagnostic *> inSourceOrder() const;
  Diagnostic &report(Severity severity, ast::Range range, std::string message);
  void printOne(std::ostream &os, Severity severity, ast::Range range, const std::string &message,
                bool color) const;

  const SourceFile &file_;
  std::vector<Diagnostic> diagnostics_;
  Diagnostic overflow_; // sink for diagnostics past the limit
  unsigned errorCount_ = 0;
  unsigned dropped_ = 0;
};

/// Appends `; did you mean 'best'?`-style hints: returns the candidate closest to `word` by edit
/// distance, or empty if none is close enough to be a plausible typo.
std::string closestMatch(std::string_view word, const std::vector<std::string> &candidates);

} // namespace align
