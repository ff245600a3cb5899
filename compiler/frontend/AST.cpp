//===- AST.cpp - Small helpers on AST nodes --------------------------------===//

#include "AST.h"
#include "SemaImpl.h"

#include <cmath>
#include <sstream>

namespace align::ast {

const char *declKindName(DeclKind kind) {
  switch (kind) {
  case DeclKind::Tokenizer:
    return "tokenizer";
  case DeclKind::Model:
    return "model";
  case DeclKind::Data:
    return "data";
  case DeclKind::Users:
    return "users";
  case DeclKind::Preference:
    return "preference";
  case DeclKind::Reward:
    return "reward";
  case DeclKind::Adapter:
    return "adapter";
  case DeclKind::Template:
    return "template";
  case DeclKind::Aggregate:
    return "aggregate";
  case DeclKind::Policy:
    return "policy";
  case DeclKind::Reference:
    return "reference";
  }
  return "declaration";
}

std::string plainText(const std::string &text) {
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '\\' && i + 1 < text.size())
      ++i;
    out += text[i];
  }
  return out;
}

std::string sizeText(double bytes) {
  static const char *const units[] = {"TiB", "GiB", "MiB", "KiB"};
  for (int i = 0; i < 4; ++i) {
    const double unit = std::pow(1024.0, 4 - i);
    if (std::fabs(bytes) >= unit && std::fmod(bytes, unit / 16) == 0) {
      std::ostringstream os;
      os << bytes / unit << units[i];
      return os.str();
    }
  }
  std::ostringstream os;
  os.precision(15);
  os << bytes << " bytes";
  return os.str();
}

const Argument *Expr::arg(const std::string &key) const {
  for (const Argument &a : args)
    if (a.key == key)
      return &a;
  return nullptr;
}

const Field *FieldBlock::find(const std::string &key) const {
  for (const Field &f : fields)
    if (f.key == key)
      return &f;
  return nullptr;
}

const Field *Decl::param(const std::string &key) const {
  for (const Field &f : params)
    if (f.key == key)
      return &f;
  return nullptr;
}

} // namespace align::ast

namespace align::sema {

ast::ExprPtr cloneExpr(const ast::Expr &e) {
  auto out = std::make_unique<ast::Expr>(e.kind, e.range);
  out->number = e.number;
  out->boolean = e.boolean;
  out->isInteger = e.isInteger;
  out->text = e.text;
  out->calleeRange = e.calleeRange;
  out->path = e.path;
  out->pathRanges = e.pathRanges;
  for (const ast::Argument &a : e.args)
    out->args.push_back(ast::Argument{a.key, a.keyRange, cloneExpr(*a.value), a.isDefault});
  for (const ast::ExprPtr &o : e.operands)
    out->operands.push_back(cloneExpr(*o));
  out->target = e.target;
  out->decl = e.decl;
  out->stage = e.stage;
  out->family = e.family;
  return out;
}

static std::string number(double v) {
  std::ostringstream os;
  os.precision(12);
  os << v;
  return os.str();
}

std::string spell(const ast::Expr &e) {
  switch (e.kind) {
  case ast::ExprKind::Number:
    return number(e.number);
  case ast::ExprKind::Percent:
    return number(e.number) + "%";
  case ast::ExprKind::Angle:
    return number(e.number) + "deg";
  case ast::ExprKind::Duration:
    return number(e.number) + "s";
  case ast::ExprKind::Size:
    return ast::sizeText(e.number);
  case ast::ExprKind::String: {
    // The text keeps the template escapes \\ \{ \} as written (see Expr::text), so they print as is.
    std::string out = "\"";
    for (char c : e.text) {
      if (c == '\n')
        out += "\\n";
      else if (c == '\t')
        out += "\\t";
      else if (c == '"')
        out += "\\\"";
      else
        out += c;
    }
    return out + "\"";
  }
  case ast::ExprKind::Bool:
    return e.boolean ? "true" : "false";
  case ast::ExprKind::Ref: {
    std::string out;
    for (const std::string &s : e.path)
      out += (out.empty() ? "" : ".") + s;
    return out;
  }
  case ast::ExprKind::Call: {
    std::string out = e.text + "(";
    bool first = true;
    for (const ast::Argument &a : e.args) {
      if (a.isDefault)
        continue;
      out += (first ? "" : ", ") + (a.key.empty() ? "" : a.key + ": ") + spell(*a.value);
      first = false;
    }
    return out + ")";
  }
  case ast::ExprKind::List: {
    std::string out = "[";
    for (size_t i = 0; i < e.operands.size(); ++i)
      out += (i ? ", " : "") + spell(*e.operands[i]);
    return out + "]";
  }
  case ast::ExprKind::Negate: {
    const ast::Expr &operand = *e.operands[0];
    bool simple = operand.kind != ast::ExprKind::Negate && operand.kind != ast::ExprKind::Binary;
    return simple ? "-" + spell(operand) : "-(" + spell(operand) + ")";
  }
  case ast::ExprKind::Binary:
  case ast::ExprKind::With:
    return "(" + spell(*e.operands[0]) + " " + e.text + " " + spell(*e.operands[1]) + ")";
  }
  return "?";
}

} // namespace align::sema
