//===- ASTDump.cpp - Print the checked AST (`alignc --emit=ast`) ----------===//
//
// One node per line, indented by nesting, with its source position; values Sema filled from the defaults
// table are marked `(default)`, resolved references show what they name, and each stage lists its
// effective schedule with where every value came from (stage, recipe or default).
//
//===----------------------------------------------------------------------===//

#include "ASTDump.h"
#include "SemaImpl.h"

namespace align {
namespace {

class Dumper {
public:
  explicit Dumper(std::ostream &os) : os_(os) {}

  void file(const ast::File &f) {
    for (const ast::Recipe &r : f.recipes)
      recipe(r);
  }

private:
  std::ostream &line(unsigned depth) {
    for (unsigned i = 0; i < depth; ++i)
      os_ << "  ";
    return os_;
  }
  static std::string at(ast::Range r) {
    return " <" + std::to_string(r.begin.line) + ":" + std::to_string(r.begin.col) + ">";
  }

  void recipe(const ast::Recipe &r) {
    line(0) << "recipe " << r.name << at(r.nameRange) << "\n";
    for (const ast::DeclPtr &d : r.decls)
      decl(*d, 1);
    for (const ast::FieldBlock &s : r.schedules) {
      line(1) << "schedule" << at(s.range) << "\n";
      for (const ast::Field &f : s.fields)
        field(f, 2, "");
    }
    for (const ast::StagePtr &s : r.stages)
      stage(*s, 1);
    for (const ast::EvalBlock &e : r.evals)
      eval(e, 1);
  }

  void decl(const ast::Decl &d, unsigned depth) {
    line(depth) << ast::declKindName(d.kind) << " " << d.name;
    if (d.constructor.empty()) {
      os_ << " = " << value(*d.value) << at(d.nameRange) << "\n";
      return;
    }
    os_ << " = " << d.constructor << at(d.nameRange) << "\n";
    for (const ast::Field &f : d.params)
      field(f, depth + 1, "");
    if (d.block)
      for (const ast::Split &s : d.block->splits) {
        line(depth + 1) << "split " << s.name << " = " << value(*s.value);
        if (!s.by.empty())
          os_ << " by " << s.by;
        os_ << at(s.range) << "\n";
      }
  }

  void field(const ast::Field &f, unsigned depth, const std::string &origin) {
    line(depth) << f.key << ": ";
    if (f.value->kind == ast::ExprKind::Call) {
      os_ << f.value->text << "()" << suffix(f.isDefault, origin) << "\n";
      for (const ast::Argument &a : f.value->args)
        field(ast::Field{a.key, a.keyRange, sema::cloneExpr(*a.value), a.isDefault}, depth + 1, "");
      return;
    }
    os_ << value(*f.value) << suffix(f.isDefault, origin) << "\n";
  }

  static std::string suffix(bool isDefault, const std::string &origin) {
    if (!origin.empty())
      return "  (" + origin + ")";
    return isDefault ? "  (default)" : "";
  }

  /// Values on one line; references show what they resolved to.
  std::string value(const ast::Expr &e) {
    switch (e.kind) {
    case ast::ExprKind::Ref: {
      std::string out = sema::spell(e);
      if (e.target == ast::RefTarget::Decl)
        out += " -> " + std::string(ast::declKindName(e.decl->kind));
      else if (e.target == ast::RefTarget::DataSplit)
        out += " -> data split";
      else if (e.target == ast::RefTarget::Stage)
        out += " -> stage";
      return out;
    }
    case ast::ExprKind::Call: {
      std::string out = e.text + "(";
      bool first = true;
      for (const ast::Argument &a : e.args) {
        out += (first ? "" : ", ") + a.key + ": " + value(*a.value) + (a.isDefault ? "*" : "");
        first = false;
      }
      return out + ")";
    }
    case ast::ExprKind::List: {
      std::string out = "[";
      for (size_t i = 0; i < e.operands.size(); ++i)
        out += (i ? ", " : "") + value(*e.operands[i]);
      return out + "]";
    }
    case ast::ExprKind::With:
      return value(*e.operands[0]) + " with " + value(*e.operands[1]);
    default:
      return sema::spell(e);
    }
  }

  void stage(const ast::Stage &s, unsigned depth) {
    line(depth) << "stage " << s.name << at(s.nameRange) << "\n";
    if (s.init)
      line(depth + 1) << "init from " << s.init->source << at(s.init->range) << "\n";
    for (const ast::DeclPtr &d : s.decls)
      decl(*d, depth + 1);
    for (const ast::TrainItem &t : s.trains) {
      line(depth + 1) << "train " << t.target;
      if (t.targetDecl)
        os_ << " -> " << ast::declKindName(t.targetDecl->kind);
      os_ << " on ";
      for (size_t i = 0; i < t.data.size(); ++i)
        os_ << (i ? ", " : "") << value(*t.data[i]);
      os_ << at(t.range) << "\n";
    }
    for (const auto &[range, objective] : s.objectives) {
      line(depth + 1) << "objective" << at(range) << "\n";
      objectiveTerm(*objective, depth + 2);
    }
    for (const ast::Loop &l : s.loops) {
      line(depth + 1) << "loop " << l.kind << at(l.range) << "\n";
      for (const ast::Field &f : l.block.fields)
        field(f, depth + 2, "");
    }
    if (!s.effectiveSchedule.empty()) {
      line(depth + 1) << "schedule (effective)\n";
      for (size_t i = 0; i < s.effectiveSchedule.size(); ++i)
        field(s.effectiveSchedule[i], depth + 2, s.scheduleOrigin[i]);
    }
    for (const ast::EvalBlock &e : s.evals)
      eval(e, depth + 1);
  }

  void objectiveTerm(const ast::Expr &e, unsigned depth) {
    if (e.kind == ast::ExprKind::Binary) {
      line(depth) << "'" << e.text << "'\n";
      objectiveTerm(*e.operands[0], depth + 1);
      objectiveTerm(*e.operands[1], depth + 1);
      return;
    }
    if (e.kind == ast::ExprKind::Call) {
      line(depth) << e.text << "\n";
      for (const ast::Argument &a : e.args)
        field(ast::Field{a.key, a.keyRange, sema::cloneExpr(*a.value), a.isDefault}, depth + 1, "");
      return;
    }
    line(depth) << value(e) << "\n";
  }

  void eval(const ast::EvalBlock &b, unsigned depth) {
    line(depth) << "eval" << at(b.range) << "\n";
    for (const ast::EvalItem &i : b.items) {
      line(depth + 1) << i.metric;
      if (!i.by.empty())
        os_ << " by " << i.by;
      if (!i.data.empty()) {
        os_ << " on ";
        for (size_t k = 0; k < i.data.size(); ++k)
          os_ << (k ? ", " : "") << value(*i.data[k]);
      }
      os_ << at(i.range) << "\n";
      for (const ast::Argument &a : i.args)
        field(ast::Field{a.key, a.keyRange, sema::cloneExpr(*a.value), a.isDefault}, depth + 2, "");
    }
  }

  std::ostream &os_;
};

} // namespace

void dumpAST(const ast::File &file, std::ostream &os) { Dumper(os).file(file); }

} // namespace align
