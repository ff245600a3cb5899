//===- FuzzInputLines.cpp - libFuzzer target: align-lm's input lines ===//
//
// The JSON lines align-lm reads itself (runtime/include/align/rt/InputLines.h): the prompts of `generate
// --input` and the rows of `logprobs` / `score`. (`score-pairs` reads a typed data source: FuzzDataRows.cpp.)
// Every error names FILE:LINE; an accepted row's ids are inside the vocabulary.
//
//===----------------------------------------------------------------------===//

#include "FuzzHarness.h"

#include "align/rt/InputLines.h"

using namespace align::rt;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  const std::string text = align::fuzz::bytes(data, size);
  const std::string path = "fuzz-input.jsonl";
  align::fuzz::parsedOrRefused(path, [&] { (void)parsePromptLines(text, path); });
  const int64_t vocabSize = 300;
  forEachInputLine(text, path, [&](const std::string &line, const std::string &where) {
    InputRow row;
    if (align::fuzz::parsedOrRefused(where, [&] { row = parseInputRow(line, where, vocabSize); }) && row.ids)
      for (int64_t id : *row.ids)
        if (id < 0 || id >= vocabSize)
          std::abort();
  });
  return 0;
}
