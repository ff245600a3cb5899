//===- Sema.cpp - The entry point of Sema: a file, then each recipe -------===//
//
// checkFile checks a parsed file recipe by recipe; Sema::checkRecipe is the order of the checks within one
// recipe: declare every name first (so references may point forward), check declarations in dependency
// order of their kinds, then schedules, stages, evaluation and the dependency graph. The checks themselves
// live in SemaValues.cpp, SemaDecls.cpp, SemaStages.cpp, SemaEval.cpp and SemaDependencies.cpp.
//
//===----------------------------------------------------------------------===//

#include "Sema.h"
#include "SemaImpl.h"

#include <map>
#include <string>

namespace align::sema {

namespace {

// Order in which declaration kinds are checked, so that a declaration's dependencies are checked first
// (a direction reads the objectives of an already checked reward).
const ast::DeclKind kCheckOrder[] = {
    ast::DeclKind::Tokenizer, ast::DeclKind::Template,  ast::DeclKind::Model,      ast::DeclKind::Adapter,
    ast::DeclKind::Users,     ast::DeclKind::Data,      ast::DeclKind::Reward,     ast::DeclKind::Reference,
    ast::DeclKind::Preference, ast::DeclKind::Policy,   ast::DeclKind::Aggregate,
};

} // namespace

void Sema::checkRecipe(ast::Recipe &recipe) {
  recipe_ = &recipe;
  for (ast::DeclPtr &d : recipe.decls)
    declare(*d);
  for (ast::StagePtr &s : recipe.stages)
    declareStage(*s);
  for (ast::StagePtr &s : recipe.stages) {
    stage_ = s.get();
    stageScopes_[stage_];
    for (ast::DeclPtr &d : s->decls)
      declare(*d);
  }
  stage_ = nullptr;

  for (ast::DeclKind kind : kCheckOrder) {
    for (ast::DeclPtr &d : recipe.decls)
      if (d->kind == kind)
        checkDecl(*d);
    for (ast::StagePtr &s : recipe.stages) {
      stage_ = s.get();
      for (ast::DeclPtr &d : s->decls)
        if (d->kind == kind)
          checkDecl(*d);
      stage_ = nullptr;
    }
  }

  for (size_t i = 0; i < recipe.schedules.size(); ++i) {
    if (i > 0) {
      auto &d = diags_.error(recipe.schedules[i].range, "recipe '" + recipe.name + "' has more than one schedule block");
      d.notes.push_back({recipe.schedules[0].range, "first schedule block is here"});
    }
    checkSchedule(recipe.schedules[i], "schedule");
  }
  for (ast::StagePtr &s : recipe.stages)
    checkStage(*s);
  for (ast::StagePtr &s : recipe.stages)
    layerSchedule(*s);
  for (ast::EvalBlock &e : recipe.evals)
    checkEval(e, nullptr);
  if (recipe.stages.empty())
    diags_.error(recipe.nameRange, "recipe '" + recipe.name + "' has no stage")
        .hints.push_back("a stage says what is trained: `stage sft { train base on corpus; objective nll(); }`");
  checkDependencies();
}

} // namespace align::sema

namespace align {

bool checkFile(ast::File &file, DiagnosticEngine &diags) {
  unsigned before = diags.errorCount();
  if (file.recipes.empty())
    diags.error({{1, 1}, {1, 2}}, "no recipe in this file")
        .hints.push_back("a file holds `recipe NAME { ... }`");
  std::map<std::string, const ast::Recipe *> names;
  for (ast::Recipe &recipe : file.recipes) {
    if (auto [it, inserted] = names.emplace(recipe.name, &recipe); !inserted) {
      auto &d = diags.error(recipe.nameRange, "redefinition of recipe '" + recipe.name + "'");
      d.notes.push_back({it->second->nameRange, "previous definition is here"});
    }
    sema::Sema(diags).checkRecipe(recipe);
  }
  return diags.errorCount() == before;
}

} // namespace align
