//===- JsonRows.h - Rows of a .jsonl or .json data file ---------*- C++ -*-===//
//
// Every data source reads its file through here: a `.jsonl` file (one object per line, blank lines
// ignored) or a `.json` file holding one top-level list of objects. Each row keeps the file and the 1-based
// line it starts on, so that every later complaint about it ("field 'chosen': expected a string") can say
// FILE:LINE. nlohmann's parser reports no positions for the values it returns, so the list form is cut into
// its elements by a small scanner (strings and escapes respected) and each element is parsed on its own.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "align/rt/Error.h"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace align::rt::data {

struct Row {
  nlohmann::json value;
  std::string file;
  int64_t line = 0; ///< 1-based line where the row (for .json: the list element) starts.
};

/// A row that could not be read, when the caller collects these instead of an exception.
struct RowError {
  int64_t line = 0;
  std::string message; ///< the whole message, FILE:LINE first
};

/// The rows of `path`. The format is chosen by the name: `.jsonl` is one object per line and `.json` a list;
/// any other name is read as a list when its first non-blank character is `[`, else as JSON lines.
/// Errors (align::rt::Error): `FILE:LINE: invalid JSON: <detail>`, `FILE:LINE: expected a JSON object, got
/// <type>`, `FILE: expected a JSON list of objects, got <type>` and `FILE: cannot read: <strerror>`.
/// `maxRows` ≥ 0 stops after that many rows (the rest of the file is not parsed). With `rowErrors`, the
/// errors that spoil one row only (a JSON line that does not parse, a row that is not an object) are
/// appended there instead of thrown, and count as rows for `maxRows`; a broken .json list still throws,
/// since nothing after the error can be trusted.
std::vector<Row> readJsonRows(const std::string &path, int64_t maxRows = -1,
                              std::vector<RowError> *rowErrors = nullptr);

/// The same on text already in memory; `file` is only used in messages and rows. `jsonList` selects the
/// list form.
std::vector<Row> parseJsonRows(const std::string &text, const std::string &file, bool jsonList, int64_t maxRows = -1,
                               std::vector<RowError> *rowErrors = nullptr);

/// "string", "number", "list", "object", "bool" or "null": how messages name a JSON value's type.
std::string jsonTypeName(const nlohmann::json &value);

} // namespace align::rt::data
