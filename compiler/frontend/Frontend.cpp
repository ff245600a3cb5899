//===- Frontend.cpp - Load, parse and check one recipe file ---------------===//

#include "Frontend.h"
#include "Parse.h"
#include "Sema.h"

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace align {

FrontendResult checkSource(const std::string &path, std::string text) {
  FrontendResult result;
  result.source = std::make_unique<SourceFile>(path, std::move(text));
  result.diags = std::make_unique<DiagnosticEngine>(*result.source);
  if (result.source->text().size() > kMaxSourceBytes) {
    result.diags->error({{1, 1}, {1, 2}}, "file is larger than " + std::to_string(kMaxSourceBytes >> 20) +
                                              " MiB; it is not a recipe");
    return result;
  }
  result.ast = parseFile(*result.source, *result.diags);
  if (result.ast)
    checkFile(*result.ast, *result.diags);
  return result;
}

FrontendResult checkPath(const std::string &path) {
  std::error_code ec;
  bool directory = std::filesystem::is_directory(path, ec);
  std::ifstream in(path, std::ios::binary);
  if (!in || directory) {
    std::string reason = directory ? "it is a directory" : std::strerror(errno);
    FrontendResult result;
    result.source = std::make_unique<SourceFile>(path, "");
    result.diags = std::make_unique<DiagnosticEngine>(*result.source);
    result.diags->error({}, "cannot read file: " + reason);
    return result;
  }
  std::ostringstream buffer;
  buffer << in.rdbuf();
  return checkSource(path, buffer.str());
}

} // namespace align
