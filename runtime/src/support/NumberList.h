//===- NumberList.h - A short list of numbers as text for progress lines -*- C++ -*-===//
//
// "[0.4083, 0.5917]": how the trainer's stderr lines show η, mixture weights and per-type regrets.
//
//===----------------------------------------------------------------------===//
#pragma once

#include <cstdio>
#include <string>
#include <vector>

namespace align::rt {

/// The values in brackets, each printed with the printf `format` (one double conversion).
inline std::string numberList(const std::vector<double> &values, const char *format = "%.4g") {
  std::string out = "[";
  for (size_t i = 0; i < values.size(); ++i) {
    char text[32];
    std::snprintf(text, sizeof text, format, values[i]);
    out += (i ? ", " : "") + std::string(text);
  }
  return out + "]";
}

} // namespace align::rt
