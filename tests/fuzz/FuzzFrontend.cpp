//===- FuzzFrontend.cpp - libFuzzer target: any input → diagnostics -------===//
//
// Whatever bytes arrive, the front end must answer with diagnostics or a checked AST, never a crash, a hang
// or a sanitizer report. Beyond not crashing, it checks the contract the driver relies on: a failed parse
// or check has at least one error, and every renderer (text, JSON, AST dump) runs on the result.
//
//===----------------------------------------------------------------------===//

#include "ASTDump.h"
#include "Frontend.h"

#include <cstdint>
#include <cstdlib>
#include <sstream>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  align::FrontendResult result =
      align::checkSource("fuzz.align", std::string(reinterpret_cast<const char *>(data), size));
  if (!result.ast && !result.diags->hasErrors())
    std::abort(); // a failed parse must say why
  std::ostringstream sink;
  result.diags->printText(sink);
  result.diags->printJson(sink);
  if (result.ok())
    align::dumpAST(*result.ast, sink);
  return 0;
}
