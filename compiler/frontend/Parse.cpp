//===- Parse.cpp - ANTLR parse tree → AST ---------------------------------===//
//
// Three steps: (1) lex everything and check cheap limits on the token stream (nesting depth, operator
// chains) so a hostile input cannot blow the stack of the recursive-descent parser; (2) parse with an
// error strategy that reports clang-style messages straight into the DiagnosticEngine (SyntaxErrors.cpp);
// (3) if the file parsed cleanly, transform the tree into the AST with one typed method per rule (no
// visitor `Any`s: the 4.9 runtime silently drops values that are not nothrow-copyable).
//
//===----------------------------------------------------------------------===//

#include "Parse.h"
#include "SyntaxErrors.h"

#include <cmath>
#include <cstdlib>

namespace align {
namespace {

using syntax::AlignLexer;
using syntax::AlignParser;

/// Reports the lexical errors the grammar captures as tokens (an unterminated string, a number run into
/// letters) and repairs those tokens so the parser can go on; their lines are quieted in `strategy`.
/// Returns false (after reporting) if the token stream would nest or chain too deeply to parse safely.
bool checkTokens(const SourceFile &file, const std::vector<antlr4::Token *> &tokens, const ParseLimits &limits,
                 DiagnosticEngine &diags, ErrorStrategy &strategy) {
  unsigned depth = 0, operators = 0;
  for (antlr4::Token *t : tokens) {
    auto *writable = dynamic_cast<antlr4::WritableToken *>(t);
    if (t->getType() == AlignParser::UNTERMINATED_STRING && writable) {
      diags.error(tokenRange(file, t), "unterminated string literal")
          .hints.push_back("strings end on the line they start; write a newline as \\n");
      strategy.suppressAfter(t->getLine());
      writable->setType(AlignParser::STRING);
      writable->setText(t->getText() + "\"");
      continue;
    }
    if (t->getType() == AlignParser::BAD_NUMBER && writable) {
      diags.error(tokenRange(file, t), "invalid number '" + t->getText() + "'")
          .hints.push_back("a number may carry a unit: 10%, 45deg, 500ms, 30s, 10min, 2h, 512MiB, 8GiB");
      strategy.suppressAfter(t->getLine());
      writable->setType(AlignParser::NUMBER);
      continue;
    }
    switch (t->getType()) {
    case AlignParser::LPAREN:
    case AlignParser::LBRACK:
    case AlignParser::LBRACE:
      if (++depth > limits.maxNesting) {
        diags.error(tokenRange(file, t), "brackets nested more than " + std::to_string(limits.maxNesting) +
                                             " deep");
        return false;
      }
      if (t->getType() == AlignParser::LBRACE)
        operators = 0;
      break;
    case AlignParser::RPAREN:
    case AlignParser::RBRACK:
    case AlignParser::RBRACE:
      depth = depth > 0 ? depth - 1 : 0;
      if (t->getType() == AlignParser::RBRACE)
        operators = 0;
      break;
    case AlignParser::SEMI:
      operators = 0;
      break;
    case AlignParser::PLUS:
    case AlignParser::MINUS:
    case AlignParser::STAR:
    case AlignParser::SLASH:
    case AlignParser::WITH:
      if (++operators > limits.maxOperatorsPerStatement) {
        diags.error(tokenRange(file, t), "expression has more than " +
                                             std::to_string(limits.maxOperatorsPerStatement) + " operators");
        return false;
      }
      break;
    default:
      break;
    }
  }
  return true;
}

/// Returns false (after reporting the first bad byte) if `text` is not valid UTF-8.
bool checkUtf8(const SourceFile &file, DiagnosticEngine &diags) {
  const std::string &text = file.text();
  uint32_t line = 1, col = 1;
  for (size_t i = 0; i < text.size();) {
    unsigned char c = static_cast<unsigned char>(text[i]);
    size_t n = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xE ? 3 : (c >> 3) == 0x1E ? 4 : 0;
    bool ok = n != 0 && i + n <= text.size();
    for (size_t k = 1; ok && k < n; ++k)
      ok = (static_cast<unsigned char>(text[i + k]) >> 6) == 0x2;
    if (ok && n == 2)
      ok = c >= 0xC2; // overlong
    if (ok && n == 3) {
      unsigned cp = ((c & 0xF) << 12) | ((text[i + 1] & 0x3F) << 6) | (text[i + 2] & 0x3F);
      ok = cp >= 0x800 && (cp < 0xD800 || cp > 0xDFFF);
    }
    if (ok && n == 4) {
      unsigned cp = ((c & 0x7) << 18) | ((text[i + 1] & 0x3F) << 12) | ((text[i + 2] & 0x3F) << 6) |
                    (text[i + 3] & 0x3F);
      ok = cp >= 0x10000 && cp <= 0x10FFFF;
    }
    if (!ok) {
      diags.error({{line, col}, {line, col + 1}}, "invalid UTF-8 byte in source file");
      return false;
    }
    if (c == '\n') {
      ++line;
      col = 1;
    } else {
      col += static_cast<uint32_t>(n);
    }
    i += n;
  }
  return true;
}

// -----------------------------------------------------------------------------------------------------------
// The transformer: one method per rule. It only ever sees trees without syntax errors.
// -----------------------------------------------------------------------------------------------------------

class Transformer {
public:
  Transformer(const SourceFile &file, DiagnosticEngine &diags) : file_(file), diags_(diags) {}

