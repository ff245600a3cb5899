//===- SemaValues.cpp - Names, constants and values against the schema ----===//

#include "Parse.h"
#include "SemaImpl.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <sstream>

namespace align::sema {

namespace {

std::vector<std::string> splitBar(const std::string &s) {
  std::vector<std::string> out;
  size_t start = 0;
  for (size_t bar; (bar = s.find('|', start)) != std::string::npos; start = bar + 1)
    out.push_back(s.substr(start, bar - start));
  out.push_back(s.substr(start));
  return out;
}

std::string joinOr(const std::vector<std::string> &words) {
  std::string out;
  for (size_t i = 0; i < words.size(); ++i)
    out += (i == 0 ? "" : i + 1 == words.size() ? " or " : ", ") + words[i];
  return out;
}


/// What the user wrote, in words, for "expected X, got Y" messages.
std::string whatIs(const ast::Expr &e) {
  switch (e.kind) {
  case ast::ExprKind::Number:
    return "the number " + spell(e);
  case ast::ExprKind::Percent:
    return "the percentage " + spell(e);
  case ast::ExprKind::Angle:
    return "the angle " + spell(e);
  case ast::ExprKind::Duration:
    return "a duration";
  case ast::ExprKind::Size:
    return "the size " + spell(e);
  case ast::ExprKind::String:
    return "a string";
  case ast::ExprKind::Bool:
    return spell(e);
  case ast::ExprKind::Ref:
    return "the name '" + spell(e) + "'";
  case ast::ExprKind::Call:
    return "a call to '" + e.text + "'";
  case ast::ExprKind::List:
    return "a list";
  case ast::ExprKind::Negate:
    if (e.operands[0]->kind == ast::ExprKind::Number || e.operands[0]->kind == ast::ExprKind::Percent ||
        e.operands[0]->kind == ast::ExprKind::Angle) {
      std::string inner = whatIs(*e.operands[0]); // "the number 30" → "the number -30"
      return inner.insert(inner.rfind(' ') + 1, "-");
    }
    return "the expression " + spell(e);
  case ast::ExprKind::Binary:
    return "the expression " + spell(e); // spell() parenthesises binary expressions itself
  case ast::ExprKind::With:
    return "a 'with' expression";
  }
  return "a value";
}

std::string number(double v) {
  std::ostringstream os;
  os.precision(10);
  os << v;
  return os.str();
}

void setRanges(ast::Expr &e, ast::Range r) {
  e.range = r;
  e.calleeRange = r;
  for (ast::Range &p : e.pathRanges)
    p = r;
  for (ast::Argument &a : e.args) {
    a.keyRange = r;
    setRanges(*a.value, r);
  }
  for (ast::ExprPtr &o : e.operands)
    setRanges(*o, r);
}

} // namespace

std::string article(const std::string &word) { return schema::withArticle(word); }

std::optional<Symbol> Sema::lookup(const std::string &name) const {
  if (stage_) {
    auto scope = stageScopes_.find(stage_);
    if (scope != stageScopes_.end()) {
      auto it = scope->second.find(name);
      if (it != scope->second.end())
        return it->second;
    }
  }
  auto it = recipeScope_.find(name);
  if (it != recipeScope_.end())
    return it->second;
  return std::nullopt;
}

std::vector<std::string> Sema::visibleNames() const {
  std::vector<std::string> out;
  for (const auto &[name, _] : recipeScope_)
    out.push_back(name);
  if (stage_) {
    auto scope = stageScopes_.find(stage_);
    if (scope != stageScopes_.end())
      for (const auto &[name, _] : scope->second)
        out.push_back(name);
  }
  return out;
}

void Sema::addEdge(const Symbol &target, ast::Range where) {
  const void *from = decl_ ? static_cast<const void *>(decl_) : static_cast<const void *>(stage_);
  const void *to = target.decl ? static_cast<const void *>(target.decl) : static_cast<const void *>(target.stage);
  if (from)
    edges_[from].push_back({to, where});
}

bool Sema::resolveRef(ast::Expr &expr, const std::string &kinds, const std::string &what) {
  std::vector<std::string> allowed = splitBar(kinds);
  std::vector<std::string> words;
  for (const std::string &k : allowed)
    words.push_back(article(k));
  if (expr.kind != ast::ExprKind::Ref) {
    diags_.error(expr.range, what + " needs the name of " + joinOr(words) + ", got " + whatIs(expr));
    return false;
  }
  const std::string &name = expr.path[0];
  std::optional<Symbol> symbol = lookup(name);
  if (!symbol) {
    auto &d = diags_.error(expr.pathRanges[0], "unknown name '" + name + "'");
    std::vector<std::string> candidates;
    for (const std::string &n : visibleNames())
      if (std::find(allowed.begin(), allowed.end(), lookup(n)->kind()) != allowed.end())
        candidates.push_back(n);
    std::string guess = closestMatch(name, candidates);
    if (!guess.empty())
      d.hints.push_back("did you mean '" + guess + "'?");
    return false;
  }
  std::string kind = symbol->kind();
  bool kindOk = false;
  for (const std::string &k : allowed)
    kindOk |= k == kind;
  if (!kindOk) {
    auto &d = diags_.error(expr.pathRanges[0], "'" + name + "' is " + article(kind) + ", but " + what +
                                                   " needs " + joinOr(words));
    d.notes.push_back({symbol->range(), "'" + name + "' is declared here"});
    return false;
  }
  if (expr.path.size() > 1) {
    if (!symbol->decl || symbol->decl->kind != ast::DeclKind::Data) {
      diags_.error(expr.pathRanges[1], "'" + name + "' has no member '" + expr.path[1] + "'");
      return false;
    }
    if (expr.path.size() > 2) {
      diags_.error(expr.pathRanges[2], "split '" + name + "." + expr.path[1] + "' has no member '" + expr.path[2] + "'");
      return false;
    }
    std::vector<std::string> splits{"train"};
    if (symbol->decl->block)
      for (const ast::Split &s : symbol->decl->block->splits)
        splits.push_back(s.name);
    bool found = false;
    for (const std::string &s : splits)
      found |= s == expr.path[1];
    if (!found) {
      auto &d = diags_.error(expr.pathRanges[1], "data '" + name + "' has no split '" + expr.path[1] + "'");
      std::string guess = closestMatch(expr.path[1], splits);
      if (!guess.empty())
        d.hints.push_back("did you mean '" + guess + "'?");
      else
        d.hints.push_back("declare it in the data block: `split " + expr.path[1] + " = 10%;`");
      d.notes.push_back({symbol->range(), "'" + name + "' is declared here"});
      return false;
    }
  }
  expr.target = symbol->decl ? (expr.path.size() > 1 ? ast::RefTarget::DataSplit : ast::RefTarget::Decl)
                             : ast::RefTarget::Stage;
  expr.decl = symbol->decl;
  expr.stage = symbol->stage;
  addEdge(*symbol, expr.range);
  return true;
}

std::optional<Constant> Sema::fold(const ast::Expr &e, bool report) {
  switch (e.kind) {
  case ast::ExprKind::Number:
  case ast::ExprKind::Percent:
  case ast::ExprKind::Angle:
  case ast::ExprKind::Duration:
  case ast::ExprKind::Size:
    return Constant{e.number, e.kind, e.kind == ast::ExprKind::Number && e.isInteger};
  case ast::ExprKind::Negate: {
    auto c = fold(*e.operands[0], report);
    if (c)
      c->value = -c->value;
    return c;
  }
  case ast::ExprKind::Binary: {
    auto a = fold(*e.operands[0], report), b = fold(*e.operands[1], report);
    if (!a || !b)
      return std::nullopt;
    Constant out;
    char op = e.text[0];
    if (op == '+' || op == '-') {
      if (a->unit != b->unit) {
        if (report)
          diags_.error(e.range, "cannot " + std::string(op == '+' ? "add" : "subtract") + " values of different units");
        return std::nullopt;
      }
      out = {op == '+' ? a->value + b->value : a->value - b->value, a->unit, a->integer && b->integer};
    } else if (op == '*') {
      if (a->unit != ast::ExprKind::Number && b->unit != ast::ExprKind::Number) {
        if (report)
          diags_.error(e.range, "cannot multiply two values that both carry units");
        return std::nullopt;
      }
      out = {a->value * b->value, a->unit != ast::ExprKind::Number ? a->unit : b->unit, a->integer && b->integer};
    } else {
      if (b->unit != ast::ExprKind::Number) {
        if (report)
          diags_.error(e.operands[1]->range, "cannot divide by a value with a unit");
        return std::nullopt;
      }
      if (b->value == 0) {
        if (report)
          diags_.error(e.operands[1]->range, "division by zero");
        return std::nullopt;
      }
      out = {a->value / b->value, a->unit, false};
    }
    if (!std::isfinite(out.value)) {
      if (report)
        diags_.error(e.range, "number is too large");
      return std::nullopt;
    }
    return out;
  }
  default:
    return std::nullopt;
  }
}

ast::ExprPtr Sema::defaultValue(const schema::Param &param, ast::Range site) {
  // Defaults are written as recipe source text in the table and parsed once by the real parser, so a
  // default can never be something a user could not write.
  static std::map<const schema::Param *, ast::ExprPtr> cache;
  auto it = cache.find(&param);
  if (it == cache.end()) {
    SourceFile source("<default of '" + param.name + "'>", "recipe d { template t = " + *param.defaultValue + "; }");
    DiagnosticEngine scratch(source);
    std::unique_ptr<ast::File> file = parseFile(source, scratch);
    ast::ExprPtr value = file ? std::move(file->recipes[0].decls[0]->value)
                              : std::make_unique<ast::Expr>(ast::ExprKind::String, ast::Range{});
    it = cache.emplace(&param, std::move(value)).first;
  }
  ast::ExprPtr out = cloneExpr(*it->second);
  setRanges(*out, site);
  return out;
}

bool Sema::checkValue(ast::ExprPtr &value, const schema::Param &param, const std::string &owner) {
  using schema::Ty;
  std::string what = "'" + param.name + "'" + (owner.empty() ? "" : " of '" + owner + "'");
  auto mismatch = [&](const std::string &expected) {
    diags_.error(value->range, what + " expects " + expected + ", got " + whatIs(*value));
    return false;
  };
  auto inRange = [&](double v, const std::string &text) {
    bool ok = true;
    if (param.min)
      ok &= param.minOpen ? v > *param.min : v >= *param.min;
    if (param.max)
      ok &= param.maxOpen ? v < *param.max : v <= *param.max;
    if (!ok) {
      std::string rule = schema::bounds(param);
      diags_.error(value->range, what + " must be " + (rule[0] == '[' || rule[0] == '(' ? "in " : "") + rule +
                                     ", got " + text);
    }
    return ok;
  };

  switch (param.type) {
  case Ty::Int:
  case Ty::Number:
  case Ty::Percent:
  case Ty::Angle:
  case Ty::Duration:
  case Ty::Size:
  case Ty::Interval: {
    ast::ExprKind unit = param.type == Ty::Percent    ? ast::ExprKind::Percent
                         : param.type == Ty::Angle    ? ast::ExprKind::Angle
                         : param.type == Ty::Duration ? ast::ExprKind::Duration
                         : param.type == Ty::Size     ? ast::ExprKind::Size
                                                      : ast::ExprKind::Number;
    unsigned before = diags_.errorCount();
    std::optional<Constant> c = fold(*value, true);
    if (!c)
      return diags_.errorCount() == before ? mismatch(schema::describe(param)) : false;
    if (param.type == Ty::Interval && c->unit == ast::ExprKind::Duration)
      unit = ast::ExprKind::Duration;
    if (c->unit != unit)
      return mismatch(schema::describe(param));
    if (param.type == Ty::Int && std::floor(c->value) != c->value) // 1e5 and 4 / 2 are integers
      return mismatch("an integer");
    if ((param.type == Ty::Int || param.type == Ty::Interval) && std::fabs(c->value) > kMaxInteger) {
      diags_.error(value->range, what + " is too large, got " + number(c->value));
      return false;
    }
    if (param.type == Ty::Interval && unit == ast::ExprKind::Number && std::floor(c->value) != c->value)
      return mismatch("a whole number of steps or a duration");
    if (param.type == Ty::Percent && (c->value <= 0 || c->value >= 100)) {
      diags_.error(value->range, what + " must be a percentage in (0%, 100%), got " + number(c->value) + "%");
      return false;
    }
    if (unit == ast::ExprKind::Size)
      return inRange(c->value, ast::sizeText(c->value));
    std::string suffix = unit == ast::ExprKind::Percent ? "%" : unit == ast::ExprKind::Angle ? "deg" : unit == ast::ExprKind::Duration ? "s" : "";
    return inRange(c->value, number(c->value) + suffix);
  }
  case Ty::String:
    return value->kind == ast::ExprKind::String ? true : mismatch("a string");
  case Ty::Bool:
    return value->kind == ast::ExprKind::Bool ? true : mismatch("true or false");
  case Ty::Scalar:
    if (value->kind == ast::ExprKind::String || value->kind == ast::ExprKind::Bool || fold(*value, false))
      return true;
    return mismatch("a string, number or bool");
  case Ty::Enum: {
    std::vector<std::string> options = splitBar(param.detail);
    std::string word;
    if (value->kind == ast::ExprKind::String)
      word = value->text;
    else if (value->kind == ast::ExprKind::Ref && value->path.size() == 1)
      word = value->path[0];
    else
      return mismatch(schema::describe(param));
    for (const std::string &o : options)
      if (o == word) {
        value->target = ast::RefTarget::Enum;
        return true;
      }
    auto &d = diags_.error(value->range, "unknown value '" + word + "' for " + what + "; expected " + joinOr(options));
    std::string guess = closestMatch(word, options);
    if (!guess.empty())
      d.hints.push_back("did you mean '" + guess + "'?");
    return false;
  }
  case Ty::Name:
    if (value->kind == ast::ExprKind::Ref && value->path.size() == 1)
      return true;
    return mismatch("a name");
  case Ty::Ref:
    return resolveRef(*value, param.detail, what);
  case Ty::Call:
    if (value->kind == ast::ExprKind::Ref && value->path.size() == 1 &&
        (schema::find(param.detail, value->path[0]) || !lookup(value->path[0]))) {
      // A bare constructor name is a call with no arguments: `optimizer: adamw`.
      auto call = std::make_unique<ast::Expr>(ast::ExprKind::Call, value->range);
      call->text = value->path[0];
      call->calleeRange = value->range;
      value = std::move(call);
    }
    if (value->kind != ast::ExprKind::Call)
      return mismatch(schema::describe(param));
    return checkCall(*value, param.detail, what);
  case Ty::List: {
    if (value->kind != ast::ExprKind::List)
      return mismatch(schema::describe(param));
    if (param.length && value->operands.size() != *param.length) {
      diags_.error(value->range, what + " expects exactly " + std::to_string(*param.length) + " items, got " +
                                     std::to_string(value->operands.size()));
      return false;
    }
    schema::Param element = param;
    element.type = param.element;
    element.length.reset();
    bool ok = true;
    for (ast::ExprPtr &item : value->operands)
      ok &= checkValue(item, element, owner);
    return ok;
  }
  }
  return false;
}

bool Sema::checkCall(ast::Expr &call, const std::string &family, const std::string &what) {
  const schema::Constructor *ctor = schema::find(family, call.text);
  if (!ctor) {
    auto &d = diags_.error(call.calleeRange, "unknown " + family + " '" + call.text + "'" +
                                                 (what.empty() ? "" : " for " + what));
    std::string guess = closestMatch(call.text, schema::names(family));
    if (!guess.empty())
      d.hints.push_back("did you mean '" + guess + "'?");
    else {
      std::string all;
      for (const std::string &n : schema::names(family))
        all += (all.empty() ? "" : ", ") + n;
      d.hints.push_back("known: " + all);
    }
    for (const schema::Constructor &other : schema::constructors())
      if (other.name == call.text && other.family != family) {
        d.hints.push_back("'" + call.text + "' is " + article(other.family) + ", not " + article(family));
        break;
      }
    return false;
  }
  std::vector<Provided> provided;
  for (ast::Argument &a : call.args)
    provided.push_back(Provided{a.key, a.keyRange, std::move(a.value)});
  call.args.clear();
  unsigned before = diags_.errorCount();
  for (ast::Field &f : checkParams(*ctor, std::move(provided), call.range, call.text))
    call.args.push_back(ast::Argument{f.key, f.keyRange, std::move(f.value), f.isDefault});
  call.family = family;
  return diags_.errorCount() == before;
}

std::vector<ast::Field> Sema::checkParams(const schema::Constructor &ctor, std::vector<Provided> provided,
                                          ast::Range site, const std::string &owner) {
  std::map<std::string, size_t> given; // param name → index into provided
  bool sawNamed = false;
  size_t positional = 0;
  std::vector<std::string> paramNames;
  for (const schema::Param &p : ctor.params)
    paramNames.push_back(p.name);
  for (size_t i = 0; i < provided.size(); ++i) {
    Provided &p = provided[i];
    if (p.key.empty()) {
      if (sawNamed) {
        diags_.error(p.value->range, "positional argument after a named one in '" + owner + "'");
        continue;
      }
      if (positional >= ctor.params.size()) {
        diags_.error(p.value->range, "too many arguments to '" + owner + "' (it takes " +
                                         std::to_string(ctor.params.size()) + ")");
        continue;
      }
      p.key = ctor.params[positional++].name;
      p.keyRange = p.value->range;
    } else {
      sawNamed = true;
    }
    if (!schema::find(ctor.family, ctor.name) ||
        std::find(paramNames.begin(), paramNames.end(), p.key) == paramNames.end()) {
      auto &d = diags_.error(p.keyRange, "unknown parameter '" + p.key + "' of '" + owner + "'");
      std::string guess = closestMatch(p.key, paramNames);
      if (!guess.empty())
        d.hints.push_back("did you mean '" + guess + "'?");
      else if (paramNames.empty())
        d.hints.push_back("'" + owner + "' takes no parameters");
      else {
        std::string all;
        for (const std::string &n : paramNames)
          all += (all.empty() ? "" : ", ") + n;
        d.hints.push_back("'" + owner + "' takes: " + all);
      }
      continue;
    }
    auto [it, inserted] = given.emplace(p.key, i);
    if (!inserted) {
      auto &d = diags_.error(p.keyRange, "'" + p.key + "' is given twice");
      d.notes.push_back({provided[it->second].keyRange, "first given here"});
    }
  }

  std::vector<ast::Field> out;
  for (const schema::Param &param : ctor.params) {
    auto it = given.find(param.name);
    if (it != given.end()) {
      Provided &p = provided[it->second];
      checkValue(p.value, param, owner);
      out.push_back(ast::Field{param.name, p.keyRange, std::move(p.value), false});
    } else if (param.required) {
      auto &d = diags_.error(site, "missing required parameter '" + param.name + "' of '" + owner + "'");
      d.hints.push_back("add `" + param.name + ": ...` (" + schema::describe(param) + ")");
    } else if (param.defaultValue) {
      ast::ExprPtr value = defaultValue(param, site);
      checkValue(value, param, owner);
      out.push_back(ast::Field{param.name, site, std::move(value), true});
    }
  }
  return out;
}

} // namespace align::sema
