//===- AST.h - The abstract syntax tree of .align recipes ------*- C++ -*-===//
//
// Plain C++ types with source ranges. Nothing here depends on ANTLR or MLIR: the parse step
// (Parse.cpp) builds these from the parse tree, Sema annotates them in place (resolved references,
// normalised arguments, defaults), and everything downstream (dumps, MLIRGen) reads only these.
//
//===----------------------------------------------------------------------===//
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace align::ast {

/// A 1-based line and column. Column counts bytes, like clang and MLIR do.
struct Loc {
  uint32_t line = 0;
  uint32_t col = 0;
  bool valid() const { return line != 0; }
};

/// A source range; `end` is the position one past the last character (same line as its last token).
struct Range {
  Loc begin;
  Loc end;
};

struct Expr;
using ExprPtr = std::unique_ptr<Expr>;
struct Decl;
struct Stage;

/// `key: value` inside a call's parentheses, or the value alone for a positional argument.
struct Argument {
  std::string key; // empty when positional (Sema fills it in from the schema)
  Range keyRange;
  ExprPtr value;
  bool isDefault = false; // added by Sema from the defaults table
};

enum class ExprKind {
  Number,   // 3, 1e-5
  Percent,  // 10%      (number holds 10)
  Angle,    // 45deg    (number holds degrees)
  Duration, // 30min    (number holds seconds)
  Size,     // 8GiB     (number holds bytes)
  String,   // "text"   (escapes decoded)
  Bool,     // true, false
  Ref,      // name, or name.split
  Call,     // callee(args)
  List,     // [a, b]
  Negate,   // -x
  Binary,   // a + b, a - b, a * b, a / b
  With,     // base with users
};

/// What a reference resolved to (filled by Sema).
enum class RefTarget { Unresolved, Decl, Stage, DataSplit, Enum };

struct Expr {
  ExprKind kind;
  Range range;

  double number = 0;             // Number, Percent, Angle, Duration, Size
  bool boolean = false;          // Bool
  bool isInteger = false;        // Number written without '.' or exponent
  // String: the value with \n \t \" decoded; the template escapes \\ \{ \} are kept as written, so a
  // template can tell a literal brace or backslash from a placeholder (ast::plainText() decodes them).
  // Call: the callee. Binary: the operator ("+", "-", "*", "/").
  std::string text;
  Range calleeRange;             // Call
  std::vector<std::string> path; // Ref segments (`prefs.eval` → {"prefs", "eval"})
  std::vector<Range> pathRanges; // one per segment
  std::vector<Argument> args;    // Call
  std::vector<ExprPtr> operands; // List items; Negate: 1; Binary, With: 2

  // Sema annotations.
  RefTarget target = RefTarget::Unresolved;
  const Decl *decl = nullptr;   // Ref → declaration (also for data splits)
  const Stage *stage = nullptr; // Ref → stage
  std::string family;           // Call: the schema family it was checked against ("objective", ...)

  Expr(ExprKind kind, Range range) : kind(kind), range(range) {}
  const Argument *arg(const std::string &key) const;
};

/// `key: value;` in a field block (or an argument that Sema merged into the block's parameter set).
struct Field {
  std::string key;
  Range keyRange;
  ExprPtr value;
  bool isDefault = false;
};

/// `split eval = 10% by user;` inside a data declaration's block.
struct Split {
  std::string name;
  Range nameRange;
  Range range;
  ExprPtr value;
  std::string by; // group column: the split keeps every row of a group together
  Range byRange;
};

/// `{ key: value; ... }` after a declaration, `schedule`, `loop` or eval metric.
struct FieldBlock {
  Range range;
  std::vector<Field> fields;
  std::vector<Split> splits;
  const Field *find(const std::string &key) const;
};

enum class DeclKind {
  Tokenizer,
  Model,
  Data,
  Users,
  Preference,
  Reward,
  Adapter,
  Template,
  Aggregate,
  Policy,
  Reference,
};
const char *declKindName(DeclKind kind);

/// A string's value with the template escapes \\ \{ \} decoded too: what a path or plain string means.
std::string plainText(const std::string &text);

/// A size in bytes as a recipe writes it: the largest binary unit that divides it (`8GiB`), else bytes
/// (`1000B` is not a literal; this is for messages).
std::string sizeText(double bytes);

/// `kind name = value { block };`
struct Decl {
  DeclKind kind;
  std::string name;
  Range nameRange;
  Range range;
  ExprPtr value;
  std::optional<FieldBlock> block;
  const Stage *owner = nullptr; // the stage declaring it, or null at recipe level

  // Sema: the constructor the value calls (`pairwise` for `data x = pairwise("f")`), empty otherwise.
  std::string constructor;
  // Sema: merged parameters of the constructor call and the block, in schema order, defaults included.
  std::vector<Field> params;
  const Field *param(const std::string &key) const;
};
using DeclPtr = std::unique_ptr<Decl>;

/// `train pi on prefs.train, more.train;`
struct TrainItem {
  std::string target;
  Range targetRange;
  Range range;
  std::vector<ExprPtr> data;
  const Decl *targetDecl = nullptr; // Sema
};

/// `loop em { iterations: 5; }`
struct Loop {
  std::string kind;
  Range kindRange;
  Range range;
  FieldBlock block;
};

/// `accuracy by user on prefs.eval { ... };`
struct EvalItem {
  std::string metric;
  Range metricRange;
  Range range;
  std::vector<Argument> args;
  std::string by;
  Range byRange;
  std::vector<ExprPtr> data;
  std::optional<FieldBlock> block;
};

struct EvalBlock {
  Range range;
  std::vector<EvalItem> items;
};

struct InitFrom {
  std::string source;
  Range sourceRange;
  Range range;
  const Stage *stage = nullptr; // Sema
};

struct Stage {
  std::string name;
  Range nameRange;
  Range range;
  unsigned index = 0; // position among the recipe's stages (stages run in order)
  std::optional<InitFrom> init;
  std::vector<Range> repeatedInits; // further `init from` lines (an error Sema reports)
  std::vector<TrainItem> trains;
  std::vector<std::pair<Range, ExprPtr>> objectives; // `objective expr;`
  std::vector<Loop> loops;
  std::vector<DeclPtr> decls;
  std::vector<FieldBlock> schedules;
  std::vector<EvalBlock> evals;

  // Sema: the stage's schedule after layering schema defaults, the recipe's schedule and the stage's own.
  std::vector<Field> effectiveSchedule;
  std::vector<std::string> scheduleOrigin; // "default", "recipe" or "stage", one per effectiveSchedule field
};
using StagePtr = std::unique_ptr<Stage>;

struct Recipe {
  std::string name;
  Range nameRange;
  Range range;
  std::vector<DeclPtr> decls;
  std::vector<StagePtr> stages;
  std::vector<FieldBlock> schedules;
  std::vector<EvalBlock> evals;
};

struct File {
  std::string path;
  std::vector<Recipe> recipes;
};

} // namespace align::ast
