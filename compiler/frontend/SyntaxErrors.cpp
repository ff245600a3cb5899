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
  case AlignParser::SIZE:
    return "a size";
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

antlr4::Token *innermostOpen(antlr4::TokenStream &tokens, size_t index) {
  int depth = 0;
  for (size_t i = index + 1; i-- > 0;) {
    antlr4::Token *t = tokens.get(i);
    switch (t->getType()) {
    case AlignParser::RBRACE:
    case AlignParser::RPAREN:
    case AlignParser::RBRACK:
      ++depth;
      break;
    case AlignParser::LBRACE:
    case AlignParser::LPAREN:
    case AlignParser::LBRACK:
      if (depth == 0)
        return t;
      --depth;
      break;
    default:
      break;
    }
  }
  return nullptr;
}

static const char *closerOf(const antlr4::Token *open) {
  return open->getType() == AlignParser::LBRACE ? "}" : open->getType() == AlignParser::LPAREN ? ")" : "]";
}

void ErrorStrategy::explain(antlr4::Parser *recognizer, antlr4::Token *offending,
                            const antlr4::misc::IntervalSet &expected) {
  if (reportMissingAtLineEnd(recognizer, offending, expected) || reportUnclosedAtEnd(recognizer, offending))
    return;
  std::string want = expectedList(static_cast<AlignParser *>(recognizer), expected);
  // The token just before the offending one (prediction may have looked past tokens not yet consumed).
  antlr4::Token *previous = offending->getTokenIndex() > 0
                                ? recognizer->getTokenStream()->get(offending->getTokenIndex() - 1)
                                : nullptr;
  if (previous && previous->getType() == AlignParser::COMMA) {
    // After a comma comes another item or (a trailing comma being allowed) the closing bracket.
    antlr4::Token *open = innermostOpen(*recognizer->getTokenStream(), previous->getTokenIndex());
    if (open && open->getType() != AlignParser::LBRACE)
      want = std::string("an expression or '") + closerOf(open) + "'";
  }
  report(tokenRange(file_, offending), "unexpected " + describeToken(offending) + "; expected " + want);
}

void ErrorStrategy::reportNoViableAlternative(antlr4::Parser *recognizer, const antlr4::NoViableAltException &e) {
  explain(recognizer, e.getOffendingToken(), e.getExpectedTokens());
}

void ErrorStrategy::reportInputMismatch(antlr4::Parser *recognizer, const antlr4::InputMismatchException &e) {
  explain(recognizer, e.getOffendingToken(), e.getExpectedTokens());
}

void ErrorStrategy::reportFailedPredicate(antlr4::Parser *, const antlr4::FailedPredicateException &e) {
  report(tokenRange(file_, e.getOffendingToken()), "unexpected " + describeToken(e.getOffendingToken()));
}

void ErrorStrategy::reportUnwantedToken(antlr4::Parser *recognizer) {
  if (inErrorRecoveryMode(recognizer))
    return;
  beginErrorCondition(recognizer);
  explain(recognizer, recognizer->getCurrentToken(), recognizer->getExpectedTokens());
}

void ErrorStrategy::reportMissingToken(antlr4::Parser *recognizer) {
  if (inErrorRecoveryMode(recognizer))
    return;
  beginErrorCondition(recognizer);
  antlr4::Token *current = recognizer->getCurrentToken();
  if (reportUnclosedAtEnd(recognizer, current))
    return;
  std::string expected = expectedList(static_cast<AlignParser *>(recognizer), recognizer->getExpectedTokens());
  antlr4::Token *previous = recognizer->getTokenStream()->LT(-1);
  if (previous)
    report(afterToken(file_, previous), "expected " + expected + " after " + describeToken(previous));
  else
    report(tokenRange(file_, current), "expected " + expected + " before " + describeToken(current));
}

bool ErrorStrategy::reportMissingAtLineEnd(antlr4::Parser *recognizer, antlr4::Token *offending,
                                           const antlr4::misc::IntervalSet &expected) {
  // A statement that ends without its ';' is noticed only at the next line's first token; say what is
  // missing where it belongs, right after the last token of the unfinished line (as clang does).
  antlr4::Token *previous = recognizer->getTokenStream()->LT(-1);
  if (!previous || !offending || !expected.contains(static_cast<size_t>(AlignParser::SEMI)) ||
      previous->getLine() >= offending->getLine() || offending->getType() == antlr4::Token::EOF)
    return false;
  report(afterToken(file_, previous), "expected ';' after " + describeToken(previous));
  return true;
}

bool ErrorStrategy::reportUnclosedAtEnd(antlr4::Parser *recognizer, antlr4::Token *offending) {
  if (!offending || offending->getType() != antlr4::Token::EOF || offending->getTokenIndex() == 0)
    return false;
  antlr4::TokenStream &tokens = *recognizer->getTokenStream();
  antlr4::Token *open = innermostOpen(tokens, offending->getTokenIndex() - 1);
  if (!open)
    return false;
  antlr4::Token *last = tokens.get(offending->getTokenIndex() - 1);
  if (Diagnostic *d = report(afterToken(file_, last), std::string("expected '") + closerOf(open) + "' at end of file"))
    d->notes.push_back({tokenRange(file_, open), std::string("to match this '") + open->getText() + "'"});
  return true;
}

Diagnostic *ErrorStrategy::report(ast::Range range, std::string message) {
  ++errors_;
  if (quiet_.count(range.begin.line))
    return nullptr;
  return &diags_.error(range, std::move(message));
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