  std::unique_ptr<ast::File> file(AlignParser::FileContext &ctx) {
    auto out = std::make_unique<ast::File>();
    out->path = file_.path();
    for (auto *r : ctx.recipe())
      out->recipes.push_back(recipe(*r));
    return out;
  }

private:
  ast::Range range(antlr4::ParserRuleContext &ctx) {
    ast::Range r = tokenRange(file_, ctx.getStart());
    ast::Range stop = tokenRange(file_, ctx.getStop() ? ctx.getStop() : ctx.getStart());
    r.end = stop.end;
    return r;
  }
  ast::Range range(antlr4::Token *t) { return tokenRange(file_, t); }
  ast::Range range(antlr4::tree::TerminalNode *n) { return tokenRange(file_, n->getSymbol()); }

  /// A declared name; keywords parse here (for one clear error instead of a cascade) but are refused.
  std::string name(AlignParser::AnyNameContext &ctx) {
    if (!ctx.IDENT())
      diags_.error(range(ctx), "'" + ctx.getText() + "' is a keyword and cannot be used as a name")
          .hints.push_back("choose another name, e.g. '" + ctx.getText() + "_'");
    return ctx.getText();
  }

  ast::Recipe recipe(AlignParser::RecipeContext &ctx) {
    ast::Recipe r;
    r.name = ctx.name->getText();
    r.nameRange = range(ctx.name);
    r.range = range(ctx);
    for (auto *item : ctx.recipeItem()) {
      if (auto *d = item->declaration())
        r.decls.push_back(declaration(*d, nullptr));
      else if (auto *s = item->stage()) {
        r.stages.push_back(stage(*s));
        r.stages.back()->index = static_cast<unsigned>(r.stages.size() - 1);
      } else if (auto *s = item->scheduleBlock())
        r.schedules.push_back(fieldBlock(*s->fieldBlock()));
      else if (auto *e = item->evalBlock())
        r.evals.push_back(evalBlock(*e));
    }
    return r;
  }

  static ast::DeclKind declKind(AlignParser::DeclKindContext &ctx) {
    switch (ctx.getStart()->getType()) {
    case AlignParser::TOKENIZER:
      return ast::DeclKind::Tokenizer;
    case AlignParser::MODEL:
      return ast::DeclKind::Model;
    case AlignParser::DATA:
      return ast::DeclKind::Data;
    case AlignParser::USERS:
      return ast::DeclKind::Users;
    case AlignParser::PREFERENCE:
      return ast::DeclKind::Preference;
    case AlignParser::REWARD:
      return ast::DeclKind::Reward;
    case AlignParser::ADAPTER:
      return ast::DeclKind::Adapter;
    case AlignParser::TEMPLATE:
      return ast::DeclKind::Template;
    case AlignParser::AGGREGATE:
      return ast::DeclKind::Aggregate;
    case AlignParser::POLICY:
      return ast::DeclKind::Policy;
    default:
      return ast::DeclKind::Reference;
    }
  }

