//===- SemaEval.cpp - Evaluation metrics and aggregation ------------------===//

#include "SemaImpl.h"

#include <algorithm>
#include <functional>

namespace align::sema {

namespace {

bool contains(const std::vector<std::string> &v, const std::string &s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

} // namespace

void Sema::checkEval(ast::EvalBlock &block, ast::Stage *stage) {
  ast::Stage *saved = stage_;
  stage_ = stage;
  for (ast::EvalItem &item : block.items) {
    const schema::Constructor *ctor = schema::find("metric", item.metric);
    if (!ctor) {
      auto &d = diags_.error(item.metricRange, "unknown metric '" + item.metric + "'");
      std::string guess = closestMatch(item.metric, schema::names("metric"));
      if (!guess.empty())
        d.hints.push_back("did you mean '" + guess + "'?");
      continue;
    }
    std::vector<Provided> provided;
    for (ast::Argument &a : item.args)
      provided.push_back(Provided{a.key, a.keyRange, std::move(a.value)});
    item.args.clear();
    if (item.block)
      for (ast::Field &f : item.block->fields)
        provided.push_back(Provided{f.key, f.keyRange, std::move(f.value)});
    if (item.block)
      item.block->fields.clear();
    for (ast::Field &f : checkParams(*ctor, std::move(provided), item.metricRange, item.metric))
      item.args.push_back(ast::Argument{f.key, f.keyRange, std::move(f.value), f.isDefault});

    if (item.data.empty())
      diags_.error(item.range, "metric '" + item.metric + "' needs data: `" + item.metric + " on <data>;`");
    // Pair metrics score comparisons, so they need data that has them.
    static const std::vector<std::string> pairMetrics{"accuracy", "margin", "length_baseline"};
    static const std::vector<std::string> pairSources{"pairwise", "ranking", "scored", "domain_pairs"};
    for (ast::ExprPtr &d : item.data)
      if (resolveRef(*d, "data", "metric '" + item.metric + "'") && contains(pairMetrics, item.metric) &&
          !d->decl->constructor.empty() && !contains(pairSources, d->decl->constructor)) {
        auto &diag = diags_.error(d->range, "metric '" + item.metric + "' compares responses, but '" + d->decl->name +
                                                "' is " + d->decl->constructor + " data");
        diag.notes.push_back({d->decl->nameRange, "'" + d->decl->name + "' is declared here"});
      }

    // What the metric reports must exist in the recipe: latent types for regret, directions for pareto.
    auto hasEm = [&] {
      for (const ast::StagePtr &s : recipe_->stages)
        if (!stage || s.get() == stage)
          for (const ast::Loop &l : s->loops)
            if (l.kind == "em")
              return true;
      return false;
    };
    auto hasDirection = [&] {
      for (const ast::DeclPtr &d : recipe_->decls)
        if (d->constructor == "direction")
          return true;
      for (const ast::StagePtr &s : recipe_->stages)
        for (const ast::DeclPtr &d : s->decls)
          if (d->constructor == "direction")
            return true;
      return false;
    };
    if (item.metric == "regret" && item.by != "type" && !hasEm()) // `by type` says the same below
      diags_.error(item.metricRange, "'regret' compares the policies of latent types, but " +
                                         (stage ? "stage '" + stage->name + "' has" : std::string("the recipe has")) +
                                         " no `loop em`");
    if ((item.metric == "pareto" || (item.by == "direction" && contains(ctor->byKeys, "direction"))) && !hasDirection())
      diags_.error(item.by == "direction" ? item.byRange : item.metricRange,
                   "'" + item.metric + (item.by.empty() ? "" : " by " + item.by) +
                       "' sweeps directions, but the recipe declares no `direction` preference");

    if (item.by.empty())
      continue;
    if (!contains(ctor->byKeys, item.by)) {
      std::string keys;
      for (const std::string &k : ctor->byKeys)
        keys += (keys.empty() ? "" : ", ") + k;
      auto &d = diags_.error(item.byRange, "metric '" + item.metric + "' cannot be broken down by '" + item.by + "'");
      std::string guess = closestMatch(item.by, ctor->byKeys);
      d.hints.push_back(guess.empty() ? "it can be broken down by: " + keys : "did you mean '" + guess + "'?");
      continue;
    }
    if (item.by == "user" || item.by == "group" || item.by == "domain")
      for (const ast::ExprPtr &ref : item.data)
        if (ref->decl && !dataHasColumn(*ref->decl, item.by) &&
            !(item.by == "domain" && ref->decl->constructor == "domain_pairs")) {
          auto &d = diags_.error(ref->range, "'" + item.metric + " by " + item.by + "' needs a '" + item.by +
                                                 "' column, but data '" + ref->decl->name + "' declares none");
          d.notes.push_back({ref->decl->nameRange, "'" + ref->decl->name + "' is declared here"});
        }
    if (item.by == "type") {
      if (!hasEm())
        diags_.error(item.byRange, "'by type' reports latent types, but " +
                                       (stage ? "stage '" + stage->name + "' has" : std::string("the recipe has")) +
                                       " no `loop em`");
    }
  }
  stage_ = saved;
}

void Sema::checkAggregate(ast::Decl &decl) {
  const ast::Field *policies = decl.param("policies");
  const ast::Stage *stage = policies ? policies->value->stage : nullptr;
  if (!stage)
    return;
  if (decl.constructor == "conditioned") {
    const ast::Field *pref = decl.param("preference");
    if (pref && pref->value->decl && pref->value->decl->constructor != "direction")
      diags_.error(pref->value->range, "a conditioned policy follows a `direction` preference");
    return;
  }
  // The mixture aggregations combine the K type policies of an EM stage.
  const ast::Loop *em = nullptr;
  for (const ast::Loop &l : stage->loops)
    if (l.kind == "em")
      em = &l;
  if (!em) {
    auto &d = diags_.error(policies->value->range, "'" + decl.constructor + "' mixes the type policies of an EM stage, but stage '" +
                                                       stage->name + "' has no `loop em`");
    d.notes.push_back({stage->nameRange, "'" + stage->name + "' is defined here"});
    return;
  }
  // K comes from the em_dpo objective's latent preference, read from the AST (the stage may not be checked yet).
  std::optional<double> k;
  for (const auto &[range, objective] : stage->objectives) {
    std::function<void(const ast::Expr &)> find = [&](const ast::Expr &e) {
      if (e.kind == ast::ExprKind::Call && e.text == "em_dpo")
        for (const ast::Argument &a : e.args)
          if ((a.key == "types" || a.key.empty()) && a.value->kind == ast::ExprKind::Ref)
            if (auto sym = lookup(a.value->path[0]); sym && sym->decl)
              if (const ast::Field *kf = sym->decl->param("k"))
                if (auto c = fold(*kf->value, false))
                  k = c->value;
      for (const ast::ExprPtr &o : e.operands)
        find(*o);
    };
    find(*objective);
  }
  if (const ast::Field *w = decl.param("weights"); w && w->value->kind == ast::ExprKind::List) {
    double total = 0;
    for (const ast::ExprPtr &x : w->value->operands)
      if (auto c = fold(*x, false))
        total += c->value;
    if (total <= 0)
      diags_.error(w->value->range, "mixture weights must not all be zero");
  }
  for (const char *key : {"weights", "regret_weights"})
    if (const ast::Field *w = decl.param(key); w && k && *k >= 1 && *k <= 1e6 &&
                                              w->value->operands.size() != static_cast<size_t>(*k))
      diags_.error(w->value->range, "'" + std::string(key) + "' has " + std::to_string(w->value->operands.size()) +
                                        " entries, but stage '" + stage->name + "' trains " +
                                        std::to_string(static_cast<int>(*k)) + " type policies");
}

} // namespace align::sema
