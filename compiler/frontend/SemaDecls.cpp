//===- SemaDecls.cpp - Declarations: scopes, constructors, cross checks ---===//

#include "SemaImpl.h"

#include <algorithm>
#include <cmath>

namespace align::sema {

namespace {

std::string familyOf(ast::DeclKind kind) { return ast::declKindName(kind); }

const ast::Expr *paramValue(const ast::Decl &decl, const std::string &key) {
  const ast::Field *f = decl.param(key);
  return f ? f->value.get() : nullptr;
}

} // namespace

void Sema::declare(ast::Decl &decl) {
  auto &scope = stage_ ? stageScopes_[stage_] : recipeScope_;
  const Symbol *previous = nullptr;
  if (auto it = scope.find(decl.name); it != scope.end())
    previous = &it->second;
  else if (auto outer = recipeScope_.find(decl.name); stage_ && outer != recipeScope_.end())
    previous = &outer->second;
  if (previous) {
    auto &d = diags_.error(decl.nameRange, "redefinition of '" + decl.name + "'");
    d.notes.push_back({previous->range(), "previous definition is here"});
    return;
  }
  scope[decl.name] = Symbol{&decl, nullptr};
  if (stage_) // a stage uses what it declares, so order checks see through stage-local declarations
    edges_[stage_].push_back({&decl, decl.nameRange});
  nodeNames_[&decl] = std::string(ast::declKindName(decl.kind)) + " '" + decl.name + "'";
}

void Sema::declareStage(ast::Stage &stage) {
  auto previous = recipeScope_.find(stage.name);
  if (previous != recipeScope_.end()) {
    auto &d = diags_.error(stage.nameRange, "redefinition of '" + stage.name + "'");
    d.notes.push_back({previous->second.range(), "previous definition is here"});
    return;
  }
  recipeScope_[stage.name] = Symbol{nullptr, &stage};
  nodeNames_[&stage] = "stage '" + stage.name + "'";
}

bool Sema::dataHasColumn(const ast::Decl &data, const std::string &column) const {
  const ast::Field *f = data.param(column);
  return f && !f->isDefault;
}

void Sema::checkDecl(ast::Decl &decl) {
  decl_ = &decl;
  if (decl.kind == ast::DeclKind::Template) {
    if (decl.value->kind != ast::ExprKind::String)
      diags_.error(decl.value->range, "a template is a string, e.g. `template t = \"## Human:\\n{prompt}\";`");
    else
      checkTemplate(decl, nullptr, "", {});
    if (decl.block)
      diags_.error(decl.block->range, "a template takes no block");
    decl_ = nullptr;
    return;
  }
  if (decl.kind == ast::DeclKind::Policy) {
    checkPolicy(decl);
    decl_ = nullptr;
    return;
  }

  std::string family = familyOf(decl.kind);
  ast::ExprPtr &value = decl.value;
  if (value->kind == ast::ExprKind::Ref && value->path.size() == 1 && schema::find(family, value->path[0])) {
    auto call = std::make_unique<ast::Expr>(ast::ExprKind::Call, value->range);
    call->text = value->path[0];
    call->calleeRange = value->range;
    value = std::move(call);
  }
  if (value->kind != ast::ExprKind::Call) {
    auto &d = diags_.error(value->range, "a " + family + " is built by a constructor call, got " + spell(*value));
    std::string all;
    for (const std::string &n : schema::names(family))
      all += (all.empty() ? "" : ", ") + n;
    d.hints.push_back(family + " constructors: " + all);
    decl_ = nullptr;
    return;
  }
  const schema::Constructor *ctor = schema::find(family, value->text);
  if (!ctor) {
    checkCall(*value, family, ""); // reports the unknown constructor with hints
    decl_ = nullptr;
    return;
  }
  if (decl.block && !ctor->takesBlock && (!decl.block->fields.empty() || !decl.block->splits.empty()))
    diags_.error(decl.block->range, "'" + ctor->name + "' takes no block; give its parameters in the parentheses");

  std::vector<Provided> provided;
  for (ast::Argument &a : value->args)
    provided.push_back(Provided{a.key, a.keyRange, std::move(a.value)});
  value->args.clear();
  if (decl.block && ctor->takesBlock)
    for (ast::Field &f : decl.block->fields)
      provided.push_back(Provided{f.key, f.keyRange, std::move(f.value)});
  if (decl.block)
    decl.block->fields.clear();
  decl.params = checkParams(*ctor, std::move(provided), value->range, ctor->name);
  decl.constructor = ctor->name;
  value->family = family;

  // Names listed in `objectives:` / `ratings:` must be distinct.
  for (const char *key : {"objectives", "ratings"})
    if (const ast::Expr *list = paramValue(decl, key); list && list->kind == ast::ExprKind::List)
      for (size_t i = 0; i < list->operands.size(); ++i)
        for (size_t j = 0; j < i; ++j)
          if (spell(*list->operands[i]) == spell(*list->operands[j])) {
            auto &d = diags_.error(list->operands[i]->range, "'" + spell(*list->operands[i]) + "' is listed twice");
            d.notes.push_back({list->operands[j]->range, "first listed here"});
          }

  switch (decl.kind) {
  case ast::DeclKind::Model: {
    const ast::Field *preset = decl.param("preset"), *checkpoint = decl.param("checkpoint");
    if (preset && !preset->isDefault && checkpoint) {
      auto &d = diags_.error(preset->keyRange, "'preset' and 'checkpoint' exclude each other");
      d.notes.push_back({checkpoint->keyRange, "checkpoint given here"});
    }
    break;
  }
  case ast::DeclKind::Data:
    checkSplits(decl);
    if (const ast::Expr *t = paramValue(decl, "template"); t && t->decl) {
      static const std::set<std::string> fields{"prompt", "response", "system"};
      checkTemplate(*t->decl, &fields, "data '" + decl.name + "'", t->range);
    }
    if (const ast::Expr *against = paramValue(decl, "against"); against && against->kind == ast::ExprKind::List)
      if (const ast::Expr *preferred = paramValue(decl, "preferred"))
        for (const ast::ExprPtr &a : against->operands)
          if (a->kind == ast::ExprKind::String && a->text == preferred->text)
            diags_.error(a->range, "domain '" + a->text + "' is the preferred one; it cannot also be compared against");
    break;
  case ast::DeclKind::Preference:
    if (ctor->name == "direction")
      checkDirection(decl);
    break;
  case ast::DeclKind::Aggregate:
    checkAggregate(decl);
    break;
  default:
    break;
  }
  decl_ = nullptr;
}

void Sema::checkPolicy(ast::Decl &decl) {
  if (decl.block)
    diags_.error(decl.block->range, "a policy takes no block");
  // Flatten `base with a with b` into the base and its attachments.
  std::vector<ast::ExprPtr *> parts;
  ast::ExprPtr *cursor = &decl.value;
  while ((*cursor)->kind == ast::ExprKind::With) {
    parts.push_back(&(*cursor)->operands[1]);
    cursor = &(*cursor)->operands[0];
  }
  std::reverse(parts.begin(), parts.end());
  resolveRef(**cursor, "model|stage|reward|policy", "policy '" + decl.name + "'");
  const ast::Expr *users = nullptr, *preference = nullptr;
  for (ast::ExprPtr *part : parts) {
    if (!resolveRef(**part, "users|adapter|preference", "'with'"))
      continue;
    const ast::Decl *d = (*part)->decl;
    if (d->kind == ast::DeclKind::Adapter) {
      for (ast::ExprPtr *other : parts) {
        if (other == part)
          break;
        if ((*other)->decl == d) {
          auto &diag = diags_.error((*part)->range, "adapter '" + d->name + "' is attached twice");
          diag.notes.push_back({(*other)->range, "first attached here"});
          break;
        }
      }
      continue;
    }
    const ast::Expr *&slot = d->kind == ast::DeclKind::Users ? users : preference;
    if (slot) {
      auto &diag = diags_.error((*part)->range, "policy '" + decl.name + "' already has " +
                                                    std::string(ast::declKindName(d->kind)) + " '" + spell(*slot) + "'");
      diag.notes.push_back({slot->range, "first attached here"});
      continue;
    }
    slot = part->get();
    if (d->kind == ast::DeclKind::Preference && !d->constructor.empty() && d->constructor != "direction") {
      auto &diag = diags_.error((*part)->range, "a policy can be conditioned on a `direction` preference, but '" +
                                                    d->name + "' is " + d->constructor);
      if (d->constructor == "latent")
        diag.hints.push_back("latent types are trained with `objective em_dpo(types: " + d->name + ")` and `loop em`");
    }
  }
}

void Sema::checkSplits(ast::Decl &decl) {
  if (!decl.block)
    return;
  double total = 0;
  bool explicitTrain = false;
  std::map<std::string, const ast::Split *> seen;
  bool overflowReported = false;
  for (const ast::Split &split : decl.block->splits)
    explicitTrain |= split.name == "train";
  const ast::Split *lastPercent = nullptr;
  for (ast::Split &split : decl.block->splits) {
    schema::Param percent;
    percent.name = "split " + split.name;
    percent.type = schema::Ty::Percent;
    if (auto [it, inserted] = seen.emplace(split.name, &split); !inserted) {
      auto &d = diags_.error(split.nameRange, "split '" + split.name + "' is declared twice");
      d.notes.push_back({it->second->nameRange, "first declared here"});
    }
    if (split.value->kind == ast::ExprKind::Call) {
      checkCall(*split.value, "split", "split '" + split.name + "'");
      if (!split.by.empty())
        diags_.error(split.byRange, "`by` groups a percentage split; a `" + split.value->text +
                                        "` split already says which rows it takes");
    } else if (checkValue(split.value, percent, "")) {
      total += fold(*split.value, false)->value;
      lastPercent = &split;
      if (!overflowReported && (total > 100 || (total == 100 && !explicitTrain))) {
        overflowReported = true;
        auto &d = diags_.error(split.value->range, "splits of '" + decl.name + "' take " +
                                                       std::to_string(static_cast<int>(std::round(total))) +
                                                       "% of the rows, leaving nothing to train on");
        d.hints.push_back("the rows no split takes form the implicit split 'train'");
      }
    }
    if (!split.by.empty() && split.value->kind != ast::ExprKind::Call) {
      static const std::vector<std::string> groupColumns{"user", "annotator", "domain", "group"};
      if (std::find(groupColumns.begin(), groupColumns.end(), split.by) == groupColumns.end()) {
        auto &d = diags_.error(split.byRange, "a split is grouped by an id column (user, annotator, domain or group), not '" + split.by + "'");
        std::string guess = closestMatch(split.by, groupColumns);
        if (!guess.empty())
          d.hints.push_back("did you mean '" + guess + "'?");
      } else if (!dataHasColumn(decl, split.by)) {
        auto &d = diags_.error(split.byRange, "split '" + split.name + "' is grouped by " + split.by + ", but data '" +
                                                  decl.name + "' declares no '" + split.by + "' column");
        d.hints.push_back("add `" + split.by + ": \"<column>\";` to the data block");
      }
    }
  }
  if (explicitTrain && lastPercent && !overflowReported && total < 100 - 1e-9)
    diags_.error(lastPercent->value->range, "with an explicit 'train' split, the percentage splits of '" + decl.name +
                                                 "' must add up to 100%, not " + std::to_string(static_cast<int>(std::round(total))) + "%")
        .hints.push_back("or drop `split train`: the rows no split takes form the implicit split 'train'");
}

void Sema::checkTemplate(const ast::Decl &templ, const std::set<std::string> *allowed, const std::string &use,
                         ast::Range useRange) {
  if (templ.kind != ast::DeclKind::Template || templ.value->kind != ast::ExprKind::String)
    return;
  const std::string &text = templ.value->text;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '\\') {
      ++i;
      continue;
    }
    if (text[i] == '}') {
      if (!allowed) // brace syntax is reported once, where the template is declared
        diags_.error(templ.value->range, "unmatched '}' in template '" + templ.name + "'")
            .hints.push_back("write a literal brace as \\}");
      return;
    }
    if (text[i] != '{')
      continue;
    size_t close = text.find('}', i);
    if (close == std::string::npos) {
      if (!allowed)
        diags_.error(templ.value->range, "unclosed '{' in template '" + templ.name + "'")
            .hints.push_back("write a literal brace as \\{");
      return;
    }
    std::string name = text.substr(i + 1, close - i - 1);
    if (allowed && !allowed->count(name)) {
      auto &d = diags_.error(stringSubrange(*templ.value, i, close - i + 1),
                             "template '" + templ.name + "' uses '{" + name + "}', which " + use + " does not provide");
      d.notes.push_back({useRange, "used here"});
      std::string all;
      for (const std::string &a : *allowed)
        all += (all.empty() ? "{" : ", {") + a + "}";
      d.hints.push_back("available: " + all);
    }
    i = close;
  }
}