  ast::DeclPtr declaration(AlignParser::DeclarationContext &ctx, const ast::Stage *owner) {
    auto d = std::make_unique<ast::Decl>();
    d->kind = declKind(*ctx.kind);
    d->name = name(*ctx.name);
    d->nameRange = range(*ctx.name);
    d->range = range(ctx);
    d->value = expr(*ctx.value);
    if (ctx.fieldBlock())
      d->block = fieldBlock(*ctx.fieldBlock());
    d->owner = owner;
    return d;
  }

  ast::StagePtr stage(AlignParser::StageContext &ctx) {
    auto s = std::make_unique<ast::Stage>();
    s->name = name(*ctx.name);
    s->nameRange = range(*ctx.name);
    s->range = range(ctx);
    for (auto *item : ctx.stageItem()) {
      if (auto *i = dynamic_cast<AlignParser::InitFromContext *>(item)) {
        if (s->init) { // reported by Sema, so the rest of the file is still checked
          s->repeatedInits.push_back(range(*i));
          continue;
        }
        s->init = ast::InitFrom{i->source->getText(), range(i->source), range(*i), nullptr};
      } else if (auto *t = dynamic_cast<AlignParser::TrainOnContext *>(item)) {
        ast::TrainItem train;
        train.target = t->target->getText();
        train.targetRange = range(t->target);
        train.range = range(*t);
        for (auto *e : t->data->expr())
          train.data.push_back(expr(*e));
        s->trains.push_back(std::move(train));
      } else if (auto *o = dynamic_cast<AlignParser::ObjectiveContext *>(item)) {
        s->objectives.emplace_back(range(*o), expr(*o->value));
      } else if (auto *l = dynamic_cast<AlignParser::LoopContext *>(item)) {
        s->loops.push_back(ast::Loop{l->kind->getText(), range(l->kind), range(*l), fieldBlock(*l->fieldBlock())});
      } else if (auto *d = dynamic_cast<AlignParser::StageDeclarationContext *>(item)) {
        s->decls.push_back(declaration(*d->declaration(), s.get()));
      } else if (auto *b = dynamic_cast<AlignParser::StageScheduleContext *>(item)) {
        s->schedules.push_back(fieldBlock(*b->scheduleBlock()->fieldBlock()));
      } else if (auto *e = dynamic_cast<AlignParser::StageEvalContext *>(item)) {
        s->evals.push_back(evalBlock(*e->evalBlock()));
      }
    }
    return s;
  }

  ast::FieldBlock fieldBlock(AlignParser::FieldBlockContext &ctx) {
    ast::FieldBlock block;
    block.range = range(ctx);
    for (auto *item : ctx.fieldItem()) {
      if (auto *f = dynamic_cast<AlignParser::FieldContext *>(item)) {
        block.fields.push_back(ast::Field{f->key->getText(), range(*f->key), expr(*f->value), false});
      } else if (auto *s = dynamic_cast<AlignParser::SplitContext *>(item)) {
        ast::Split split;
        split.name = s->name->getText();
        split.nameRange = range(*s->name);
        split.range = range(*s);
        split.value = expr(*s->value);
        if (s->key) {
          split.by = s->key->getText();
          split.byRange = range(*s->key);
        }
        block.splits.push_back(std::move(split));
      }
    }
    return block;
  }

  ast::EvalBlock evalBlock(AlignParser::EvalBlockContext &ctx) {
    ast::EvalBlock block;
    block.range = range(ctx);
    for (auto *i : ctx.evalItem()) {
      ast::EvalItem item;
      item.metric = i->metric->getText();
      item.metricRange = range(i->metric);
      item.range = range(*i);
      if (i->args)
        item.args = arguments(*i->args);
      if (i->key) {
        item.by = i->key->getText();
        item.byRange = range(*i->key);
      }
      if (i->data)
        for (auto *e : i->data->expr())
          item.data.push_back(expr(*e));
      if (i->fieldBlock())
        item.block = fieldBlock(*i->fieldBlock());
      block.items.push_back(std::move(item));
    }
    return block;
  }

  std::vector<ast::Argument> arguments(AlignParser::CallArgsContext &ctx) {
    std::vector<ast::Argument> args;
    for (auto *a : ctx.argument()) {
      ast::Argument arg;
      if (a->key) {
        arg.key = a->key->getText();
        arg.keyRange = range(*a->key);
      }
      arg.value = expr(*a->value);
      args.push_back(std::move(arg));
    }
    return args;
  }

