//===- Template.h - A data source's prompt/response template ----*- C++ -*-===//
//
// A recipe's `template` string, e.g. "## Human:\n{prompt}\n\n## Assistant:\n{response}", renders a prompt
// and a response into training text. The text is split at the {response} placeholder: everything before it
// is prompt text, the response and everything after it is response text, so prompt + response is the whole
// rendered text and the loss mask can cover exactly the response part (including, say, a closing "</s>"
// that the template writes after the response).
//
// The string arrives as the compiler stores it (docs/language.md §Strings): `\n`, `\t`, `\"` are decoded,
// but the three template escapes `\\`, `\{`, `\}` are still written and are decoded here.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "align/rt/Error.h"

#include <string>
#include <vector>

namespace align::rt::data {

struct RenderedPair {
  std::string promptText;
  std::string responseText;
};

class Template {
public:
  enum class Part { Literal, Prompt, Response, System };
  struct Segment {
    Part part;
    std::string text; ///< the literal text, escapes decoded; empty for placeholders
  };

  /// Parses `text`; an unclosed '{', an unmatched '}' or a placeholder other than {prompt}, {response} and
  /// {system} is an Error naming it. A '\' before any other character is kept as a literal backslash.
  static Template parse(const std::string &text);

  /// "{prompt}{response}": the prompt as given, the response appended.
  static Template plain() { return parse("{prompt}{response}"); }

  /// Prompt text: the template up to the first {response}. Response text: `response` and the rest of the
  /// template (a later {response} renders the response again). Without {response} in the template, all of
  /// it is prompt text and the response text is `response` alone.
  RenderedPair render(const std::string &prompt, const std::string &response, const std::string &system = "") const;

  /// The prompt part alone (for generation, where there is no response yet).
  std::string renderPrompt(const std::string &prompt, const std::string &system = "") const;

  bool uses(Part part) const;
  const std::vector<Segment> &segments() const { return segments_; }

private:
  std::vector<Segment> segments_;
};

} // namespace align::rt::data
