//===- SyntaxErrors.cpp - Syntax diagnostics from the ANTLR parser --------===//

#include "SyntaxErrors.h"

namespace align {

using syntax::AlignParser;

namespace {

/// ANTLR columns count code points; diagnostics count bytes (like clang). Converts for one line.
uint32_t byteColumn(const SourceFile &file, size_t line, size_t codePointColumn) {
  std::string_view text = file.line(static_cast<uint32_t>(line));
  size_t bytes = 0, points = 0;
  while (bytes < text.size() && points < codePointColumn) {
    unsigned char c = static_cast<unsigned char>(text[bytes]);
    bytes += c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
    ++points;
  }
  return static_cast<uint32_t>(std::min(bytes, text.size()) + 1);
}

} // namespace

ast::Range tokenRange(const SourceFile &file, const antlr4::Token *token) {
  ast::Range r;
  r.begin.line = static_cast<uint32_t>(token->getLine());
  r.begin.col = byteColumn(file, token->getLine(), token->getCharPositionInLine());
  r.end.line = r.begin.line;
  std::string text = token->getType() == antlr4::Token::EOF ? "" : token->getText();
  r.end.col = r.begin.col + static_cast<uint32_t>(std::max<size_t>(text.size(), 1));
  return r;
}

namespace {

/// The point just after `token`: where a missing ';' belongs.
ast::Range afterToken(const SourceFile &file, const antlr4::Token *token) {
  ast::Range r = tokenRange(file, token);
  r.begin = r.end;
  r.end.col = r.begin.col + 1;
  return r;
}

std::string quoteForMessage(const std::string &text) {
  std::string out;
  for (char c : text.substr(0, 24)) {
    if (c == '\n')
      out += "\\n";
    else if (c == '\t')
      out += "\\t";
    else if (static_cast<unsigned char>(c) < 0x20)
      out += '?';
    else
      out += c;
  }
  if (text.size() > 24)
    out += "...";
  return "'" + out + "'";
}

std::string describeToken(const antlr4::Token *token) {
  if (token->getType() == antlr4::Token::EOF)
    return "end of file";
  return quoteForMessage(token->getText());
}

/// How to name a token type in "expected ..." lists.
std::string expectedName(const antlr4::dfa::Vocabulary &vocab, size_t type) {
  switch (type) {
  case antlr4::Token::EOF:
    return "end of file";
  case AlignParser::IDENT:
    return "a name";
  case AlignParser::NUMBER:
    return "a number";
  case AlignParser::PERCENT:
    return "a percentage";
  case AlignParser::ANGLE:
    return "an angle";
  case AlignParser::DURATION:
    return "a duration";
  case AlignParser::STRING:
    return "a string";
  default:
    return vocab.getDisplayName(type);
  }
}

/// What the parser was looking for, in words, when the expected-token set is too long to list.
std::string ruleDescription(size_t ruleIndex) {
  switch (ruleIndex) {
  case AlignParser::RuleFile:
    return "'recipe'";
  case AlignParser::RuleRecipe:
  case AlignParser::RuleRecipeItem:
    return "a declaration, stage, schedule or eval block";
  case AlignParser::RuleStage:
  case AlignParser::RuleStageItem:
    return "a stage item (init from, train, objective, loop, declaration, schedule or eval)";
  case AlignParser::RuleDeclaration:
  case AlignParser::RuleDeclKind:
    return "a declaration";
  case AlignParser::RuleFieldBlock:
  case AlignParser::RuleFieldItem:
    return "a field ('name: value;') or a split";
  case AlignParser::RuleEvalBlock:
  case AlignParser::RuleEvalItem:
    return "a metric";
  case AlignParser::RuleAnyName:
    return "a name";
  default:
    return "an expression";
  }
}

std::string expectedList(AlignParser *parser, const antlr4::misc::IntervalSet &set) {
  std::vector<ssize_t> types = set.toList();
  if (types.empty() || types.size() > 5)
    return ruleDescription(parser->getContext() ? parser->getContext()->getRuleIndex() : 0);
  std::string out;
  for (size_t i = 0; i < types.size(); ++i) {
    if (i > 0)
      out += i + 1 == types.size() ? " or " : ", ";
    out += expectedName(parser->getVocabulary(), static_cast<size_t>(types[i]));
  }
  return out;
}

} // namespace

void ErrorStrategy::reportNoViableAlternative(antlr4::Parser *recognizer, const antlr4::NoViableAltException &e) {
  if (reportMissingAtLineEnd(recognizer, e.getOffendingToken(), e.getExpectedTokens()))
    return;
  report(tokenRange(file_, e.getOffendingToken()),
         "unexpected " + describeToken(e.getOffendingToken()) + "; expected " +
             expectedList(static_cast<AlignParser *>(recognizer), e.getExpectedTokens()));
}

void ErrorStrategy::reportInputMismatch(antlr4::Parser *recognizer, const antlr4::InputMismatchException &e) {
  if (reportMissingAtLineEnd(recognizer, e.getOffendingToken(), e.getExpectedTokens()))
    return;
  report(tokenRange(file_, e.getOffendingToken()),
         "unexpected " + describeToken(e.getOffendingToken()) + "; expected " +
             expectedList(static_cast<AlignParser *>(recognizer), e.getExpectedTokens()));
}

void ErrorStrategy::reportFailedPredicate(antlr4::Parser *, const antlr4::FailedPredicateException &e) {
  report(tokenRange(file_, e.getOffendingToken()), "unexpected " + describeToken(e.getOffendingToken()));
}

void ErrorStrategy::reportUnwantedToken(antlr4::Parser *recognizer) {
  if (inErrorRecoveryMode(recognizer))
    return;
  beginErrorCondition(recognizer);
  antlr4::Token *t = recognizer->getCurrentToken();
  report(tokenRange(file_, t), "unexpected " + describeToken(t) + "; expected " +
                                   expectedList(static_cast<AlignParser *>(recognizer),
                                                recognizer->getExpectedTokens()));
}

void ErrorStrategy::reportMissingToken(antlr4::Parser *recognizer) {
  if (inErrorRecoveryMode(recognizer))
    return;
  beginErrorCondition(recognizer);
  std::string expected = expectedList(static_cast<AlignParser *>(recognizer), recognizer->getExpectedTokens());
  antlr4::Token *previous = recognizer->getTokenStream()->LT(-1);
  antlr4::Token *current = recognizer->getCurrentToken();
  if (previous)
    report(afterToken(file_, previous), "expected " + expected + " after " + describeToken(previous));
  else
    report(tokenRange(file_, current), "expected " + expected + " before " + describeToken(current));
}

bool ErrorStrategy::reportMissingAtLineEnd(antlr4::Parser *recognizer, antlr4::Token *offending,
                            const antlr4::misc::IntervalSet &expected) {
  antlr4::Token *previous = recognizer->getTokenStream()->LT(-1);
  if (!previous || !offending || !expected.contains(static_cast<size_t>(AlignParser::SEMI)) ||
      previous->getLine() >= offending->getLine())
    return false;
  report(afterToken(file_, previous), "expected ';' after " + describeToken(previous));
  return true;
}

void ErrorStrategy::report(ast::Range range, std::string message) {
  ++errors_;
  diags_.error(range, std::move(message));
}

void LexerErrors::syntaxError(antlr4::Recognizer *, antlr4::Token *, size_t line, size_t column, const std::string &msg,
                 std::exception_ptr) {
  ++errors_;
  // ANTLR says "token recognition error at: 'x'"; say what it means.
  std::string text;
  size_t at = msg.find("at: '");
  if (at != std::string::npos && msg.size() >= at + 6)
    text = msg.substr(at + 5, msg.size() - at - 6);
  ast::Range r;
  r.begin = {static_cast<uint32_t>(line), byteColumn(file_, line, column)};
  r.end = {r.begin.line, r.begin.col + 1};
  if (!text.empty() && text[0] == '"')
    diags_.error(r, "unterminated string literal").hints.push_back("strings end on the line they start; write a newline as \\n");
  else if (!text.empty() && text[0] == '\\')
    diags_.error(r, "unknown escape sequence " + quoteForMessage(text.substr(0, 2)) + " outside a string");
  else
    diags_.error(r, "unexpected character " + quoteForMessage(text.empty() ? msg : text));
}

} // namespace align