  ast::ExprPtr binary(ast::ExprKind kind, antlr4::ParserRuleContext &ctx, std::string op,
                      AlignParser::ExprContext &lhs, AlignParser::ExprContext &rhs) {
    auto e = std::make_unique<ast::Expr>(kind, range(ctx));
    e->text = std::move(op);
    e->operands.push_back(expr(lhs));
    e->operands.push_back(expr(rhs));
    return e;
  }

  ast::ExprPtr expr(AlignParser::ExprContext &ctx) {
    if (auto *n = dynamic_cast<AlignParser::NegateContext *>(&ctx)) {
      auto e = std::make_unique<ast::Expr>(ast::ExprKind::Negate, range(ctx));
      e->operands.push_back(expr(*n->expr()));
      return e;
    }
    if (auto *m = dynamic_cast<AlignParser::MultiplyContext *>(&ctx))
      return binary(ast::ExprKind::Binary, ctx, m->op->getText(), *m->lhs, *m->rhs);
    if (auto *a = dynamic_cast<AlignParser::AddContext *>(&ctx))
      return binary(ast::ExprKind::Binary, ctx, a->op->getText(), *a->lhs, *a->rhs);
    if (auto *w = dynamic_cast<AlignParser::WithContext *>(&ctx))
      return binary(ast::ExprKind::With, ctx, "with", *w->lhs, *w->rhs);
    return primary(*static_cast<AlignParser::AtomContext &>(ctx).primary());
  }

  ast::ExprPtr primary(AlignParser::PrimaryContext &ctx) {
    if (auto *c = dynamic_cast<AlignParser::CallContext *>(&ctx)) {
      auto e = std::make_unique<ast::Expr>(ast::ExprKind::Call, range(ctx));
      e->text = c->callee->getText();
      e->calleeRange = range(c->callee);
      e->args = arguments(*c->callArgs());
      return e;
    }
    if (auto *r = dynamic_cast<AlignParser::ReferenceContext *>(&ctx)) {
      auto e = std::make_unique<ast::Expr>(ast::ExprKind::Ref, range(ctx));
      auto *p = r->path();
      e->path.push_back(p->IDENT()->getText());
      e->pathRanges.push_back(range(p->IDENT()));
      for (auto *n : p->anyName()) {
        e->path.push_back(n->getText());
        e->pathRanges.push_back(range(*n));
      }
      return e;
    }
    if (auto *l = dynamic_cast<AlignParser::ListContext *>(&ctx)) {
      auto e = std::make_unique<ast::Expr>(ast::ExprKind::List, range(ctx));
      for (auto *item : l->expr())
        e->operands.push_back(expr(*item));
      return e;
    }
    if (auto *p = dynamic_cast<AlignParser::ParenContext *>(&ctx)) {
      ast::ExprPtr inner = expr(*p->expr());
      inner->range = range(ctx);
      return inner;
    }
    return literal(*static_cast<AlignParser::ConstantContext &>(ctx).literal());
  }

  ast::ExprPtr literal(AlignParser::LiteralContext &ctx) {
    antlr4::Token *t = ctx.getStart();
    std::string text = t->getText();
    ast::Range r = range(t);
    switch (t->getType()) {
    case AlignParser::TRUE:
    case AlignParser::FALSE: {
      auto e = std::make_unique<ast::Expr>(ast::ExprKind::Bool, r);
      e->boolean = t->getType() == AlignParser::TRUE;
      return e;
    }
    case AlignParser::STRING: {
      auto e = std::make_unique<ast::Expr>(ast::ExprKind::String, r);
      e->text = unescape(text.substr(1, text.size() - 2), r);
      return e;
    }
    case AlignParser::PERCENT:
      return number(ast::ExprKind::Percent, r, text.substr(0, text.size() - 1), 1);
    case AlignParser::ANGLE:
      return number(ast::ExprKind::Angle, r, text.substr(0, text.size() - 3), 1);
    case AlignParser::DURATION: {
      size_t digits = text.find_first_not_of("0123456789.eE+-");
      std::string unit = text.substr(digits);
      double scale = unit == "ms" ? 1e-3 : unit == "s" ? 1 : unit == "min" ? 60 : 3600;
      return number(ast::ExprKind::Duration, r, text.substr(0, digits), scale);
    }
    case AlignParser::SIZE: {
      size_t unitStart = text.size() - (text.back() == 'B' && text[text.size() - 2] == 'i' ? 3 : 2);
      const char prefix = text[unitStart];
      const bool binary = text[unitStart + 1] == 'i';
      const int power = prefix == 'K' ? 1 : prefix == 'M' ? 2 : prefix == 'G' ? 3 : 4;
      return number(ast::ExprKind::Size, r, text.substr(0, unitStart), std::pow(binary ? 1024.0 : 1000.0, power));
    }
    default:
      return number(ast::ExprKind::Number, r, text, 1);
    }
  }

