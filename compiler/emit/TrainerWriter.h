//===- TrainerWriter.h - The body of run() and its settings -----*- C++ -*-===//
//
// Collects the statements of the emitted `run(align::rt::Trainer &t)`, each followed by the recipe
// location it comes from, and every value the recipe names as a *setting*: a read through t.number /
// t.integer / t.text / t.flag / t.choice under a key, so that `TRAINER --set KEY=VALUE` replaces it. The same keys,
// with their recipe values and locations, become the RecipeInfo the trainer's --help lists.
//
// Keys (compiler/emit/README.md has the full table):
//   <model>.preset | .checkpoint | .path | .seed          a model declaration
//   <tokenizer>.path                                       an hf tokenizer
//   <data>.path | .limit | .shuffle_seed | .on_error | .template | .preferred | .<column field>
//   <data>.split.<split>                                   a percent split's fraction (0..1) or a file split's path
//   <reward or adapter>.<parameter>                        an attached reward head or LoRA adapter
//   <users>.<parameter>                                    a users model: tokens, generic, k, unseen, init,
//                                                          init_seed, init_common, init_range
//   <stage>.schedule.<field>                               the stage's schedule (recipe spelling: lr, beta1,
//                                                          weight_decay, micro_batch, eval_every_steps, ...)
//   <stage>.objective.<term>.<parameter>                   a term's parameter; `.weight` for terms of a sum;
//                                                          a second term of the same kind is `<term>_2`
//
//===----------------------------------------------------------------------===//
#pragma once

#include "Schema.h"

#include "mlir/IR/Location.h"

#include "llvm/ADT/StringMap.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/raw_ostream.h"

#include <cstdint>
#include <string>
#include <vector>

namespace align::emit {

class TrainerWriter {
public:
  /// One `code;` line of run(), with `// file:line:col` of `loc` after it.
  void statement(llvm::StringRef code, mlir::Location loc);
  /// A `// text` line (a section heading or a why).
  void comment(llvm::StringRef text);
  /// `head {` (e.g. a for loop the recipe declares), then the lines inside it indented, until close().
  void open(llvm::StringRef head, mlir::Location loc);
  void close();
  void blankLine();

  /// C++ expressions reading a setting; each registers `key` with its recipe value and location.
  /// `range`: the schema parameter whose range `--set KEY=VALUE` must respect (nullptr: any value).
  std::string number(llvm::StringRef key, double value, mlir::Location loc, const schema::Param *range = nullptr);
  std::string integer(llvm::StringRef key, int64_t value, mlir::Location loc, const schema::Param *range = nullptr);
  std::string text(llvm::StringRef key, llvm::StringRef value, mlir::Location loc);
  std::string flag(llvm::StringRef key, bool value, mlir::Location loc);
  /// A member of a closed set: `t.choice(key, align::rt::Precision::automatic)`; the setting's value is the
  /// recipe's spelling ("auto"), which is also what --set takes.
  std::string choice(llvm::StringRef key, llvm::StringRef member, llvm::StringRef spelling, mlir::Location loc);

  /// `key`, or `key_2`, `key_3`... when a setting `key` already exists (a sum with two terms of one kind).
  std::string freshKey(llvm::StringRef key) const;

  const std::string &body() const { return body_; }
  bool hasSettings() const { return !settings_.empty(); }

  /// `static const align::rt::RecipeInfo recipe = {...};` with every registered setting in order.
  void printRecipeInfo(llvm::raw_ostream &os, llvm::StringRef recipeName, llvm::StringRef sourcePath,
                       const std::vector<std::string> &stages) const;

private:
  struct Setting {
    std::string key, value, location;
    std::string kind;    ///< the Trainer method that reads it: number, integer, text, flag, choice
    std::string choices; ///< a choice: the closed set's C++ type
    const schema::Param *range = nullptr;
  };
  std::string read(llvm::StringRef method, llvm::StringRef key, llvm::StringRef literal, llvm::StringRef value,
                   mlir::Location loc, const schema::Param *range = nullptr, llvm::StringRef choices = "");

  /// One line of run() at the current depth, with the location comment.
  void line(llvm::StringRef code, mlir::Location loc);

  std::string body_;
  int depth_ = 0; ///< blocks open()ed and not yet closed
  std::vector<Setting> settings_;
  llvm::StringMap<size_t> settingIndex_;
};

} // namespace align::emit
