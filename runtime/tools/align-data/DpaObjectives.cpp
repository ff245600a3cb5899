//===- DpaObjectives.cpp - The DPA task's true helpfulness and verbosity --===//
//
// The formulas are in DpaObjectives.h.
//
//===----------------------------------------------------------------------===//

#include "DpaObjectives.h"

#include <algorithm>
#include <stdexcept>

namespace align::data {

namespace {

bool isWordByte(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'); }

char lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

std::string lowered(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), lower);
  return s;
}

} // namespace

std::vector<std::string> dpaWords(const std::string &text) {
  std::vector<std::string> words;
  std::string word;
  for (char c : text) {
    if (isWordByte(c)) {
      word += lower(c);
      continue;
    }
    if (!word.empty())
      words.push_back(std::move(word));
    word.clear();
  }
  if (!word.empty())
    words.push_back(std::move(word));
  return words;
}

DpaObjectives dpaTrueObjectives(const std::string &response, const std::vector<std::string> &facts) {
  if (facts.empty())
    throw std::invalid_argument("a DPA prompt asks for no facts");
  const std::vector<std::string> words = dpaWords(response);
  DpaObjectives objectives;
  objectives.words = static_cast<long>(words.size());
  for (const std::string &fact : facts)
    objectives.stated += std::find(words.begin(), words.end(), lowered(fact)) != words.end();
  objectives.helpfulness = 4.0 * static_cast<double>(objectives.stated) / static_cast<double>(facts.size());
  objectives.verbosity = std::min(4.0, static_cast<double>(objectives.words) / kDpaWordsPerVerbosityPoint);
  return objectives;
}

} // namespace align::data
