//===- Frontend.h - Load, parse and check one recipe file ------*- C++ -*-===//
//
// The one entry point the driver, the fuzzer and later MLIRGen use: read a file (or take a buffer), parse
// it, run Sema, and hand back the checked AST together with the diagnostics.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "AST.h"
#include "Diagnostics.h"

#include <memory>
#include <string>

namespace align {

struct FrontendResult {
  std::unique_ptr<SourceFile> source;
  std::unique_ptr<DiagnosticEngine> diags;
  std::unique_ptr<ast::File> ast; // null when parsing failed; checked (possibly with errors) otherwise
  bool ok() const { return ast && !diags->hasErrors(); }
};

/// Largest recipe accepted; anything bigger is surely not a recipe and is refused with a diagnostic.
constexpr size_t kMaxSourceBytes = 4 << 20;

/// Parses and checks `text` as if it were the contents of `path`.
FrontendResult checkSource(const std::string &path, std::string text);
/// Reads `path` and checks it; an unreadable file is reported as a diagnostic on that path.
FrontendResult checkPath(const std::string &path);

} // namespace align
