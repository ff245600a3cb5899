//===- Parse.h - .align source → AST ----------------------------*- C++ -*-===//
//
// Lexes and parses one source file with the ANTLR-generated parser and turns the parse tree into the
// plain AST of AST.h. Syntax errors go to the DiagnosticEngine with exact line:col; ANTLR's recovery keeps
// going so that every syntax error of the file is reported. No ANTLR type escapes this interface.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "AST.h"
#include "Diagnostics.h"

#include <memory>

namespace align {

/// Limits that keep a hostile or broken input from exhausting the stack of a recursive-descent parser.
struct ParseLimits {
  unsigned maxNesting = 64;             // brackets of any kind, nested
  unsigned maxOperatorsPerStatement = 256; // +, -, *, /, with in one statement
};

/// Parses `file`. Returns the AST, or null when the file has syntax errors (they are in `diags`).
std::unique_ptr<ast::File> parseFile(const SourceFile &file, DiagnosticEngine &diags,
                                     const ParseLimits &limits = {});

} // namespace align
