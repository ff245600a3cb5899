//===- FuzzHarness.h - What every runtime parser's fuzz target checks -*- C++ -*-===//
//
// The runtime's promise for untrusted input (runtime/include/align/rt/Error.h): a file it cannot use is
// refused with an align::rt::Error whose message names the place. So a target passes a file name of its own
// to the parser, and on an Error checks that the message is not empty and names that file; it catches
// nothing else, so any other exception, crash, sanitizer report, hang or blow-up in memory is a finding that
// libFuzzer reports (run-runtime-fuzzer.sh sets -timeout and -rss_limit_mb).
//
//===----------------------------------------------------------------------===//
#pragma once

#include "align/rt/Error.h"

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

namespace align::fuzz {

/// Aborts (a libFuzzer crash with the input saved) when `message` is empty or does not name `place`.
inline void checkRefusal(const std::string &message, const std::string &place) {
  if (!message.empty() && message.find(place) != std::string::npos)
    return;
  std::fprintf(stderr, "align::rt::Error that does not name '%s': \"%s\"\n", place.c_str(), message.c_str());
  std::abort();
}

/// Runs `parse()`: true when it returned, false when it refused the input with an Error naming `place`.
template <typename Parse> bool parsedOrRefused(const std::string &place, Parse &&parse) {
  try {
    parse();
    return true;
  } catch (const rt::Error &e) {
    checkRefusal(e.what(), place);
    return false;
  }
}

inline std::string bytes(const uint8_t *data, size_t size) { return std::string(reinterpret_cast<const char *>(data), size); }

/// Splits `input` at its first NUL byte (which no JSON text holds): the parts are two files of one case.
inline std::pair<std::string, std::string> splitAtNul(const std::string &input) {
  size_t nul = input.find('\0');
  if (nul == std::string::npos)
    return {input, ""};
  return {input.substr(0, nul), input.substr(nul + 1)};
}

} // namespace align::fuzz
