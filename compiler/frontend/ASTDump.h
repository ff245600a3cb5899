//===- ASTDump.h - Print the checked AST -----------------------*- C++ -*-===//
#pragma once

#include "AST.h"

#include <ostream>

namespace align {

/// Prints `file` one node per line (the format `alignc --emit=ast` shows and lit tests check).
void dumpAST(const ast::File &file, std::ostream &os);

} // namespace align