ast::Range Sema::stringSubrange(const ast::Expr &str, size_t start, size_t length) const {
  // Walk the literal as written: \n \t \" are one character of the value, \\ \{ \} stay two (Expr::text).
  std::string_view line = diags_.file().line(str.range.begin.line);
  size_t raw = str.range.begin.col; // 0-based index just after the opening quote
  size_t decoded = 0;
  auto advance = [&] {
    if (line[raw] == '\\' && raw + 1 < line.size()) {
      char c = line[raw + 1];
      decoded += (c == '\\' || c == '{' || c == '}') ? 2 : 1;
      raw += 2;
    } else {
      ++decoded;
      ++raw;
    }
  };
  if (str.range.begin.line != str.range.end.line || raw >= line.size())
    return str.range;
  while (decoded < start && raw < line.size())
    advance();
  ast::Range r{{str.range.begin.line, static_cast<uint32_t>(raw + 1)}, {str.range.begin.line, 0}};
  while (decoded < start + length && raw < line.size())
    advance();
  r.end.col = static_cast<uint32_t>(raw + 1);
  return r;
}

std::vector<std::string> Sema::rewardObjectives(const Symbol &reward, const ast::Decl **rewardDecl) {
  const ast::Decl *decl = reward.decl;
  if (reward.stage)
    for (const ast::TrainItem &t : reward.stage->trains) {
      std::optional<Symbol> target;
      auto scope = stageScopes_.find(reward.stage);
      if (scope != stageScopes_.end() && scope->second.count(t.target))
        target = scope->second.at(t.target);
      else if (recipeScope_.count(t.target))
        target = recipeScope_.at(t.target);
      if (target && target->decl && target->decl->kind == ast::DeclKind::Reward)
        decl = target->decl;
    }
  *rewardDecl = decl;
  std::vector<std::string> out;
  if (!decl)
    return out;
  const ast::Field *objectives = decl->param("objectives");
  if (objectives && objectives->value->kind == ast::ExprKind::List)
    for (const ast::ExprPtr &o : objectives->value->operands)
      out.push_back(spell(*o));
  return out;
}