  ast::ExprPtr number(ast::ExprKind kind, ast::Range r, const std::string &digits, double scale) {
    auto e = std::make_unique<ast::Expr>(kind, r);
    e->number = std::strtod(digits.c_str(), nullptr) * scale;
    e->isInteger = kind == ast::ExprKind::Number && digits.find_first_of(".eE") == std::string::npos;
    if (!std::isfinite(e->number)) {
      diags_.error(r, "number is too large");
      e->number = 0;
    }
    return e;
  }

  /// Decodes \" \n \t; keeps \\ \{ \} as written so a template can tell a literal brace or backslash from
  /// a placeholder (Expr::text); reports any other escape.
  std::string unescape(const std::string &raw, ast::Range where) {
    std::string out;
    for (size_t i = 0; i < raw.size(); ++i) {
      if (raw[i] != '\\' || i + 1 >= raw.size()) {
        out += raw[i];
        continue;
      }
      char c = raw[++i];
      if (c == 'n')
        out += '\n';
      else if (c == 't')
        out += '\t';
      else if (c == '{' || c == '}') {
        out += '\\';
        out += c;
      } else if (c == '\\') {
        out += "\\\\"; // kept escaped, like \{ and \}: see Expr::text
      } else if (c == '"')
        out += c;
      else {
        ast::Range at = where;
        at.begin.col += static_cast<uint32_t>(i); // the backslash: the opening quote, then i - 1 bytes
        at.end.col = at.begin.col + 2;
        diags_.error(at, std::string("unknown escape sequence '\\") + c + "' in string")
            .hints.push_back("escapes are \\n \\t \\\" \\\\ \\{ \\}");
      }
    }
    return out;
  }

  const SourceFile &file_;
  DiagnosticEngine &diags_;
};

} // namespace

std::unique_ptr<ast::File> parseFile(const SourceFile &file, DiagnosticEngine &diags, const ParseLimits &limits) {
  if (!checkUtf8(file, diags))
    return nullptr;
  try {
    antlr4::ANTLRInputStream input(file.text());
    AlignLexer lexer(&input);
    LexerErrors lexerErrors(file, diags);
    lexer.removeErrorListeners();
    lexer.addErrorListener(&lexerErrors);
    antlr4::CommonTokenStream tokens(&lexer);
    tokens.fill();
    auto strategy = std::make_shared<ErrorStrategy>(file, diags);
    unsigned before = diags.errorCount();
    if (!checkTokens(file, tokens.getTokens(), limits, diags, *strategy))
      return nullptr;
    for (const Diagnostic &d : diags.diagnostics())
      strategy->suppressAfter(d.range.begin.line); // lexer errors: parser errors there are follow-ons
    bool tokenErrors = diags.errorCount() > before;

    AlignParser parser(&tokens);
    parser.removeErrorListeners();
    parser.setErrorHandler(strategy);
    AlignParser::FileContext *tree = parser.file();
    if (lexerErrors.errors() > 0 || tokenErrors || strategy->errors() > 0)
      return nullptr;
    before = diags.errorCount();
    std::unique_ptr<ast::File> ast = Transformer(file, diags).file(*tree);
    return diags.errorCount() == before ? std::move(ast) : nullptr;
  } catch (const std::exception &e) {
    // The runtime should not throw once input is valid UTF-8; if it does, the user still gets a located error.
    diags.error({{1, 1}, {1, 2}}, std::string("internal parser error: ") + e.what());
    return nullptr;
  }
}

} // namespace align
