//===- SvgText.h - What the SVG pictures share: numbers, text, ticks -*- C++ -*-===//
#pragma once

#include <cmath>
#include <cstdio>
#include <string>

namespace align::rt::svg {

/// A value as a short label ("%.4g").
inline std::string number(double v) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.4g", v);
  return buffer;
}

/// Text as SVG character data or an attribute value.
inline std::string escape(const std::string &text) {
  std::string out;
  for (char c : text) {
    switch (c) {
    case '&': out += "&amp;"; break;
    case '<': out += "&lt;"; break;
    case '>': out += "&gt;"; break;
    case '"': out += "&quot;"; break;
    default: out += c;
    }
  }
  return out;
}

/// A round tick step (1, 2 or 5 times a power of ten) giving about `ticks` intervals over `span` > 0.
inline double tickStep(double span, int ticks) {
  const double raw = span / ticks, power = std::pow(10.0, std::floor(std::log10(raw)));
  for (double m : {1.0, 2.0, 5.0})
    if (m * power >= raw)
      return m * power;
  return 10 * power;
}

} // namespace align::rt::svg
