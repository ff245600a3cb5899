//===- CompilerDiagnostics.cpp - MLIR diagnostics through the front end's engine ---===//

#include "CompilerDiagnostics.h"

#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/Location.h"

#include "llvm/ADT/TypeSwitch.h"
#include "llvm/Support/MemoryBuffer.h"

#include <cctype>
#include <ostream>

namespace align::driver {

namespace {

/// The first file position inside `loc` (through fused, named and call-site locations), if any.
std::optional<mlir::FileLineColLoc> filePosition(mlir::Location loc) {
  std::optional<mlir::FileLineColLoc> found;
  loc->walk([&](mlir::Location inner) {
    if (auto file = inner.dyn_cast<mlir::FileLineColLoc>()) {
      found = file;
      return mlir::WalkResult::interrupt();
    }
    return mlir::WalkResult::advance();
  });
  return found;
}

/// The range of the word at `loc` in `file` (a caret under `em_dpo`, not one column), or the position alone.
ast::Range rangeAt(const SourceFile &file, std::optional<mlir::FileLineColLoc> loc) {
  if (!loc)
    return ast::Range{};
  ast::Range range;
  range.begin.line = range.end.line = loc->getLine();
  range.begin.col = range.end.col = loc->getColumn();
  if (loc->getFilename().getValue() != file.path() || loc->getLine() == 0 || loc->getColumn() == 0)
    return range;
  std::string_view text = file.line(loc->getLine());
  uint32_t end = loc->getColumn();
  while (end <= text.size() && (std::isalnum(static_cast<unsigned char>(text[end - 1])) || text[end - 1] == '_'))
    ++end;
  range.end.col = std::max(end, range.begin.col + 1);
  return range;
}

std::string readFile(const std::string &path) {
  auto buffer = llvm::MemoryBuffer::getFile(path);
  return buffer ? (*buffer)->getBuffer().str() : std::string();
}

} // namespace

CompilerDiagnostics::CompilerDiagnostics(mlir::MLIRContext &context, FrontendResult &result)
    : engine_(result.diags.get()) {
  install(context);
}

CompilerDiagnostics::CompilerDiagnostics(mlir::MLIRContext &context, const SourceFile &source)
    : ownEngine_(std::make_unique<DiagnosticEngine>(source)), engine_(ownEngine_.get()) {
  install(context);
}

CompilerDiagnostics::CompilerDiagnostics(mlir::MLIRContext &context, const std::string &path)
    : ownSource_(std::make_unique<SourceFile>(path, readFile(path))),
      ownEngine_(std::make_unique<DiagnosticEngine>(*ownSource_)), engine_(ownEngine_.get()) {
  install(context);
}

CompilerDiagnostics::~CompilerDiagnostics() = default;

void CompilerDiagnostics::install(mlir::MLIRContext &context) {
  handler_ = std::make_unique<mlir::ScopedDiagnosticHandler>(&context, [this](mlir::Diagnostic &diag) {
    const SourceFile &file = engine_->file();
    ast::Range range = rangeAt(file, filePosition(diag.getLocation()));
    std::string message = diag.str();
    Diagnostic &reported = diag.getSeverity() == mlir::DiagnosticSeverity::Error ? engine_->error(range, message)
                                                                                  : engine_->warning(range, message);
    for (mlir::Diagnostic &note : diag.getNotes())
      reported.notes.push_back(Note{rangeAt(file, filePosition(note.getLocation())), note.str()});
    return mlir::success();
  });
}

void CompilerDiagnostics::error(const std::string &message) { engine_->error(ast::Range{}, message); }

void CompilerDiagnostics::printFrontend(const FrontendResult &result, DiagnosticFormat format, std::ostream &out,
                                        std::ostream &err, bool color) {
  if (format == DiagnosticFormat::Json)
    result.diags->printJson(out);
  else
    result.diags->printText(err, color);
}

void CompilerDiagnostics::print(DiagnosticFormat format, std::ostream &out, std::ostream &err, bool color) const {
  if (format == DiagnosticFormat::Json)
    engine_->printJson(out);
  else
    engine_->printText(err, color);
}

} // namespace align::driver
