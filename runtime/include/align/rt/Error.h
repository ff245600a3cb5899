//===- Error.h - The runtime's one exception type --------------*- C++ -*-===//
//
// Everything the runtime rejects (a malformed data row, a truncated safetensors file, a config.json without
// a field it needs) is an align::rt::Error whose message names the place: file, line or tensor, and field.
// Tools and generated trainers catch it at main() and print it; nothing below main() prints.
//
//===----------------------------------------------------------------------===//
#pragma once

#include <stdexcept>
#include <string>

namespace align::rt {

class Error : public std::runtime_error {
public:
  explicit Error(const std::string &message) : std::runtime_error(message) {}
};

} // namespace align::rt
