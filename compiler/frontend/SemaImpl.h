//===- SemaImpl.h - Sema's internal state, shared by its files -*- C++ -*-===//
//
// Sema is split by what it checks: the entry point and the order of the checks (Sema.cpp), values against
// the schema (SemaValues.cpp), declarations (SemaDecls.cpp), stages (SemaStages.cpp), evaluation and
// aggregation (SemaEval.cpp), and stage order and cycles (SemaDependencies.cpp).
//
//===----------------------------------------------------------------------===//
#pragma once

#include "AST.h"
#include "Diagnostics.h"
#include "Schema.h"

#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace align::sema {

/// What a name in scope stands for.
struct Symbol {
  ast::Decl *decl = nullptr;
  ast::Stage *stage = nullptr;
  ast::Range range() const { return decl ? decl->nameRange : stage->nameRange; }
  std::string kind() const { return decl ? ast::declKindName(decl->kind) : "stage"; }
};

/// A value given for a parameter, before it is checked: from a call's arguments or a field block.
struct Provided {
  std::string key; // empty: positional
  ast::Range keyRange;
  ast::ExprPtr value;
};

/// A folded numeric constant and the unit it carries.
struct Constant {
  double value = 0;
  ast::ExprKind unit = ast::ExprKind::Number; // Number, Percent, Angle or Duration
  bool integer = false;
};

class Sema {
public:
  explicit Sema(DiagnosticEngine &diags) : diags_(diags) {}
  // --- Sema.cpp -------------------------------------------------------------------------------------------
  void checkRecipe(ast::Recipe &recipe);

  // --- SemaValues.cpp -------------------------------------------------------------------------------------
  std::optional<Symbol> lookup(const std::string &name) const;
  std::vector<std::string> visibleNames() const;
  /// Resolves a reference expression against `kinds` ("model|stage", "data", ...). Reports and returns
  /// false on failure.
  bool resolveRef(ast::Expr &expr, const std::string &kinds, const std::string &what);
  std::optional<Constant> fold(const ast::Expr &expr, bool report);
  /// Checks `value` against `param` (type, range, references), rewriting bare constructor names into calls.
  bool checkValue(ast::ExprPtr &value, const schema::Param &param, const std::string &owner);
  /// Checks a call against its family and normalises its arguments (keys filled in, defaults appended).
  bool checkCall(ast::Expr &call, const std::string &family, const std::string &what);
  /// Matches provided values to a constructor's parameters; returns them in schema order with defaults.
  std::vector<ast::Field> checkParams(const schema::Constructor &ctor, std::vector<Provided> provided,
                                      ast::Range site, const std::string &owner);
  ast::ExprPtr defaultValue(const schema::Param &param, ast::Range site);

  // --- SemaDecls.cpp --------------------------------------------------------------------------------------
  void declare(ast::Decl &decl);
  void declareStage(ast::Stage &stage);
  void checkDecl(ast::Decl &decl);
  void checkPolicy(ast::Decl &decl);
  void checkSplits(ast::Decl &decl);
  /// Checks `{name}` placeholders: brace syntax when `allowed` is null (at the declaration), else that every
  /// placeholder is one `use` provides.
  void checkTemplate(const ast::Decl &templ, const std::set<std::string> *allowed, const std::string &use,
                     ast::Range useRange);
  void checkDirection(ast::Decl &decl);
  /// The source range of characters [start, start + length) of a string literal's value.
  ast::Range stringSubrange(const ast::Expr &str, size_t start, size_t length) const;
  /// The objectives a reward declaration (or a stage training one) produces; empty if unknown.
  std::vector<std::string> rewardObjectives(const Symbol &reward, const ast::Decl **rewardDecl);
  bool dataHasColumn(const ast::Decl &data, const std::string &column) const;

  // --- SemaStages.cpp -------------------------------------------------------------------------------------
  void checkStage(ast::Stage &stage);
  /// Checks the stage's (first) objective: its terms, and each term's rules against the data and target.
  void checkObjective(ast::Stage &stage);
  void collectTerms(ast::ExprPtr &expr, std::vector<ast::Expr *> &terms);
  /// The train target of `stage` (policy, reward or model declaration), or null.
  const ast::Decl *trainTarget(const ast::Stage &stage) const;
  void checkLoops(ast::Stage &stage);
  void checkSchedule(ast::FieldBlock &block, const std::string &owner);
  void layerSchedule(ast::Stage &stage);

  // --- SemaEval.cpp ---------------------------------------------------------------------------------------
  void checkEval(ast::EvalBlock &block, ast::Stage *stage);
  void checkAggregate(ast::Decl &decl);

  // --- SemaDependencies.cpp -------------------------------------------------------------------------------
  void checkDependencies();

  DiagnosticEngine &diags_;
  ast::Recipe *recipe_ = nullptr;
  ast::Stage *stage_ = nullptr; // the stage being checked, or null at recipe level
  ast::Decl *decl_ = nullptr;   // the declaration being checked (dependency edges start here)
  std::map<std::string, Symbol> recipeScope_;
  std::map<const ast::Stage *, std::map<std::string, Symbol>> stageScopes_;
  // Dependency edges between declarations and stages, for order and cycle checks; value = where.
  std::map<const void *, std::vector<std::pair<const void *, ast::Range>>> edges_;
  std::map<const void *, std::string> nodeNames_;
  void addEdge(const Symbol &target, ast::Range where); // SemaValues.cpp
  std::map<const ast::Stage *, std::vector<ast::Expr *>> stageTerms_; // objective terms per stage
};

/// The largest integer a parameter may hold: integers are exact in a double up to 2^53.
constexpr double kMaxInteger = 9007199254740992.0;

/// "a model", "an adapter", "a users model": a kind or family name with its article (SemaValues.cpp).
std::string article(const std::string &word);

// Defined in AST.cpp.
/// Deep copy of an expression (used for defaults, which are parsed once and copied to each use).
ast::ExprPtr cloneExpr(const ast::Expr &expr);
/// The source-like spelling of an expression, for messages and dumps.
std::string spell(const ast::Expr &expr);

} // namespace align::sema
