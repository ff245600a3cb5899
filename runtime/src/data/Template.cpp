//===- Template.cpp - A data source's prompt/response template ------------===//

#include "data/Template.h"

namespace align::rt::data {

Template Template::parse(const std::string &text) {
  Template t;
  std::string literal;
  auto flushLiteral = [&] {
    if (!literal.empty())
      t.segments_.push_back({Part::Literal, literal});
    literal.clear();
  };
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '\\' && i + 1 < text.size() && (text[i + 1] == '\\' || text[i + 1] == '{' || text[i + 1] == '}')) {
      literal += text[++i];
    } else if (c == '{') {
      size_t close = text.find('}', i + 1);
      size_t nextOpen = text.find('{', i + 1);
      if (close == std::string::npos || nextOpen < close)
        throw Error("template \"" + text + "\": unclosed '{' at offset " + std::to_string(i) +
                    "; write a literal brace as \\{");
      std::string name = text.substr(i + 1, close - i - 1);
      Part part;
      if (name == "prompt")
        part = Part::Prompt;
      else if (name == "response")
        part = Part::Response;
      else if (name == "system")
        part = Part::System;
      else
        throw Error("template \"" + text + "\": unknown placeholder '{" + name +
                    "}'; a data template provides {prompt}, {response} and {system}");
      flushLiteral();
      t.segments_.push_back({part, ""});
      i = close;
    } else if (c == '}') {
      throw Error("template \"" + text + "\": unmatched '}' at offset " + std::to_string(i) +
                  "; write a literal brace as \\}");
    } else {
      literal += c;
    }
  }
  flushLiteral();
  return t;
}

RenderedPair Template::render(const std::string &prompt, const std::string &response, const std::string &system) const {
  RenderedPair out;
  bool inResponse = false;
  for (const Segment &s : segments_) {
    std::string &dest = inResponse ? out.responseText : out.promptText;
    switch (s.part) {
    case Part::Literal:
      dest += s.text;
      break;
    case Part::Prompt:
      dest += prompt;
      break;
    case Part::System:
      dest += system;
      break;
    case Part::Response:
      inResponse = true;
      out.responseText += response;
      break;
    }
  }
  if (!inResponse)
    out.responseText = response;
  return out;
}

std::string Template::renderPrompt(const std::string &prompt, const std::string &system) const {
  return render(prompt, "", system).promptText;
}

bool Template::uses(Part part) const {
  for (const Segment &s : segments_)
    if (s.part == part)
      return true;
  return false;
}

} // namespace align::rt::data
