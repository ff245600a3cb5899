//===- Sema.h - Semantic checks of .align recipes --------------*- C++ -*-===//
//
// Sema resolves names in two scopes (recipe, stage), checks every value against the constructor table
// (Schema.h) — kinds, types, ranges, required and unknown fields with "did you mean" hints — fills in
// defaults, checks the cross-declaration rules of the four methods (data kinds per objective, user ids,
// directions over a reward's objectives, stage order and cycles), and reports every error it finds.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "AST.h"
#include "Diagnostics.h"

namespace align {

/// Checks and annotates `file` in place. Returns true when no error was reported.
bool checkFile(ast::File &file, DiagnosticEngine &diags);

} // namespace align
