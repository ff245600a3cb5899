//===- Contract.cpp - Names and checks of the typed trainer contract -----===//
//
// The runtime half of the registry (registry/include/align/registry/*.def): the `--set` form of each closed set
// (Trainer::choice) and the range checks of objective and metric parameters, expanded from the same tables as
// the compiler's. (Spelling and parsing of the sets are inline in align/rt/Trainer.h.)
//
//===----------------------------------------------------------------------===//

#include "core/Contract.h"

#include "align/registry/Registry.h"
#include "core/TrainerImpl.h"
#include "support/SettingValue.h"

#include <cmath>
#include <sstream>

namespace align::rt {

// Trainer::choice for every set: the --set word, checked against the set (and against what the runtime
// executes), or the recipe's value.
#define ALIGN_ENUM(Type, word, doc)                                                                            \
  Type Trainer::choice(const std::string &key, Type recipeValue) {                                             \
    const std::string *text = impl_->override(key);                                                            \
    Type value = recipeValue;                                                                                  \
    if (text && !parse(*text, value))                                                                          \
      throw Error("--set " + key + "=" + *text + ": expected one of " + spellingsOf(#Type));                  \
    if (text && !registry::executes(#Type, *text))                                                             \
      throw Error("--set " + key + "=" + *text + ": " + word + " '" + *text +                                  \
                  "' is not executed by the runtime yet");                                                     \
    return value;                                                                                              \
  }
#define ALIGN_CASE(...)
#define ALIGN_ENUM_END(Type)
#include "align/registry/Enums.def"
#undef ALIGN_ENUM
#undef ALIGN_CASE
#undef ALIGN_ENUM_END

void checkOverrides(const RecipeInfo &recipe, const std::map<std::string, std::string> &sets) {
  for (const auto &[key, text] : sets)
    for (const Setting &setting : recipe.settings) {
      if (setting.key != key)
        continue;
      switch (setting.kind) {
      case SettingKind::number:
        parseSettingNumber(key, text, &recipe);
        break;
      case SettingKind::integer:
        parseSettingInteger(key, text, &recipe);
        break;
      case SettingKind::flag:
        parseSettingFlag(key, text);
        break;
      case SettingKind::choice: {
        const std::string all = "|" + registry::spellings(setting.choices) + "|";
        if (all.find("|" + text + "|") == std::string::npos)
          throw Error("--set " + key + "=" + text + ": expected one of " + spellingsOf(setting.choices));
        if (!registry::executes(setting.choices, text))
          throw Error("--set " + key + "=" + text + ": '" + text + "' is not executed by the runtime yet");
        break;
      }
      case SettingKind::text:
        break;
      }
    }
}

std::string spellingsOf(const std::string &type) {
  std::string all = registry::spellings(type), out;
  for (size_t start = 0; start <= all.size();) {
    size_t bar = all.find('|', start);
    if (bar == std::string::npos)
      bar = all.size();
    out += (out.empty() ? "" : ", ") + all.substr(start, bar - start);
    start = bar + 1;
  }
  return out;
}

namespace {

std::string rangeWords(const registry::Range &r) {
  std::ostringstream os;
  if (r.hasMin() && r.hasMax())
    os << "in " << (r.minOpen ? "(" : "[") << r.min << ", " << r.max << (r.maxOpen ? ")" : "]");
  else if (r.hasMin())
    os << (r.minOpen ? "> " : ">= ") << r.min;
  else
    os << (r.maxOpen ? "< " : "<= ") << r.max;
  return os.str();
}

/// One numeric parameter against its registry range; `what` is "dpo(beta)".
void checkParam(const std::string &where, const std::string &what, double value, const registry::Param &param) {
  if (!std::isfinite(value) || !param.range.contains(value)) {
    std::ostringstream os;
    os << value;
    throw Error(where + ": " + what + " must be " + rangeWords(param.range) + ", got " + os.str());
  }
}
[[maybe_unused]] void checkParam(const std::string &, const std::string &, bool, const registry::Param &) {}
[[maybe_unused]] void checkParam(const std::string &, const std::string &, const std::string &, const registry::Param &) {}
void checkParam(const std::string &where, const std::string &what, int64_t value, const registry::Param &param) {
  checkParam(where, what, static_cast<double>(value), param);
}

} // namespace

void checkTerm(const TermSpec &term, const std::string &where) {
  if (!std::isfinite(term.weight))
    throw Error(where + ": the weight of objective '" + std::string(spelling(term.kind)) + "' is not finite");
  const registry::Objective &info = registry::objectives().at(static_cast<size_t>(term.kind));
  const std::string label = spelling(term.kind);
// Objectives the runtime does not execute have no place in ObjectiveParams: their block is never entered.
#define ALIGN_RT_GET_YES(T, v) std::get_if<T>(&v)
#define ALIGN_RT_GET_NO(T, v) static_cast<const T *>(nullptr)
#define ALIGN_OBJECTIVE(Id, name, run, target, traits, sources, doc)                                           \
  if (const Id##Params *p = ALIGN_RT_GET_##run(Id##Params, term.params)) {
#define ALIGN_PARAM(Id, name, type, detail, presence, def, range, run, doc)                                    \
  ALIGN_RT_IF_##run(checkParam(where, label + "(" #name ")", p->name, *info.param(#name));)
#define ALIGN_OBJECTIVE_END(Id)                                                                                \
  (void)p;                                                                                                     \
  return;                                                                                                      \
  }
#include "align/registry/Objectives.def"
#undef ALIGN_OBJECTIVE
#undef ALIGN_OBJECTIVE_END
  throw Error(where + ": objective '" + label + "' has no parameters of its own kind");
}

std::string describeTerm(const TermSpec &term) {
  std::ostringstream os;
  os << term.weight << "*" << spelling(term.kind) << "(";
#define ALIGN_OBJECTIVE(Id, name, run, target, traits, sources, doc)                                           \
  if (const Id##Params *p = ALIGN_RT_GET_##run(Id##Params, term.params)) {
#undef ALIGN_PARAM
#define ALIGN_PARAM(Id, name, type, detail, presence, def, range, run, doc) ALIGN_RT_IF_##run(os << #name "=" << p->name << ",";)
#define ALIGN_OBJECTIVE_END(Id)                                                                                \
  (void)p;                                                                                                     \
  }
#include "align/registry/Objectives.def"
#undef ALIGN_OBJECTIVE
#undef ALIGN_OBJECTIVE_END
  if (term.exampleWeights)
    os << "example_weights=1,weight_norm=" << spelling(term.weightNorm) << ",";
  os << ")";
  return os.str();
}

void checkMetric(const EvalSpec &eval, const std::string &where) {
#undef ALIGN_PARAM
#define ALIGN_PARAM(Id, name, type, detail, presence, def, range, run, doc)                                    \
  ALIGN_RT_IF_##run(checkParam(where, label + "(" #name ")", p->name, *info.param(#name));)
  const registry::Metric &info = registry::metrics().at(static_cast<size_t>(eval.metric));
  const std::string label = spelling(eval.metric);
#define ALIGN_METRIC(Id, name, run, by, traits, doc)                                                           \
  if (const Id##Params *p = ALIGN_RT_GET_##run(Id##Params, eval.params)) {
#define ALIGN_METRIC_END(Id)                                                                                   \
  (void)p;                                                                                                     \
  return;                                                                                                      \
  }
#include "align/registry/Metrics.def"
#undef ALIGN_METRIC
#undef ALIGN_METRIC_END
#undef ALIGN_PARAM
#undef ALIGN_RT_GET_YES
#undef ALIGN_RT_GET_NO
  throw Error(where + ": metric '" + label + "' has no parameters of its own kind");
}

} // namespace align::rt
