//===- DiagnosticVerifier.h - `--verify-diagnostics` for recipes *- C++ -*-===//
//
// Lit tests state the diagnostics a recipe must produce in comments, as MLIR tests do:
//
//   # expected-error @+1 {{unknown parameter 'betta' of 'dpo'}}
//   objective dpo(betta: 0.1);
//
// Forms: `expected-error|warning|note`, optional `-re` (the text is a regex), and an optional location:
// none (this line), `@+N` / `@-N` (relative), `@above` / `@below`; an optional count (`expected-error 2
// {{...}}`) for repeated diagnostics. The text must occur in the message; a malformed directive is an error.
// Every error and warning must be expected; notes are checked only where a test expects them.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "Diagnostics.h"

#include <ostream>

namespace align {

/// Compares the engine's diagnostics with the file's `expected-*` comments; prints mismatches to `os`
/// and returns true when they agree.
bool verifyDiagnostics(const DiagnosticEngine &diags, std::ostream &os);

} // namespace align
