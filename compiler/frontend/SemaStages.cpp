//===- SemaStages.cpp - Stages, objectives, loops, schedules --------------===//

#include "SemaImpl.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <set>

namespace align::sema {

namespace {

bool contains(const std::vector<std::string> &v, const std::string &s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

/// The declarations attached to a policy with `with`.
std::vector<const ast::Decl *> attachments(const ast::Decl &policy) {
  std::vector<const ast::Decl *> out;
  const ast::Expr *e = policy.value.get();
  while (e->kind == ast::ExprKind::With) {
    if (e->operands[1]->decl)
      out.push_back(e->operands[1]->decl);
    e = e->operands[0].get();
  }
  return out;
}

/// The reward model that training `target` trains: the reward itself, or the reward a policy is built on
/// (`rm with users`, the personalized reward model of P-RLHF); null for language-model targets. Bounded,
/// because a policy cycle (reported elsewhere) must not hang the check.
const ast::Decl *rewardBehind(const ast::Decl *target) {
  for (unsigned depth = 0; target && depth < 16; ++depth) {
    if (target->kind == ast::DeclKind::Reward)
      return target;
    if (target->kind != ast::DeclKind::Policy)
      return nullptr;
    const ast::Expr *base = target->value.get();
    while (base->kind == ast::ExprKind::With)
      base = base->operands[0].get();
    target = base->decl;
  }
  return nullptr;
}

const ast::Decl *attached(const ast::Decl *target, ast::DeclKind kind) {
  if (!target || target->kind != ast::DeclKind::Policy)
    return nullptr;
  for (const ast::Decl *d : attachments(*target))
    if (d->kind == kind)
      return d;
  return nullptr;
}

/// Whether a `with` operand of a policy failed to resolve (already reported; rules about attachments
/// would only add follow-on errors).
bool hasUnresolvedWith(const ast::Decl &policy) {
  if (policy.kind != ast::DeclKind::Policy)
    return false;
  for (const ast::Expr *e = policy.value.get(); e->kind == ast::ExprKind::With; e = e->operands[0].get())
    if (e->operands[1]->target == ast::RefTarget::Unresolved)
      return true;
  return false;
}

} // namespace

const ast::Decl *Sema::trainTarget(const ast::Stage &stage) const {
  return stage.trains.empty() ? nullptr : stage.trains.front().targetDecl;
}

void Sema::checkStage(ast::Stage &stage) {
  stage_ = &stage;
  for (ast::Range repeated : stage.repeatedInits) {
    auto &d = diags_.error(repeated, "stage '" + stage.name + "' has more than one 'init from'");
    d.notes.push_back({stage.init->range, "previous 'init from' is here"});
  }
  if (!stage.init && stage.decls.empty() && stage.trains.empty() && stage.objectives.empty() && stage.loops.empty() &&
      stage.schedules.empty() && stage.evals.empty())
    diags_.error(stage.nameRange, "stage '" + stage.name + "' is empty")
        .hints.push_back("a stage trains something (`train <model> on <data>; objective ...;`) or evaluates (`eval { ... }`)");

  if (stage.init) {
    auto it = recipeScope_.find(stage.init->source);
    if (it == recipeScope_.end() || !it->second.stage) {
      std::vector<std::string> stages;
      for (const ast::StagePtr &s : recipe_->stages)
        stages.push_back(s->name);
      auto &d = diags_.error(stage.init->sourceRange, it == recipeScope_.end()
                                                          ? "unknown stage '" + stage.init->source + "'"
                                                          : "'" + stage.init->source + "' is " + article(it->second.kind()) +
                                                                ", not a stage; `init from` names a stage");
      std::string guess = closestMatch(stage.init->source, stages);
      if (!guess.empty())
        d.hints.push_back("did you mean '" + guess + "'?");
      if (it != recipeScope_.end())
        d.notes.push_back({it->second.range(), "'" + stage.init->source + "' is declared here"});
    } else {
      stage.init->stage = it->second.stage;
      edges_[&stage].push_back({it->second.stage, stage.init->sourceRange});
    }
  }

  for (size_t i = 0; i < stage.trains.size(); ++i) {
    ast::TrainItem &train = stage.trains[i];
    if (i > 0) {
      auto &d = diags_.error(train.range, "stage '" + stage.name + "' trains more than one model");
      d.notes.push_back({stage.trains[0].range, "first 'train' is here"});
      continue;
    }
    std::optional<Symbol> target = lookup(train.target);
    if (!target) {
      auto &d = diags_.error(train.targetRange, "unknown name '" + train.target + "'");
      std::vector<std::string> trainable;
      for (const std::string &n : visibleNames())
        if (std::optional<Symbol> s = lookup(n); s && s->decl &&
            (s->decl->kind == ast::DeclKind::Policy || s->decl->kind == ast::DeclKind::Reward ||
             s->decl->kind == ast::DeclKind::Model))
          trainable.push_back(n);
      std::string guess = closestMatch(train.target, trainable);
      if (!guess.empty())
        d.hints.push_back("did you mean '" + guess + "'?");
    } else if (!target->decl || (target->decl->kind != ast::DeclKind::Policy &&
                                 target->decl->kind != ast::DeclKind::Reward && target->decl->kind != ast::DeclKind::Model)) {
      auto &d = diags_.error(train.targetRange, "'" + train.target + "' is " + article(target->kind()) +
                                                    "; a stage trains a policy, reward or model");
      d.notes.push_back({target->range(), "'" + train.target + "' is declared here"});
    } else {
      train.targetDecl = target->decl;
      addEdge(*target, train.targetRange);
    }
    for (ast::ExprPtr &data : train.data)
      resolveRef(*data, "data", "'train ... on'");
  }

  for (size_t i = 0; i < stage.objectives.size(); ++i) {
    if (i > 0) {
      auto &d = diags_.error(stage.objectives[i].first, "stage '" + stage.name + "' has more than one objective");
      d.notes.push_back({stage.objectives[0].first, "first objective is here"});
      d.hints.push_back("combine losses in one objective: `objective rank_loss() + 0.1 * imitation();`");
      continue;
    }
    checkObjective(stage);
  }
  if (!stage.objectives.empty() && stage.trains.empty())
    diags_.error(stage.objectives[0].first, "stage '" + stage.name + "' has an objective but trains nothing")
        .hints.push_back("add `train <policy> on <data>;`");
  if (stage.objectives.empty() && !stage.trains.empty())
    diags_.error(stage.trains[0].range, "stage '" + stage.name + "' trains '" + stage.trains[0].target +
                                            "' but has no objective")
        .hints.push_back("add e.g. `objective dpo(beta: 0.1);`");

  checkLoops(stage);
  for (size_t i = 0; i < stage.schedules.size(); ++i) {
    if (i > 0) {
      auto &d = diags_.error(stage.schedules[i].range, "stage '" + stage.name + "' has more than one schedule block");
      d.notes.push_back({stage.schedules[0].range, "first schedule block is here"});
    }
    checkSchedule(stage.schedules[i], "schedule");
  }
  for (ast::EvalBlock &e : stage.evals)
    checkEval(e, &stage);
  stage_ = nullptr;
}

void Sema::collectTerms(ast::ExprPtr &expr, std::vector<ast::Expr *> &terms) {
  ast::Expr &e = *expr;
  if (e.kind == ast::ExprKind::Ref && e.path.size() == 1 && schema::find("objective", e.path[0])) {
    auto call = std::make_unique<ast::Expr>(ast::ExprKind::Call, e.range);
    call->text = e.path[0];
    call->calleeRange = e.range;
    expr = std::move(call);
  }
  if (expr->kind == ast::ExprKind::Call) {
    // Term-level rules still apply when an argument is wrong, so report both at once.
    checkCall(*expr, "objective", "");
    if (schema::find("objective", expr->text))
      terms.push_back(expr.get());
    return;
  }
  if (expr->kind == ast::ExprKind::Binary) {
    char op = expr->text[0];
    auto weight = [&](ast::Expr &w) {
      auto c = fold(w, true);
      if (!c || c->unit != ast::ExprKind::Number)
        diags_.error(w.range, "a loss weight is a number, got " + spell(w));
      else if (c->value <= 0)
        diags_.error(w.range, "a loss weight must be > 0, got " + spell(w));
    };
    if (op == '+') {
      collectTerms(expr->operands[0], terms);
      collectTerms(expr->operands[1], terms);
      return;
    }
    if (op == '*') {
      bool leftIsWeight = fold(*expr->operands[0], false).has_value();
      weight(*expr->operands[leftIsWeight ? 0 : 1]);
      collectTerms(expr->operands[leftIsWeight ? 1 : 0], terms);
      return;
    }
    if (op == '/') {
      weight(*expr->operands[1]);
      collectTerms(expr->operands[0], terms);
      return;
    }
    diags_.error(expr->range, "losses are added, not subtracted")
        .hints.push_back("weights must be positive: `a() + 0.1 * b()`");
    return;
  }
  diags_.error(expr->range, "an objective is a loss such as `dpo(beta: 0.1)` or a weighted sum such as "
                            "`rank_loss() + 0.1 * imitation()`, got " + spell(*expr));
}

void Sema::checkObjective(ast::Stage &stage) {
  std::vector<ast::Expr *> terms;
  collectTerms(stage.objectives[0].second, terms);
  stageTerms_[&stage] = terms;
  const ast::Decl *target = trainTarget(stage);

  for (ast::Expr *term : terms) {
    const schema::Constructor *ctor = schema::find("objective", term->text);
    const schema::ObjectiveRule &rule = *ctor->objective;
    const std::string name = "objective '" + term->text + "'";

    if (target) {
      bool isReward = rewardBehind(target) != nullptr;
      if (rule.target == schema::ObjectiveRule::LanguageModel && isReward) {
        auto &d = diags_.error(term->calleeRange, name + " trains a policy, but '" + target->name + "' is a reward model");
        d.notes.push_back({target->nameRange, "'" + target->name + "' is declared here"});
      } else if (rule.target == schema::ObjectiveRule::Reward && !isReward) {
        auto &d = diags_.error(term->calleeRange, name + " trains a reward model, but '" + target->name + "' is " +
                                                      (target->kind == ast::DeclKind::Policy ? "a language-model policy" : "a model"));
        d.notes.push_back({target->nameRange, "'" + target->name + "' is declared here"});
        const ast::Expr *base = target->value.get();
        while (target->kind == ast::DeclKind::Policy && base->kind == ast::ExprKind::With)
          base = base->operands[0].get();
        std::string baseName = target->kind == ast::DeclKind::Policy ? spell(*base) : target->name;
        d.hints.push_back("declare `reward rm = scalar(base: " + baseName + ");` and `train rm on ...`");
      }
    }

    const ast::Decl *types = nullptr;
    if (term->text == "em_dpo")
      if (const ast::Argument *t = term->arg("types"); t && t->value->decl) {
        types = t->value->decl;
        if (types->constructor != "latent") {
          auto &d = diags_.error(t->value->range, "em_dpo needs a `latent` preference, but '" + types->name + "' is " +
                                                      types->constructor);
          d.notes.push_back({types->nameRange, "'" + types->name + "' is declared here"});
          types = nullptr;
        }
      }

    // A normalisation of weights the term does not have would be silently ignored.
    if (const ast::Argument *norm = term->arg("weight_norm"); norm && !norm->isDefault && !rule.needsAnnotators) {
      const ast::Argument *w = term->arg("example_weights");
      if (!(w && w->value->kind == ast::ExprKind::Bool && w->value->boolean)) {
        auto &d = diags_.error(norm->keyRange, name + " has no per-example weights to normalise");
        d.hints.push_back("add `example_weights: true` (the data's `weight` column), or remove `weight_norm`");
      }
    }

    for (const ast::TrainItem &train : stage.trains)
      for (const ast::ExprPtr &ref : train.data) {
        const ast::Decl *data = ref->decl;
        if (!data || data->constructor.empty())
          continue;
        if (!contains(rule.sources, data->constructor)) {
          std::string kinds;
          for (size_t i = 0; i < rule.sources.size(); ++i)
            kinds += (i == 0 ? "" : i + 1 == rule.sources.size() ? " or " : ", ") + rule.sources[i];
          auto &d = diags_.error(ref->range, name + " reads " + kinds + " data, but '" + data->name + "' is " +
                                                 data->constructor + " data");
          d.notes.push_back({data->nameRange, "'" + data->name + "' is declared here"});
          continue;
        }
        if (types) {
          const ast::Field *likelihood = types->param("likelihood");
          if (likelihood && spell(*likelihood->value) == "plackett_luce" && data->constructor != "ranking") {
            auto &d = diags_.error(ref->range, "'" + data->name + "' is " + data->constructor + " data, but '" +
                                                   types->name + "' scores rankings with plackett_luce");
            d.notes.push_back({likelihood->keyRange, "likelihood chosen here"});
            d.hints.push_back("use `ranking` data, or `likelihood: pairwise`");
          }
        }
        if (rule.needsUsers && !dataHasColumn(*data, "user")) {
          auto &d = diags_.error(ref->range, name + " needs user ids, but data '" + data->name + "' declares no 'user' column");
          d.notes.push_back({data->nameRange, "'" + data->name + "' is declared here"});
          d.hints.push_back("add `user: \"<column>\";` to the data block");
        }
        if (rule.needsAnnotators && !dataHasColumn(*data, "annotator") && !dataHasColumn(*data, "user")) {
          auto &d = diags_.error(ref->range, name + " needs annotator ids, but data '" + data->name +
                                                 "' declares no 'annotator' or 'user' column");
          d.notes.push_back({data->nameRange, "'" + data->name + "' is declared here"});
          d.hints.push_back("add `annotator: \"<column>\";` to the data block");
        }
        if (const ast::Argument *w = term->arg("example_weights");
            w && w->value->kind == ast::ExprKind::Bool && w->value->boolean && !dataHasColumn(*data, "weight")) {
          auto &d = diags_.error(ref->range, name + " uses example weights, but data '" + data->name +
                                                 "' declares no 'weight' column");
          d.notes.push_back({w->keyRange, "example weights asked for here"});
        }
      }

    if (rule.needsReference) {
      // The stage's own reference, else the recipe's; the stage then depends on it (and on what it freezes).
      const ast::Decl *reference = nullptr;
      for (const auto *decls : {&stage.decls, &recipe_->decls})
        for (const ast::DeclPtr &d : *decls)
          if (!reference && d->kind == ast::DeclKind::Reference)
            reference = d.get();
      if (!reference)
        diags_.error(term->calleeRange, name + " needs a reference model")
            .hints.push_back("declare `reference ref = frozen(<model or stage>);` in stage '" + stage.name + "'");
      else if (!reference->owner)
        edges_[&stage].push_back({reference, term->calleeRange});
    }
    const ast::Decl *reward = rewardBehind(target);
    if (term->text == "regression" && reward) {
      if (reward->constructor != "regression") {
        auto &d = diags_.error(term->calleeRange, "objective 'regression' trains a multi-objective `regression` reward, but '" +
                                                      reward->name + "' is " + reward->constructor);
        d.notes.push_back({reward->nameRange, "'" + reward->name + "' is declared here"});
      } else {
        const ast::Field *objectives = reward->param("objectives");
        for (const ast::TrainItem &train : stage.trains)
          for (const ast::ExprPtr &ref : train.data) {
            const ast::Field *ratings = ref->decl ? ref->decl->param("ratings") : nullptr;
            if (!objectives || !ratings || ratings->value->kind != ast::ExprKind::List)
              continue;
            std::vector<std::string> rated;
            for (const ast::ExprPtr &r : ratings->value->operands)
              rated.push_back(spell(*r));
            for (const ast::ExprPtr &o : objectives->value->operands)
              if (!contains(rated, spell(*o))) {
                auto &d = diags_.error(ref->range, "reward '" + reward->name + "' predicts '" + spell(*o) +
                                                       "', which data '" + ref->decl->name + "' does not rate");
                d.notes.push_back({o->range, "objective declared here"});
              }
          }
      }
    } else if (rule.target == schema::ObjectiveRule::Reward && reward) {
      if (reward->constructor == "regression")
        diags_.error(term->calleeRange, name + " trains a scalar reward, but '" + reward->name +
                                            "' is a multi-objective regression reward")
            .hints.push_back("train it with `objective regression();` on rated data");
    }
    if (const ast::Argument *p = term->arg("preference"); p && p->value->decl) {
      const ast::Decl *pref = p->value->decl;
      if (pref->constructor != "bradley_terry" && pref->constructor != "plackett_luce")
        diags_.error(p->value->range, name + " scores with a `bradley_terry` or `plackett_luce` preference, not " +
                                          pref->constructor);
      else if (pref->constructor == "plackett_luce")
        for (const ast::TrainItem &train : stage.trains)
          for (const ast::ExprPtr &ref : train.data)
            if (ref->decl && ref->decl->constructor != "ranking" && ref->decl->constructor != "scored")
              diags_.error(ref->range, "'" + ref->decl->name + "' is " + ref->decl->constructor +
                                           " data, but plackett_luce scores whole rankings (`ranking` or `scored` data)");
    }
    if (rule.needsUsers && target && !attached(target, ast::DeclKind::Users) && !hasUnresolvedWith(*target)) {
      auto &d = diags_.error(term->calleeRange, name + " needs a users model on the policy it trains");
      d.notes.push_back({target->nameRange, "'" + target->name + "' is declared here"});
      if (target->kind == ast::DeclKind::Policy)
        d.hints.push_back("attach one: `policy " + target->name + " = <model> with <users>;`");
      else
        d.hints.push_back("train a personalized policy: `policy personal = " + target->name +
                          " with <users>;` and `train personal on ...`");
    }
  }
}

void Sema::checkLoops(ast::Stage &stage) {
  std::map<std::string, const ast::Loop *> seen;
  const std::vector<ast::Expr *> &terms = stageTerms_[&stage];
  auto hasTerm = [&](const std::string &n) {
    return std::any_of(terms.begin(), terms.end(), [&](const ast::Expr *t) { return t->text == n; });
  };
  for (ast::Loop &loop : stage.loops) {
    const schema::Constructor *ctor = schema::find("loop", loop.kind);
    if (!ctor) {
      auto &d = diags_.error(loop.kindRange, "unknown loop '" + loop.kind + "'");
      std::string guess = closestMatch(loop.kind, schema::names("loop"));
      d.hints.push_back(guess.empty() ? "loops: em, rsf" : "did you mean '" + guess + "'?");
      continue;
    }
    if (auto [it, inserted] = seen.emplace(loop.kind, &loop); !inserted) {
      auto &d = diags_.error(loop.kindRange, "stage '" + stage.name + "' has two '" + loop.kind + "' loops");
      d.notes.push_back({it->second->kindRange, "first one is here"});
      continue;
    }
    std::vector<Provided> provided;
    for (ast::Field &f : loop.block.fields)
      provided.push_back(Provided{f.key, f.keyRange, std::move(f.value)});
    loop.block.fields = checkParams(*ctor, std::move(provided), loop.kindRange, "loop " + loop.kind);
    if (!loop.block.splits.empty())
      diags_.error(loop.block.splits[0].range, "splits belong in a data block");

    if (loop.kind == "em")
      if (const ast::Field *restart = loop.block.find("restart");
          restart && restart->value->kind == ast::ExprKind::Bool && restart->value->boolean && !stage.init)
        diags_.error(restart->isDefault ? loop.kindRange : restart->value->range,
                     "`loop em` restarts every M-step from the stage's `init from`, and stage '" + stage.name +
                         "' has none")
            .hints.push_back("add `init from <sft stage>;`, or `restart: false;` to continue from the last M-step");
    if (loop.kind == "em")
      if (const ast::Field *policies = loop.block.find("policies");
          policies && spell(*policies->value) == "full")
        if (const ast::Decl *adapter = attached(trainTarget(stage), ast::DeclKind::Adapter)) {
          auto &d = diags_.error(policies->value->range, "`policies: full` trains full copies of the weights, but "
                                                         "the stage's policy carries adapter '" + adapter->name + "'");
          d.notes.push_back({adapter->nameRange, "'" + adapter->name + "' is declared here"});
          d.hints.push_back("drop the adapter from the policy, or `policies: lora` (each type its own adapter)");
        }
    if (loop.kind == "em" && !hasTerm("em_dpo"))
      diags_.error(loop.kindRange, "`loop em` alternates E- and M-steps of an `em_dpo` objective, and stage '" +
                                       stage.name + "' has none");
    if (loop.kind == "rsf") {
      if (!hasTerm("nll"))
        diags_.error(loop.kindRange, "`loop rsf` fine-tunes on the best samples with `nll()`; make it the objective");
      const ast::Field *directions = loop.block.find("directions");
      const ast::Decl *dir = directions ? directions->value->decl : nullptr;
      if (dir && dir->constructor != "direction") {
        auto &d = diags_.error(directions->value->range, "`directions` needs a `direction` preference, but '" +
                                                             dir->name + "' is " + dir->constructor);
        d.notes.push_back({dir->nameRange, "'" + dir->name + "' is declared here"});
      } else if (dir) {
        const ast::Decl *target = trainTarget(stage);
        const ast::Decl *conditioned = attached(target, ast::DeclKind::Preference);
        if (target && conditioned != dir) {
          auto &d = diags_.error(loop.kindRange, "`loop rsf` samples under directions of '" + dir->name +
                                                     "', but policy '" + target->name + "' is not conditioned on it");
          d.hints.push_back("declare `policy " + target->name + " = <model> with " + dir->name + ";`");
        }
      }
      if (const ast::Field *scorer = loop.block.find("scorer"); scorer && scorer->value->target != ast::RefTarget::Unresolved) {
        Symbol symbol{const_cast<ast::Decl *>(scorer->value->decl), const_cast<ast::Stage *>(scorer->value->stage)};
        const ast::Decl *reward = nullptr;
        rewardObjectives(symbol, &reward);
        if (!reward || reward->constructor != "regression")
          diags_.error(scorer->value->range, "the RSF scorer must be a multi-objective `regression` reward");
      }
    }
  }
  if (hasTerm("em_dpo") && !seen.count("em"))
    diags_.error(stage.objectives[0].first, "an `em_dpo` objective needs `loop em { iterations: ...; }` in stage '" +
                                                stage.name + "'");
}

void Sema::checkSchedule(ast::FieldBlock &block, const std::string &owner) {
  const schema::Constructor *ctor = schema::find("schedule", "schedule");
  std::vector<std::string> names;
  for (const schema::Param &p : ctor->params)
    names.push_back(p.name);
  std::map<std::string, const ast::Field *> seen;
  for (ast::Field &f : block.fields) {
    auto param = std::find_if(ctor->params.begin(), ctor->params.end(), [&](const schema::Param &p) { return p.name == f.key; });
    if (param == ctor->params.end()) {
      auto &d = diags_.error(f.keyRange, "unknown schedule field '" + f.key + "'");
      std::string guess = closestMatch(f.key, names);
      if (!guess.empty())
        d.hints.push_back("did you mean '" + guess + "'?");
      if (f.key == "lr")
        d.hints.push_back("the learning rate is the optimizer's: `optimizer: adamw(lr: 1e-5);`");
      continue;
    }
    if (auto [it, inserted] = seen.emplace(f.key, &f); !inserted) {
      auto &d = diags_.error(f.keyRange, "'" + f.key + "' is given twice");
      d.notes.push_back({it->second->keyRange, "first given here"});
      continue;
    }
    checkValue(f.value, *param, owner);
  }
  for (const ast::Split &s : block.splits)
    diags_.error(s.range, "splits belong in a data block");
  if (seen.count("steps") && seen.count("epochs")) {
    auto &d = diags_.error(seen["steps"]->keyRange, "'steps' replaces 'epochs'; give one of them");
    d.notes.push_back({seen["epochs"]->keyRange, "'epochs' given here"});
  }
}

void Sema::layerSchedule(ast::Stage &stage) {
  const schema::Constructor *ctor = schema::find("schedule", "schedule");
  const ast::FieldBlock *own = stage.schedules.empty() ? nullptr : &stage.schedules[0];
  const ast::FieldBlock *shared = recipe_->schedules.empty() ? nullptr : &recipe_->schedules[0];
  stage_ = &stage;
  // `steps` replaces `epochs`, and the stage's own block wins: whichever of the two the stage gives, the
  // other is not inherited (and the default epochs give way to steps from anywhere).
  bool ownSteps = own && own->find("steps"), ownEpochs = own && own->find("epochs");
  bool useSteps = ownSteps || (!ownEpochs && shared && shared->find("steps"));
  for (const schema::Param &p : ctor->params) {
    if ((p.name == "epochs" && useSteps && !ownEpochs) || (p.name == "steps" && !useSteps))
      continue;
    const ast::Field *f = own ? own->find(p.name) : nullptr;
    std::string origin = "stage";
    if (!f && shared) {
      f = shared->find(p.name);
      origin = "recipe";
    }
    if (f) {
      stage.effectiveSchedule.push_back(ast::Field{p.name, f->keyRange, cloneExpr(*f->value), false});
    } else if (p.defaultValue) {
      ast::ExprPtr value = defaultValue(p, stage.nameRange);
      checkValue(value, p, "schedule");
      stage.effectiveSchedule.push_back(ast::Field{p.name, stage.nameRange, std::move(value), true});
      origin = "default";
    } else {
      continue;
    }
    stage.scheduleOrigin.push_back(origin);
  }
  stage_ = nullptr;

  auto number = [&](const char *key) -> std::optional<double> {
    for (const ast::Field &f : stage.effectiveSchedule)
      if (f.key == key)
        if (auto c = fold(*f.value, false))
          return c->value;
    return std::nullopt;
  };
  auto where = [&](const char *key) {
    for (const ast::Field &f : stage.effectiveSchedule)
      if (f.key == key)
        return f.value->range;
    return stage.nameRange;
  };
  auto batch = number("batch"), micro = number("micro_batch");
  auto valid = [](std::optional<double> v) { return v && *v >= 1 && *v <= kMaxInteger && std::floor(*v) == *v; };
  if (valid(batch) && valid(micro) && static_cast<long long>(*batch) % static_cast<long long>(*micro) != 0)
    diags_.error(where("micro_batch"), "stage '" + stage.name + "': batch " + std::to_string(static_cast<long long>(*batch)) +
                                           " is not a multiple of micro_batch " + std::to_string(static_cast<long long>(*micro)));
  auto length = number("max_length"), prompt = number("max_prompt_length");
  if (length && prompt && *prompt >= *length)
    diags_.error(where("max_prompt_length"), "stage '" + stage.name + "': max_prompt_length must be less than max_length (" +
                                                 std::to_string(static_cast<long long>(*length)) + ")");
}

} // namespace align::sema
