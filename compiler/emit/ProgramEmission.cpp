//===- ProgramEmission.cpp - Declarations and evaluations of run() --------===//
//
// The program-level part of the trainer: tokenizers and models (ModelSpec), data sources (DataSpec with its
// split rules), attached heads, adapters and user models (checked here, emitted with the stage that trains
// them), and the recipe's evaluations (EvalSpec), in the order the train.program holds them.
//
//===----------------------------------------------------------------------===//

#include "RuntimeSupport.h"
#include "TrainerEmitter.h"

#include "align/registry/Registry.h"

#include "mlir/IR/BuiltinAttributes.h"

#include "llvm/ADT/TypeSwitch.h"

namespace align::emit {

using mlir::Attribute;
using mlir::DictionaryAttr;
using mlir::Location;
using mlir::NamedAttribute;
using mlir::StringAttr;

namespace {

/// `{"a", "b"}` for an array of strings; nullopt when an element is not a string.
std::optional<std::string> stringList(Attribute attr) {
  auto array = attr.dyn_cast_or_null<mlir::ArrayAttr>();
  if (!array)
    return std::nullopt;
  std::string out = "{";
  for (size_t i = 0; i < array.size(); ++i) {
    auto text = array[i].dyn_cast<StringAttr>();
    if (!text)
      return std::nullopt;
    out += (i ? ", " : "") + cppString(text.getValue());
  }
  return out + "}";
}

bool among(llvm::ArrayRef<llvm::StringRef> set, llvm::StringRef value) { return llvm::is_contained(set, value); }

std::string stringOr(DictionaryAttr dict, llvm::StringRef key, llvm::StringRef fallback = "") {
  if (auto text = dict.getAs<StringAttr>(key))
    return text.getValue().str();
  return fallback.str();
}

} // namespace

void TrainerEmitter::reject(mlir::Operation *op, const llvm::Twine &construct) {
  failed_ = true;
  if (reported_.insert(op).second)
    (void)notExecuted(op->getLoc(), construct);
}

mlir::LogicalResult TrainerEmitter::emitProgram(train::ProgramOp program) {
  for (mlir::Operation &op : program.getBodyRegion().front()) {
    llvm::TypeSwitch<mlir::Operation *>(&op)
        .Case([&](train::LoadModelOp load) { emitModel(load); })
        .Case([&](train::LoadDataOp load) { emitData(load); })
        .Case([&](train::AttachOp attach) { checkAttach(attach); })
        .Case([&](train::StageOp stage) { emitStage(stage); })
        .Case([&](train::EvaluateOp evaluate) { emitEvaluate(evaluate); })
        .Case([&](train::StageResultOp) {}) // a value that evaluations and stages name
        .Case([&](train::AggregateOp aggregate) { emitAggregate(aggregate); })
        .Default([&](mlir::Operation *other) { reject(other, other->getName().getStringRef()); });
  }
  return mlir::failure(failed_);
}

void TrainerEmitter::emitTokenizerOnce(train::LoadModelOp load) {
  DictionaryAttr config = load.getConfig();
  std::string name = stringOr(config, "tokenizer");
  if (name.empty() || !tokenizersDone_.insert(name).second)
    return;
  std::string kind = stringOr(config, "tokenizer_kind", "bytes");
  std::string spec = cppString("bytes");
  if (kind == "hf")
    spec = w_.text(name + ".path", stringOr(config, "tokenizer_spec"), load.getLoc());
  else if (kind != "bytes")
    return reject(load, "tokenizer " + kind);
  w_.statement("t.tokenizer(" + cppString(name) + ", " + spec + ")", load.getLoc());
}

void TrainerEmitter::emitModel(train::LoadModelOp load) {
  Location loc = load.getLoc();
  llvm::StringRef family = load.getSource();
  if (!isExecutedMember("ModelFamily", family))
    return reject(load, "model " + family);
  for (NamedAttribute entry : load.getConfig())
    if (!among({"preset", "checkpoint", "seed", "tokenizer", "tokenizer_kind", "tokenizer_spec"},
                            entry.getName().getValue()))
      return reject(load, "model parameter " + entry.getName().getValue());

  emitTokenizerOnce(load);
  std::string name = load.getName().str();
  std::string spec = ids_.make(name, "model");
  DictionaryAttr config = load.getConfig();
  w_.statement("align::rt::ModelSpec " + spec, loc);
  w_.statement(spec + ".family = " + enumMember("ModelFamily", family), loc);
  if (auto preset = config.getAs<StringAttr>("preset")) {
    std::string member = enumMember("Preset", preset.getValue());
    if (member.empty())
      return reject(load, "preset " + preset.getValue());
    w_.statement(spec + ".preset = " + w_.choice(name + ".preset", member, preset.getValue(), loc), loc);
  }
  // The recipe calls it `path` in hf(...), `checkpoint` elsewhere; the setting keeps the recipe's word.
  if (auto checkpoint = config.getAs<StringAttr>("checkpoint"))
    w_.statement(spec + ".checkpoint = " +
                     w_.text(name + (family == "hf" ? ".path" : ".checkpoint"), checkpoint.getValue(), loc),
                 loc);
  if (auto tokenizer = config.getAs<StringAttr>("tokenizer"))
    w_.statement(spec + ".tokenizer = " + cppString(tokenizer.getValue()), loc);
  if (auto seed = config.getAs<mlir::IntegerAttr>("seed"))
    w_.statement(spec + ".seed = static_cast<std::uint64_t>(" + w_.integer(name + ".seed", seed.getInt(), loc) + ")",
                 loc);
  w_.statement("t.model(" + cppString(name) + ", " + spec + ")", loc);
  w_.blankLine();
}

void TrainerEmitter::emitData(train::LoadDataOp load) {
  Location loc = load.getLoc();
  llvm::StringRef kind = load.getSource();
  if (!isExecutedMember("DataKind", kind))
    return reject(load, "data " + kind);
  std::string name = load.getName().str();
  std::string spec = ids_.make(name, "data");
  DictionaryAttr config = load.getConfig();
  w_.statement("align::rt::DataSpec " + spec, loc);
  w_.statement(spec + ".kind = " + enumMember("DataKind", kind), loc);
  // In the order a reader looks for them: file, columns, then how rows are read and split.
  static const llvm::StringRef order[] = {"path",     "columns", "ratings", "preferred",    "against",
                                          "template", "on_error", "limit",  "shuffle_seed", "split_rules"};
  for (NamedAttribute entry : config)
    if (!among(order, entry.getName().getValue()))
      return reject(load, "data parameter " + entry.getName().getValue());
  for (llvm::StringRef key : order) {
    Attribute value = config.get(key);
    if (!value)
      continue;
    std::string setting = name + "." + key.str();
    auto text = value.dyn_cast<StringAttr>();
    if (key == "path" && text) {
      w_.statement(spec + ".path = " + w_.text(setting, text.getValue(), loc), loc);
    } else if (key == "columns" && value.isa<DictionaryAttr>()) {
      for (NamedAttribute column : value.cast<DictionaryAttr>()) {
        auto columnName = column.getValue().dyn_cast<StringAttr>();
        if (!columnName)
          return reject(load, "data column " + column.getName().getValue());
        w_.statement(spec + ".columns[" + cppString(column.getName().getValue()) + "] = " +
                         w_.text(name + "." + column.getName().getValue().str(), columnName.getValue(), loc),
                     loc);
      }
    } else if ((key == "ratings" || key == "against") && stringList(value)) {
      w_.statement(spec + "." + key.str() + " = " + *stringList(value), loc);
    } else if (key == "preferred" && text) {
      w_.statement(spec + ".preferred = " + w_.text(setting, text.getValue(), loc), loc);
    } else if (key == "template" && text) {
      w_.statement(spec + ".templateText = " + w_.text(setting, text.getValue(), loc), loc);
    } else if (key == "on_error" && text && !enumMember("OnError", text.getValue()).empty()) {
      w_.statement(spec + ".onError = " + w_.choice(setting, enumMember("OnError", text.getValue()), text.getValue(), loc),
                   loc);
    } else if (key == "limit" && value.isa<mlir::IntegerAttr>()) {
      w_.statement(spec + ".limit = " + w_.integer(setting, value.cast<mlir::IntegerAttr>().getInt(), loc), loc);
    } else if (key == "shuffle_seed" && value.isa<mlir::IntegerAttr>()) {
      w_.statement(spec + ".shuffleSeed = static_cast<std::uint64_t>(" +
                       w_.integer(setting, value.cast<mlir::IntegerAttr>().getInt(), loc) + ")",
                   loc);
    } else if (key == "split_rules" && value.isa<mlir::ArrayAttr>()) {
      for (Attribute ruleAttr : value.cast<mlir::ArrayAttr>()) {
        auto rule = ruleAttr.dyn_cast<DictionaryAttr>();
        std::string splitName = rule ? stringOr(rule, "name") : "";
        std::string ruleKind = rule ? stringOr(rule, "kind") : "";
        if (ruleKind == "remainder" && splitName == "train")
          continue; // the rows no rule takes: the runtime's implicit train split
        if (!isExecutedMember("SplitKind", ruleKind))
          return reject(load, "split rule " + ruleKind);
        std::string split = ids_.make(name + "_" + splitName, "split");
        std::string splitKey = name + ".split." + splitName;
        w_.statement("align::rt::SplitRule " + split, loc);
        w_.statement(split + ".name = " + cppString(splitName), loc);
        w_.statement(split + ".kind = " + enumMember("SplitKind", ruleKind), loc);
        if (ruleKind == "percent") {
          auto fraction = rule.getAs<mlir::FloatAttr>("fraction");
          if (!fraction)
            return reject(load, "split rule without a fraction");
          w_.statement(split + ".fraction = " + w_.number(splitKey, fraction.getValueAsDouble(), loc), loc);
        } else if (ruleKind == "where") {
          w_.statement(split + ".column = " + cppString(stringOr(rule, "column")), loc);
          w_.statement(split + ".equalsJson = " + cppString(stringOr(rule, "equals")), loc);
        } else {
          w_.statement(split + ".path = " + w_.text(splitKey, stringOr(rule, "path"), loc), loc);
        }
        if (auto by = rule.getAs<StringAttr>("by"))
          w_.statement(split + ".by = " + cppString(by.getValue()), loc);
        w_.statement(spec + ".splits.push_back(" + split + ")", loc);
      }
    } else {
      return reject(load, "data parameter " + key);
    }
  }
  w_.statement("t.data(" + cppString(name) + ", " + spec + ")", loc);
  w_.blankLine();
}

void TrainerEmitter::checkAttach(train::AttachOp attach) {
  llvm::StringRef role = attach.getRole(), constructor = attach.getConstructor();
  DictionaryAttr config = attach.getConfig();
  if (role == "reward_head" && (constructor == "scalar" || constructor == "regression")) {
    for (NamedAttribute entry : config) {
      llvm::StringRef key = entry.getName().getValue();
      if (key == "pooling" && !isExecutedMember("Pooling", stringOr(config, "pooling"))) {
        return reject(attach, "reward head pooling " + stringOr(config, "pooling"));
      } else if (key == "bias") {
        auto bias = entry.getValue().dyn_cast<mlir::BoolAttr>();
        if (!bias || bias.getValue())
          return reject(attach, "reward head bias");
      } else if (!among({"pooling", "outputs", "objectives"}, key)) {
        return reject(attach, "reward head parameter " + key);
      }
    }
    return;
  }
  if (role == "adapter" && constructor == "lora") {
    for (NamedAttribute entry : config)
      if (!among({"r", "alpha", "dropout", "targets"}, entry.getName().getValue()))
        return reject(attach, "lora parameter " + entry.getName().getValue());
    return;
  }
  if (role == "users" && isExecutedMember("UserModelKind", constructor)) {
    for (NamedAttribute entry : config) {
      llvm::StringRef key = entry.getName().getValue();
      if (key == "text" && !entry.getValue().isa<mlir::StringAttr>())
        return reject(attach, "users text that is not a column name");
      if (!isExecutedUserModelParam(key))
        return reject(attach, "users parameter " + key);
    }
    if (Attribute init = config.get("init")) {
      auto call = init.dyn_cast<DictionaryAttr>();
      std::string kind = call ? stringOr(call, "kind") : "";
      if (!isExecutedMember("UsersInit", kind))
        return reject(attach, "users init " + kind);
      for (NamedAttribute entry : call)
        if (!among({"kind", "seed", "common", "range"}, entry.getName().getValue()))
          return reject(attach, "users init parameter " + entry.getName().getValue());
    }
    return;
  }
  if (role == "direction")
    return emitDirection(attach);
  // other heads and user models.
  reject(attach, (role + " " + constructor).str());
}

std::optional<std::string> TrainerEmitter::dataDeclaration(mlir::Value dataset, Location loc) {
  mlir::Operation *def = dataset.getDefiningOp();
  if (auto load = llvm::dyn_cast_or_null<train::LoadDataOp>(def))
    return load.getName().str();
  if (auto unionData = llvm::dyn_cast_or_null<train::UnionDataOp>(def))
    reject(unionData, "union_data");
  else if (def)
    reject(def, def->getName().getStringRef());
  else {
    failed_ = true;
    (void)(mlir::emitError(loc) << "a data value that is not a train.load_data");
  }
  return std::nullopt;
}

std::optional<std::string> TrainerEmitter::splitOf(mlir::Value dataset, StringAttr split, Location loc,
                                                   llvm::StringRef what) {
  if (split)
    return split.getValue().str();
  auto load = dataset.getDefiningOp<train::LoadDataOp>();
  if (load && load.getSplits().size() == 1 && load.hasSplit("train"))
    return std::string("train");
  // Every split at once: DataSpec and StageSpec/EvalSpec name one split.
  failed_ = true;
  (void)notExecuted(loc, (what + " of every split of a data source").str());
  return std::nullopt;
}

void TrainerEmitter::emitEvaluate(train::EvaluateOp evaluate, llvm::StringRef inStage) {
  Location loc = evaluate.getLoc();
  llvm::StringRef metric = evaluate.getMetric();
  if (!isExecutedMetric(metric))
    return reject(evaluate, metric);
  if (auto by = evaluate.getByAttr(); by && !isExecutedMember("By", by.getValue()))
    return reject(evaluate, (metric + " by " + by.getValue()).str());
  if (evaluate.getEveryStepsAttr())
    return reject(evaluate, (metric + " every_steps").str());
  std::optional<std::string> data = dataDeclaration(evaluate.getDataset(), loc);
  if (!data)
    return;
  std::optional<std::string> split = splitOf(evaluate.getDataset(), evaluate.getSplitAttr(), loc, "evaluation");
  if (!split)
    return;

  // EvalSpec names no model: the runtime evaluates the final models of the stages; say which one the
  // recipe means.
  std::string measured;
  if (!inStage.empty())
    measured = "the model stage " + inStage.str() + " trains";
  else if (auto result = evaluate.getModel().getDefiningOp<train::StageResultOp>())
    measured = "the final model of stage " + result.getStage().str();
  else if (auto model = resolveModel(evaluate.getModel(), loc))
    measured = model->declaration.empty() ? "the final model of stage " + model->stageResult
                                          : "model " + model->declaration;
  else
    return;

  // Parameters first: one the runtime cannot take stops the evaluation before anything is written.
  const registry::Metric &info = *registry::metric(metric.str());
  llvm::SmallVector<std::pair<std::string, std::string>> fields;
  for (NamedAttribute param : evaluate.getParams()) {
    llvm::StringRef field = param.getName().getValue();
    ParamUse use = metricParamUse(metric, field, param.getValue());
    if (use == ParamUse::Dropped)
      continue;
    const registry::Param *p = info.param(field.str());
    std::optional<double> value = numericValue(param.getValue());
    if (use == ParamUse::Rejected || !value || !p)
      return reject(evaluate, (metric + " parameter " + field).str());
    fields.emplace_back(field.str(), p->type == registry::ParamType::Int ? cppInteger(static_cast<int64_t>(*value))
                                                                         : cppDouble(*value));
  }
  std::string spec = ids_.make(metric.str() + "_" + *data + "_" + *split, "");
  std::string paramsType = "align::rt::" + registryId(metric) + "Params";
  w_.comment("eval: " + metric.str() + " on " + *data + "." + *split + ", of " + measured);
  if (fields.empty()) {
    w_.statement("align::rt::EvalSpec " + spec + "{" + paramsType + "{}}", loc);
  } else {
    std::string params = ids_.make(spec, "params");
    w_.statement(paramsType + " " + params, loc);
    for (const auto &[field, value] : fields)
      w_.statement(params + "." + field + " = " + value, loc);
    w_.statement("align::rt::EvalSpec " + spec + "{" + params + "}", loc);
  }
  if (auto by = evaluate.getByAttr())
    w_.statement(spec + ".by = " + enumMember("By", by.getValue()), loc);
  w_.statement(spec + ".on = {" + cppString(*data) + ", " + cppString(*split) + "}", loc);
  if (!inStage.empty())
    w_.statement(spec + ".stage = " + cppString(inStage), loc);
  w_.statement(spec + ".location = " + cppString(locationText(loc)), loc);
  w_.statement("t.evaluate(" + spec + ")", loc);
}

std::optional<ResolvedModel> TrainerEmitter::resolveModel(mlir::Value model, Location useLoc) {
  mlir::Operation *def = model.getDefiningOp();
  if (auto load = llvm::dyn_cast_or_null<train::LoadModelOp>(def)) {
    ResolvedModel resolved;
    resolved.declaration = load.getName().str();
    return resolved;
  }
  if (auto result = llvm::dyn_cast_or_null<train::StageResultOp>(def)) {
    ResolvedModel resolved;
    resolved.stageResult = result.getStage().str();
    return resolved;
  }
  if (auto attach = llvm::dyn_cast_or_null<train::AttachOp>(def)) {
    std::optional<ResolvedModel> base = resolveModel(attach.getBase(), useLoc);
    if (!base)
      return std::nullopt;
    if (attach.getRole() == "reward_head" && !base->rewardHead && !base->users && base->stageResult.empty()) {
      base->rewardHead = attach;
      return base;
    }
    if (attach.getRole() == "adapter" && !base->adapter && base->stageResult.empty()) {
      base->adapter = attach;
      return base;
    }
    // A users model on a reward model is a P-RM: its soft tokens go to the reward's decoder.
    if (attach.getRole() == "users" && !base->users && base->stageResult.empty()) {
      base->users = attach;
      return base;
    }
    // A direction conditions the policy through its prompts' text: the model trained is the base.
    if (attach.getRole() == "direction" && !base->direction) {
      base->direction = attach;
      return base;
    }
    reject(attach, (attach.getRole() + " " + attach.getConstructor()).str());
    return std::nullopt;
  }
  if (def)
    reject(def, def->getName().getStringRef());
  else {
    failed_ = true;
    (void)(mlir::emitError(useLoc) << "a model value that no train op defines");
  }
  return std::nullopt;
}

} // namespace align::emit
