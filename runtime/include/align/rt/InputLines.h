//===- InputLines.h - The JSON lines align-lm reads -------------*- C++ -*-===//
//
// align-lm's own inputs (runtime/tools/align-lm/align-lm.cpp): public and torch-free like align/rt/Inference.h,
// implemented in runtime/src/data/InputLines.cpp and fuzzed in tests/fuzz/:
// a prompts file for `generate --input` ({"prompt": TEXT} per line) and the rows of `logprobs` and `score`
// ({"input_ids": [ids]} or {"text": TEXT} per line). Blank lines are not rows. Every error names FILE:LINE and
// the field. (`score-pairs` reads a typed data source through data/Examples.h instead.)
//
//===----------------------------------------------------------------------===//
#pragma once

#include "align/rt/Error.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace align::rt {

/// One line of a prompts file: its "prompt" and where it is (FILE:LINE).
struct PromptLine {
  std::string text, where;
};

/// The "prompt" of each non-blank line of `text`, the contents of the prompts file `path`.
std::vector<PromptLine> parsePromptLines(const std::string &text, const std::string &path);

/// One row of `logprobs`/`score`: token ids as given (each in [0, vocabSize)), or a text to tokenize.
struct InputRow {
  std::optional<std::vector<int64_t>> ids;
  std::string text; ///< when there are no ids
};

/// Parses one non-blank line; `where` (FILE:LINE) starts every error.
InputRow parseInputRow(const std::string &line, const std::string &where, int64_t vocabSize);

/// Calls `row(line, where)` for each non-blank line of `text` (split at '\n', as std::getline does), where is
/// PATH:LINE.
template <typename RowFn> void forEachInputLine(const std::string &text, const std::string &path, RowFn row) {
  size_t pos = 0;
  for (size_t lineNo = 1; pos < text.size(); ++lineNo) {
    size_t end = text.find('\n', pos);
    if (end == std::string::npos)
      end = text.size();
    const std::string line = text.substr(pos, end - pos);
    pos = end + 1;
    if (line.find_first_not_of(" \t\r") != std::string::npos)
      row(line, path + ":" + std::to_string(lineNo));
  }
}

} // namespace align::rt
