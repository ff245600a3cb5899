//===- Contract.h - Checks of the typed trainer contract --------*- C++ -*-===//
//
// What the runtime checks of the specs a generated trainer hands it, from the registry's ranges: a value a
// recipe could not have written can still arrive through `--set`, and is refused here, before step 0.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "align/rt/Trainer.h"

#include <map>
#include <string>

namespace align::rt {

/// Each numeric parameter of `term` within its registry range (an Error naming `where` and the parameter).
void checkTerm(const TermSpec &term, const std::string &where);
/// The same for an evaluation metric's parameters.
void checkMetric(const EvalSpec &eval, const std::string &where);
/// `1*dpo(beta=0.1,label_smoothing=0,)`: a term with every parameter value (for fingerprints and logs).
std::string describeTerm(const TermSpec &term);
/// Every `--set KEY=VALUE` read as its setting's kind (a number within the schema's range, an integer, a flag, a
/// word of its closed set the runtime executes) before anything runs: a bad value for the last stage must not
/// surface after the first has trained. The same Errors the Trainer's readers throw.
void checkOverrides(const RecipeInfo &recipe, const std::map<std::string, std::string> &sets);
/// "a, b, c": the spellings of the closed set whose C++ type is `type`, for messages.
std::string spellingsOf(const std::string &type);

} // namespace align::rt