void Sema::checkDirection(ast::Decl &decl) {
  const ast::Field *reward = decl.param("reward");
  const ast::Field *objectives = decl.param("objectives");
  if (!reward || !objectives || objectives->value->kind != ast::ExprKind::List)
    return;
  std::vector<std::string> names;
  for (const ast::ExprPtr &o : objectives->value->operands)
    names.push_back(spell(*o));
  if (names.size() != 2)
    diags_.error(objectives->value->range, "a direction with an angle range spans exactly two objectives, got " +
                                               std::to_string(names.size()));
  if (const ast::Field *angle = decl.param("angle"); angle && angle->value->operands.size() == 2) {
    auto lo = fold(*angle->value->operands[0], false), hi = fold(*angle->value->operands[1], false);
    if (lo && hi && lo->value >= hi->value)
      diags_.error(angle->value->range, "the angle range must go from low to high");
  }
  if (reward->value->target != ast::RefTarget::Unresolved) {
    Symbol symbol{const_cast<ast::Decl *>(reward->value->decl), const_cast<ast::Stage *>(reward->value->stage)};
    const ast::Decl *rewardDecl = nullptr;
    std::vector<std::string> produced = rewardObjectives(symbol, &rewardDecl);
    if (!rewardDecl || rewardDecl->constructor != "regression") {
      auto &d = diags_.error(reward->value->range, "a direction needs a multi-objective `regression` reward; '" +
                                                       spell(*reward->value) + "' " +
                                                       (rewardDecl ? "is a " + rewardDecl->constructor + " reward" : "trains no reward model"));
      if (rewardDecl)
        d.notes.push_back({rewardDecl->nameRange, "'" + rewardDecl->name + "' is declared here"});
    } else {
      for (size_t i = 0; i < names.size(); ++i)
        if (std::find(produced.begin(), produced.end(), names[i]) == produced.end()) {
          auto &d = diags_.error(objectives->value->operands[i]->range,
                                 "direction over '" + names[i] + "', which reward '" + rewardDecl->name + "' does not produce");
          d.notes.push_back({rewardDecl->nameRange, "'" + rewardDecl->name + "' is declared here"});
          std::string guess = closestMatch(names[i], produced);
          if (!guess.empty())
            d.hints.push_back("did you mean '" + guess + "'?");
        }
    }
  }
  if (const ast::Field *render = decl.param("render"); render && render->value->decl) {
    std::set<std::string> allowed;
    for (const std::string &n : names)
      allowed.insert("weight." + n);
    checkTemplate(*render->value->decl, &allowed, "direction '" + decl.name + "'", render->value->range);
  }
}

} // namespace align::sema
