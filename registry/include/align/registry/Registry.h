//===- Registry.h - The one table of objectives, metrics and names -*- C++ -*-===//
//
// A read-only view of Objectives.def, Metrics.def, Enums.def and DataColumns.def for the compiler (front end, dialects, passes,
// emitter) and the runtime's internals. Plain C++17, no dependencies, header only: the front end (no LLVM),
// the dialects (LLVM's flags: no exceptions, no RTTI) and the runtime (LibTorch) all include it.
//
// Entries keep the tables' order, which is also the numbering of the generated enums (the train dialect's
// LossKind, the runtime API's LossKind and MetricKind): objectives()[static_cast<int>(kind)] describes `kind`.
//
//===----------------------------------------------------------------------===//
#pragma once

#include <cstdint>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

namespace align::registry {

/// What an objective is and needs. Bit flags: an objective's `traits` is their union.
enum Trait : unsigned {
  Pairwise = 1u << 0,            ///< compares a better and a worse response (chosen/rejected)
  NeedsReference = 1u << 1,      ///< reads a frozen reference model's log-probs
  TakesScores = 1u << 2,         ///< reads a reward head's scores, not log-probs
  MixesUsers = 1u << 3,          ///< α-mixes user rows and their generic duplicates (the P-RLHF family)
  NeedsUsers = 1u << 4,          ///< a users model on the trained model and a `user` column
  NeedsAnnotators = 1u << 5,     ///< an `annotator` (or `user`) column
  NeedsResponseScores = 1u << 6, ///< per-response scores in the data (imitation's threshold)
  NeedsGeneration = 1u << 7,     ///< samples from the model
  LengthNormalised = 1u << 8,    ///< reads token counts or average log-probs
  TypeWeighted = 1u << 9,        ///< weights each example by its annotator's posterior γ[k, h] over latent types (EM)
  Listwise = 1u << 10,           ///< reads all of an example's responses to one prompt together (a ranking)
};

enum class Target { LanguageModel, Reward, Any };
enum class ParamType { Number, Int, Bool, Ref };
enum class Presence { Default, Required, Optional };

/// A numeric range; ±infinity where unbounded.
struct Range {
  double min = -std::numeric_limits<double>::infinity();
  bool minOpen = false;
  double max = std::numeric_limits<double>::infinity();
  bool maxOpen = false;
  bool hasMin() const { return min != -std::numeric_limits<double>::infinity(); }
  bool hasMax() const { return max != std::numeric_limits<double>::infinity(); }
  bool contains(double v) const {
    return (minOpen ? v > min : v >= min) && (maxOpen ? v < max : v <= max);
  }
};

struct Param {
  const char *name;
  ParamType type;
  const char *detail;       ///< Ref: the declaration kinds it may name, "a|b"
  Presence presence;
  const char *defaultText;  ///< the default as recipe text ("0.1", "false"); "" unless presence is Default
  Range range;
  bool executed;            ///< false: the runtime does only the default
  const char *doc;
};

/// What objectives and metrics have in common: their names, whether the runtime executes them, traits, and
/// typed parameters.
struct Entry {
  const char *id;   ///< the C++ stem: the runtime's parameter struct is <id>Params
  const char *name; ///< the recipe's word
  bool executed;
  unsigned traits;
  const char *doc;
  std::vector<Param> params;
  bool has(Trait t) const { return (traits & t) != 0; }
  const Param *param(const std::string &n) const {
    for (const Param &p : params)
      if (n == p.name)
        return &p;
    return nullptr;
  }
};

struct Objective : Entry {
  Target target;
  const char *sources; ///< data kinds, "a|b|c"
};

struct Metric : Entry {
  const char *by; ///< what `by` may name, "a|b"
};

struct Case {
  const char *name;     ///< the C++ member
  const char *spelling; ///< the recipe's word
  bool executed;
};

struct Enum {
  const char *type; ///< the C++ type name
  const char *key;  ///< the recipe's word for the set
  const char *doc;
  std::vector<Case> cases;
};

/// A built-in model size (Presets.def).
struct PresetShape {
  const char *name;
  int64_t hidden, layers, heads, kvHeads, intermediate, maxPositions;
};

/// A field of a data kind that names a column of the file (DataColumns.def).
struct Column {
  const char *kind;          ///< the DataKind spelling
  const char *field;         ///< the recipe's parameter
  const char *defaultColumn; ///< read when the recipe names none; "" for none
  const char *doc;
};

namespace detail {
inline constexpr bool YES = true, NO = false;
inline Range any() { return {}; }
inline Range above(double v) { Range r; r.min = v; r.minOpen = true; return r; }
inline Range atLeast(double v) { Range r; r.min = v; return r; }
inline Range in(double a, double b) { Range r; r.min = a; r.max = b; return r; }
inline Range inOpenHi(double a, double b) { Range r; r.min = a; r.max = b; r.maxOpen = true; return r; }
} // namespace detail

#define ALIGN_TRAITS(flags) (flags)
#define ALIGN_ANY ::align::registry::detail::any()
#define ALIGN_ABOVE(x) ::align::registry::detail::above(x)
#define ALIGN_AT_LEAST(x) ::align::registry::detail::atLeast(x)
#define ALIGN_IN(a, b) ::align::registry::detail::in(a, b)
#define ALIGN_IN_OPEN_HI(a, b) ::align::registry::detail::inOpenHi(a, b)
#define ALIGN_REGISTRY_PARAM_(Id, name, type, detailText, presence, def, range, run, doc)                       \
  out.back().params.push_back(Param{#name, ParamType::type, detailText, Presence::presence,                   \
                                    Presence::presence == Presence::Default ? #def : "", range, detail::run, doc});

/// Every objective, in LossKind order.
inline const std::vector<Objective> &objectives() {
  static const std::vector<Objective> table = [] {
    using namespace detail;
    std::vector<Objective> out;
#define ALIGN_OBJECTIVE(Id, name, run, target, traits, sources, doc)                                           \
  out.push_back(Objective{{#Id, #name, detail::run, traits, doc, {}}, Target::target, sources});
#define ALIGN_PARAM ALIGN_REGISTRY_PARAM_
#define ALIGN_OBJECTIVE_END(Id)
#include "align/registry/Objectives.def"
#undef ALIGN_OBJECTIVE
#undef ALIGN_PARAM
#undef ALIGN_OBJECTIVE_END
    return out;
  }();
  return table;
}

/// Every evaluation metric, in MetricKind order.
inline const std::vector<Metric> &metrics() {
  static const std::vector<Metric> table = [] {
    using namespace detail;
    std::vector<Metric> out;
#define ALIGN_METRIC(Id, name, run, by, traits, doc) out.push_back(Metric{{#Id, #name, detail::run, traits, doc, {}}, by});
#define ALIGN_PARAM ALIGN_REGISTRY_PARAM_
#define ALIGN_METRIC_END(Id)
#include "align/registry/Metrics.def"
#undef ALIGN_METRIC
#undef ALIGN_PARAM
#undef ALIGN_METRIC_END
    return out;
  }();
  return table;
}

/// Every closed set of names.
inline const std::vector<Enum> &enums() {
  static const std::vector<Enum> table = [] {
    using namespace detail;
    std::vector<Enum> out;
#define ALIGN_ENUM(Type, key, doc) out.push_back(Enum{#Type, key, doc, {}});
#define ALIGN_CASE(Type, Member, spelling, run) out.back().cases.push_back(Case{#Member, spelling, detail::run});
#define ALIGN_ENUM_END(Type)
#include "align/registry/Enums.def"
#undef ALIGN_ENUM
#undef ALIGN_CASE
#undef ALIGN_ENUM_END
    return out;
  }();
  return table;
}

#undef ALIGN_REGISTRY_PARAM_

/// The column fields of every data kind, in table order.
inline const std::vector<Column> &columns() {
  static const std::vector<Column> table = {
#define ALIGN_COLUMN(kind, field, def, doc) Column{#kind, #field, def, doc},
#define ALIGN_COMMON_COLUMN(field, doc)
#include "align/registry/DataColumns.def"
#undef ALIGN_COLUMN
#undef ALIGN_COMMON_COLUMN
  };
  return table;
}

/// The optional columns every data kind reads when the recipe names them (kind "" in the entries).
inline const std::vector<Column> &commonColumns() {
  static const std::vector<Column> table = {
#define ALIGN_COLUMN(kind, field, def, doc)
#define ALIGN_COMMON_COLUMN(field, doc) Column{"", #field, "", doc},
#include "align/registry/DataColumns.def"
#undef ALIGN_COLUMN
#undef ALIGN_COMMON_COLUMN
  };
  return table;
}

/// Every built-in model size, in Preset order.
inline const std::vector<PresetShape> &presets() {
  static const std::vector<PresetShape> table = {
#define ALIGN_PRESET(name, hidden, layers, heads, kvHeads, intermediate, maxPositions)                            \
  PresetShape{#name, hidden, layers, heads, kvHeads, intermediate, maxPositions},
#include "align/registry/Presets.def"
#undef ALIGN_PRESET
  };
  return table;
}

/// `precision: auto` trains models of a smaller hidden size in float32 (the cost model's rule,
/// compiler/passes/CostModel.h, where its measurements are).
inline constexpr int64_t kBf16MinHidden = 512;

/// Ids of the built-in byte-level tokenizer (`tokenizer t = bytes()`): the 256 bytes, BOS, EOS and PAD.
inline constexpr int64_t kByteTokenizerVocab = 259;

/// The size `name` names; null for none.
inline const PresetShape *findPreset(const std::string &name) {
  for (const PresetShape &p : presets())
    if (name == p.name)
      return &p;
  return nullptr;
}

/// Whether `field` is a data parameter naming a column (of some kind, or common to all).
inline bool isColumnField(const std::string &field) {
  for (const auto *table : {&columns(), &commonColumns()})
    for (const Column &c : *table)
      if (field == c.field)
        return true;
  return false;
}

/// The column `field` of a `kind` data source reads when the recipe names none: "" for none, or for a field
/// the kind does not have.
inline std::string defaultColumn(const std::string &kind, const std::string &field) {
  for (const Column &c : columns())
    if (kind == c.kind && field == c.field)
      return c.defaultColumn;
  return "";
}

/// The entry of `table` named `name`, or null.
template <class T> const T *named(const std::vector<T> &table, const std::string &name) {
  for (const T &entry : table)
    if (name == entry.name)
      return &entry;
  return nullptr;
}

inline const Objective *objective(const std::string &name) { return named(objectives(), name); }
inline const Metric *metric(const std::string &name) { return named(metrics(), name); }

/// The closed set whose C++ type is `type` ("Precision"); null if there is none.
inline const Enum *enumNamed(const std::string &type) {
  for (const Enum &e : enums())
    if (type == e.type)
      return &e;
  return nullptr;
}

/// "a|b|c": the spellings of a set, without `except` (a spelling recipes do not write, e.g. "none").
inline std::string spellings(const std::string &type, const std::string &except = "") {
  std::string out;
  if (const Enum *e = enumNamed(type))
    for (const Case &c : e->cases)
      if (except != c.spelling)
        out += (out.empty() ? "" : "|") + std::string(c.spelling);
  return out;
}

/// Whether the runtime executes member `spelling` of set `type` (false for a spelling the set lacks).
inline bool executes(const std::string &type, const std::string &spelling) {
  if (const Enum *e = enumNamed(type))
    for (const Case &c : e->cases)
      if (spelling == c.spelling)
        return c.executed;
  return false;
}

/// Whether "a|b|c" contains `word`.
inline bool listed(const char *list, const std::string &word) {
  std::string all = std::string("|") + list + "|";
  return !word.empty() && all.find("|" + word + "|") != std::string::npos;
}

} // namespace align::registry
