//===- TrainerWriter.cpp - The body of run() and its settings -------------===//

#include "TrainerWriter.h"

#include "CppText.h"

namespace align::emit {

namespace {
/// Statements are padded to this column before their location comment, so the comments line up.
constexpr size_t kCommentColumn = 80;
constexpr llvm::StringLiteral kIndent = "  ";
} // namespace

void TrainerWriter::statement(llvm::StringRef code, mlir::Location loc) { line((code + ";").str(), loc); }

void TrainerWriter::line(llvm::StringRef code, mlir::Location loc) {
  std::string line = kIndent.str() + std::string(2 * depth_, ' ') + code.str();
  std::string where = locationText(loc);
  if (!where.empty()) {
    line.append(line.size() < kCommentColumn ? kCommentColumn - line.size() : 1, ' ');
    line += " // " + commentText(where);
  }
  body_ += line + "\n";
}

void TrainerWriter::comment(llvm::StringRef text) {
  body_ += kIndent.str() + std::string(2 * depth_, ' ') + "// " + commentText(text) + "\n";
}

void TrainerWriter::open(llvm::StringRef head, mlir::Location loc) {
  line((head + " {").str(), loc);
  ++depth_;
}

void TrainerWriter::close() {
  --depth_;
  body_ += (kIndent + std::string(2 * depth_, ' ') + "}\n").str();
}

void TrainerWriter::blankLine() { body_ += "\n"; }

std::string TrainerWriter::read(llvm::StringRef method, llvm::StringRef key, llvm::StringRef literal,
                                llvm::StringRef value, mlir::Location loc, const schema::Param *range,
                                llvm::StringRef choices) {
  auto found = settingIndex_.find(key);
  if (found == settingIndex_.end()) {
    settingIndex_[key] = settings_.size();
    settings_.push_back({key.str(), value.str(), locationText(loc), method.str(), choices.str(),
                         range && (range->min || range->max) ? range : nullptr});
  }
  return ("t." + method + "(" + cppString(key) + ", " + literal + ")").str();
}

std::string TrainerWriter::number(llvm::StringRef key, double value, mlir::Location loc, const schema::Param *range) {
  return read("number", key, cppDouble(value), settingDouble(value), loc, range);
}

std::string TrainerWriter::integer(llvm::StringRef key, int64_t value, mlir::Location loc, const schema::Param *range) {
  return read("integer", key, cppInteger(value), std::to_string(value), loc, range);
}

std::string TrainerWriter::text(llvm::StringRef key, llvm::StringRef value, mlir::Location loc) {
  return read("text", key, cppString(value), value, loc);
}

std::string TrainerWriter::flag(llvm::StringRef key, bool value, mlir::Location loc) {
  return read("flag", key, value ? "true" : "false", value ? "true" : "false", loc);
}

std::string TrainerWriter::choice(llvm::StringRef key, llvm::StringRef member, llvm::StringRef spelling,
                                  mlir::Location loc) {
  // member is align::rt::<Set>::<Case>: the set's type names the closed set the trainer checks --set against.
  llvm::StringRef set = llvm::StringRef(member).rsplit("::").first.rsplit("::").second;
  return read("choice", key, member, spelling, loc, nullptr, set);
}

std::string TrainerWriter::freshKey(llvm::StringRef key) const {
  if (!settingIndex_.count(key))
    return key.str();
  for (int n = 2;; ++n) {
    std::string candidate = (key + "_" + llvm::Twine(n)).str();
    if (!settingIndex_.count(candidate))
      return candidate;
  }
}

void TrainerWriter::printRecipeInfo(llvm::raw_ostream &os, llvm::StringRef recipeName, llvm::StringRef sourcePath,
                                    const std::vector<std::string> &stages) const {
  os << "// Every value the recipe names, as `--set KEY=VALUE` accepts it: key, recipe value, recipe location, how\n"
        "// the trainer reads it (a choice: from which closed set) and the schema's range.\n";
  os << "static const align::rt::RecipeInfo recipe = {\n";
  os << "    " << cppString(recipeName) << ",\n";
  os << "    " << cppString(sourcePath) << ",\n";
  os << "    {\n";
  for (const Setting &setting : settings_) {
    os << "        {" << cppString(setting.key) << ", " << cppString(setting.value) << ", " << cppString(setting.location)
       << ", align::rt::SettingKind::" << setting.kind;
    if (!setting.choices.empty() || setting.range)
      os << ", " << cppString(setting.choices);
    if (const schema::Param *p = setting.range) // {hasMin, minOpen, hasMax, maxOpen, min, max}: the schema's range
      os << ", {" << (p->min ? "true" : "false") << ", " << (p->minOpen ? "true" : "false") << ", "
         << (p->max ? "true" : "false") << ", " << (p->maxOpen ? "true" : "false") << ", " << cppDouble(p->min.value_or(0))
         << ", " << cppDouble(p->max.value_or(0)) << "}";
    os << "},\n";
  }
  os << "    },\n";
  os << "    {";
  for (size_t i = 0; i < stages.size(); ++i)
    os << (i ? ", " : "") << cppString(stages[i]);
  os << "},\n";
  os << "};\n";
}

} // namespace align::emit
