//===- SyntaxErrors.h - Syntax diagnostics from the ANTLR parser -*- C++ -*-===//
//
// Internal to the front end: turns ANTLR's lexer and parser errors into clang-style diagnostics
// ("expected ';' after ')'" placed right after the unfinished line, "unexpected 'x'; expected a name").
//
//===----------------------------------------------------------------------===//
#pragma once

#include "Diagnostics.h"


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

/// The source range of a token, in bytes (ANTLR counts code points).
ast::Range tokenRange(const SourceFile &file, const antlr4::Token *token);

/// Clang-style syntax messages, reported directly into the engine.
class ErrorStrategy : public antlr4::DefaultErrorStrategy {
public:
  ErrorStrategy(const SourceFile &file, DiagnosticEngine &diags) : file_(file), diags_(diags) {}
  unsigned errors() const { return errors_; }

protected:
  void reportNoViableAlternative(antlr4::Parser *recognizer, const antlr4::NoViableAltException &e) override;
  void reportInputMismatch(antlr4::Parser *recognizer, const antlr4::InputMismatchException &e) override;
  void reportFailedPredicate(antlr4::Parser *recognizer, const antlr4::FailedPredicateException &e) override;
  void reportUnwantedToken(antlr4::Parser *recognizer) override;
  void reportMissingToken(antlr4::Parser *recognizer) override;

private:
  bool reportMissingAtLineEnd(antlr4::Parser *recognizer, antlr4::Token *offending,
                              const antlr4::misc::IntervalSet &expected);
  void report(ast::Range range, std::string message);
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
