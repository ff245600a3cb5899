//===- InputLines.cpp - The JSON lines align-lm reads ---------------------===//

#include "align/rt/InputLines.h"

#include <nlohmann/json.hpp>

namespace align::rt {

std::vector<PromptLine> parsePromptLines(const std::string &text, const std::string &path) {
  std::vector<PromptLine> prompts;
  forEachInputLine(text, path, [&](const std::string &line, const std::string &where) {
    nlohmann::json row = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (row.is_discarded() || !row.is_object())
      throw Error(where + ": not a JSON object");
    if (!row.contains("prompt"))
      throw Error(where + ": expected a field 'prompt'");
    if (!row["prompt"].is_string())
      throw Error(where + ": field 'prompt': expected a string");
    prompts.push_back({row["prompt"].get<std::string>(), where});
  });
  return prompts;
}

InputRow parseInputRow(const std::string &line, const std::string &where, int64_t vocabSize) {
  nlohmann::json row = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
  if (row.is_discarded() || !row.is_object())
    throw Error(where + ": not a JSON object");
  InputRow out;
  if (row.contains("input_ids")) {
    const auto &field = row["input_ids"];
    if (!field.is_array())
      throw Error(where + ": field 'input_ids': expected an array of token ids");
    out.ids.emplace();
    for (size_t i = 0; i < field.size(); ++i) {
      if (!field[i].is_number_integer())
        throw Error(where + ": field 'input_ids'[" + std::to_string(i) + "]: expected an integer token id");
      int64_t id = field[i].get<int64_t>();
      if (id < 0 || id >= vocabSize)
        throw Error(where + ": field 'input_ids'[" + std::to_string(i) + "]: id " + std::to_string(id) +
                    " is outside the model's vocabulary of " + std::to_string(vocabSize));
      out.ids->push_back(id);
    }
    return out;
  }
  if (!row.contains("text"))
    throw Error(where + ": expected a field 'input_ids' or 'text'");
  if (!row["text"].is_string())
    throw Error(where + ": field 'text': expected a string");
  out.text = row["text"].get<std::string>();
  return out;
}

} // namespace align::rt
