//===- AggregateEmission.cpp - train.aggregate → the runtime's mixture calls ------===//
//
// An aggregate combines the type policies of an EM stage into one mixture policy (docs/methods.md §3.5).
// The trainer's C++ shows its two steps as runtime calls: the regret estimate (each policy answers the
// prompts; every type scores the answers) and the mixture (optimistic Hedge on the regret game, or fixed
// weights), so `--emit=cpp` says what runs. Every value a recipe writes is a `--set` key `NAME.FIELD`
// (`NAME.solver.steps`), except the per-type lists.
//
//===----------------------------------------------------------------------===//

#include "CppText.h"
#include "RuntimeSupport.h"
#include "TrainerEmitter.h"
#include "Schema.h"

#include "llvm/ADT/TypeSwitch.h"

using namespace mlir;

namespace align::emit {

namespace {

/// `{1.0, 2.0}` for an array of numbers; nullopt for anything else.
std::optional<std::string> numberList(Attribute attr) {
  auto array = dyn_cast_or_null<ArrayAttr>(attr);
  if (!array)
    return std::nullopt;
  std::string out = "{";
  for (size_t i = 0; i < array.size(); ++i) {
    std::optional<double> value = numericValue(array[i]);
    if (!value)
      return std::nullopt;
    out += (i ? ", " : "") + cppDouble(*value);
  }
  return out + "}";
}

} // namespace

void TrainerEmitter::emitAggregate(train::AggregateOp aggregate) {
  Location loc = aggregate.getLoc();
  llvm::StringRef kind = aggregate.getKind();
  if (!isExecutedMember("AggregateKind", kind))
    return reject(aggregate, "aggregate " + kind);
  DictionaryAttr params = aggregate.getParams();
  // The parameters the runtime takes, per kind; anything else is reported rather than dropped.
  for (NamedAttribute entry : params) {
    llvm::StringRef field = entry.getName().getValue();
    static const llvm::StringRef kMinmaxFields[] = {"samples", "answers", "max_new_tokens", "regret", "dummy",
                                                     "regret_weights", "solver", "baseline"};
    bool known = kind == "minmax_regret" ? llvm::is_contained(kMinmaxFields, field)
                                         : kind == "weighted" && field == "weights";
    if (!known)
      return reject(aggregate, ("aggregate " + kind + " parameter " + field).str());
  }

  std::string name = aggregate.getName().str();
  std::string spec = ids_.make(name, "aggregate");
  w_.blankLine();
  w_.comment("aggregate " + name + " = " + kind.str() + " of the type policies of stage " +
             aggregate.getPolicies().str());
  w_.statement("align::rt::AggregateSpec " + spec, loc);
  w_.statement(spec + ".name = " + cppString(name), loc);
  w_.statement(spec + ".kind = " + enumMember("AggregateKind", kind), loc);
  w_.statement(spec + ".policies = " + cppString(aggregate.getPolicies()), loc);
  if (kind == "minmax_regret") {
    std::optional<std::string> data = dataDeclaration(aggregate.getPrompts(), loc);
    if (!data)
      return;
    std::optional<std::string> split = splitOf(aggregate.getPrompts(), aggregate.getSplitAttr(), loc, "aggregate");
    if (!split)
      return;
    w_.statement(spec + ".prompts = {" + cppString(*data) + ", " + cppString(*split) + "}", loc);
    const std::string key = name + ".";
    if (auto samples = params.getAs<IntegerAttr>("samples"))
      w_.statement(spec + ".samples = " + w_.integer(key + "samples", samples.getInt(), loc, schema::findParam("aggregate", "minmax_regret", "samples")), loc);
    if (auto answers = params.getAs<IntegerAttr>("answers"))
      w_.statement(spec + ".answers = " + w_.integer(key + "answers", answers.getInt(), loc, schema::findParam("aggregate", "minmax_regret", "answers")), loc);
    if (auto tokens = params.getAs<IntegerAttr>("max_new_tokens"))
      w_.statement(spec + ".maxNewTokens = " + w_.integer(key + "max_new_tokens", tokens.getInt(), loc, schema::findParam("aggregate", "minmax_regret", "max_new_tokens")), loc);
    if (auto regret = params.getAs<StringAttr>("regret")) {
      if (!isExecutedMember("RegretEstimator", regret.getValue()))
        return reject(aggregate, "regret " + regret.getValue());
      w_.statement(spec + ".regret = " +
                       w_.choice(key + "regret", enumMember("RegretEstimator", regret.getValue()), regret.getValue(), loc),
                   loc);
    }
    if (auto dummy = params.getAs<BoolAttr>("dummy"))
      w_.statement(spec + ".dummy = " + w_.flag(key + "dummy", dummy.getValue(), loc), loc);
    if (Attribute weights = params.get("regret_weights")) {
      std::optional<std::string> list = numberList(weights);
      if (!list)
        return reject(aggregate, "regret_weights that are not numbers");
      w_.statement(spec + ".regretWeights = " + *list, loc);
    }
    if (auto solver = params.getAs<DictionaryAttr>("solver")) {
      auto solverKind = solver.getAs<StringAttr>("kind");
      if (!solverKind || solverKind.getValue() != "optimistic_hedge")
        return reject(aggregate, "solver " + (solverKind ? solverKind.getValue() : llvm::StringRef("?")));
      if (std::optional<double> steps = numericValue(solver.get("steps")))
        w_.statement(spec + ".steps = " + w_.integer(key + "solver.steps", static_cast<int64_t>(*steps), loc, schema::findParam("solver", "optimistic_hedge", "steps")), loc);
      if (std::optional<double> eta = numericValue(solver.get("eta")))
        w_.statement(spec + ".eta = " + w_.number(key + "solver.eta", *eta, loc, schema::findParam("solver", "optimistic_hedge", "eta")), loc);
    }
    if (auto baseline = params.getAs<FlatSymbolRefAttr>("baseline"))
      w_.statement(spec + ".baseline = " + cppString(baseline.getValue()), loc);
  } else if (kind == "weighted") {
    std::optional<std::string> list = numberList(params.get("weights"));
    if (!list)
      return reject(aggregate, "weighted without a list of weights");
    w_.statement(spec + ".weights = " + *list, loc);
  }
  w_.statement(spec + ".location = " + cppString(locationText(loc)), loc);
  std::string regret = ids_.make(name, "regret");
  w_.comment(kind == "minmax_regret"
                 ? "each type policy answers the prompts; every type's policy and the reference score the answers"
                 : "nothing to estimate: the weights are fixed");
  w_.statement("align::rt::RegretTable " + regret + " = t.regretTable(" + spec + ")", loc);
  w_.comment(kind == "minmax_regret" ? "optimistic Hedge on the regret game → mixture.json"
                                     : "the fixed weights → mixture.json");
  w_.statement("t.mixture(" + spec + ", " + regret + ")", loc);
}

} // namespace align::emit
