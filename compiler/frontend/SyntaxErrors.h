//===- SyntaxErrors.h - Syntax diagnostics from the ANTLR parser -*- C++ -*-===//
//
// Internal to the front end: turns ANTLR's lexer and parser errors into clang-style diagnostics
// ("expected ';' after ')'" placed right after the unfinished line, "unexpected 'x'; expected a name").
//
//===----------------------------------------------------------------------===//
#pragma once

#include "Diagnostics.h"

#include <set>


#if defined(__GNUC__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-parameter"
#pragma GCC diagnostic ignored "-Wattributes"
#endif
#include "AlignLexer.h"
#include "AlignParser.h"
#include "antlr4-runtime.h"
#if defined(__GNUC__)
#pragma GCC diagnostic pop
#endif

namespace align {

/// The innermost '{', '(' or '[' still open just after token `index`, or null.
antlr4::Token *innermostOpen(antlr4::TokenStream &tokens, size_t index);

/// The source range of a token, in bytes (ANTLR counts code points).
ast::Range tokenRange(const SourceFile &file, const antlr4::Token *token);

/// Clang-style syntax messages, reported directly into the engine.
class ErrorStrategy : public antlr4::DefaultErrorStrategy {
public:
  ErrorStrategy(const SourceFile &file, DiagnosticEngine &diags) : file_(file), diags_(diags) {}
  unsigned errors() const { return errors_; }
  /// Lines where a lexical error was already reported: parser errors there (and on the next line) are
  /// follow-on noise, counted but not shown.
  void suppressAfter(size_t line) {
    quiet_.insert(line);
    quiet_.insert(line + 1);
  }

protected:
  void reportNoViableAlternative(antlr4::Parser *recognizer, const antlr4::NoViableAltException &e) override;
  void reportInputMismatch(antlr4::Parser *recognizer, const antlr4::InputMismatchException &e) override;
  void reportFailedPredicate(antlr4::Parser *recognizer, const antlr4::FailedPredicateException &e) override;
  void reportUnwantedToken(antlr4::Parser *recognizer) override;
  void reportMissingToken(antlr4::Parser *recognizer) override;

private:
  /// "unexpected X; expected Y", or a more precise message where one applies.
  void explain(antlr4::Parser *recognizer, antlr4::Token *offending, const antlr4::misc::IntervalSet &expected);
  bool reportMissingAtLineEnd(antlr4::Parser *recognizer, antlr4::Token *offending,
                              const antlr4::misc::IntervalSet &expected);
  /// At end of file inside an open '{', '(' or '[': say which closer is missing and where it was opened.
  bool reportUnclosedAtEnd(antlr4::Parser *recognizer, antlr4::Token *offending);
  Diagnostic *report(ast::Range range, std::string message);
  std::set<size_t> quiet_;
  const SourceFile &file_;
  DiagnosticEngine &diags_;
  unsigned errors_ = 0;
};

/// Lexer errors (an unexpected character, an unterminated string) as diagnostics.
class LexerErrors : public antlr4::BaseErrorListener {
public:
  LexerErrors(const SourceFile &file, DiagnosticEngine &diags) : file_(file), diags_(diags) {}
  unsigned errors() const { return errors_; }
  void syntaxError(antlr4::Recognizer *, antlr4::Token *, size_t line, size_t column, const std::string &msg,
                   std::exception_ptr) override;

private:
  const SourceFile &file_;
  DiagnosticEngine &diags_;
  unsigned errors_ = 0;
};

} // namespace align
