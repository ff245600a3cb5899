//===- LowerRecipeDeclarations.cpp - Recipe declarations to train ops -----===//
//
// Declarations become program-level ops whose attributes carry everything the runtime needs to build the
// object: `train.load_model` (family, preset/checkpoint, seed, tokenizer name/kind/spec),
// `train.load_data` (kind, path, column mapping, template text, split rules, ...) and `train.attach`
// (reward heads, users, adapters, directions). Recipe values with units or symbol references become plain
// numbers and strings, so the emitter never needs the recipe dialect.
//
//===----------------------------------------------------------------------===//

#include "RecipeLowering.h"

#include "align/Dialect/Recipe/RecipeAttributes.h"
#include "align/Dialect/Recipe/RecipeSymbols.h"

#include "align/registry/Registry.h"

#include "llvm/Support/Format.h"
#include "llvm/Support/raw_ostream.h"

using namespace mlir;

namespace align::lowering {

//===----------------------------------------------------------------------===//
// Attribute conversion
//===----------------------------------------------------------------------===//

Attribute plainValue(Operation *scope, Attribute value) {
  MLIRContext *context = value.getContext();
  Builder builder(context);
  if (auto call = dyn_cast<recipe::CallAttr>(value)) {
    SmallVector<NamedAttribute> entries{builder.getNamedAttr("kind", call.getCallee())};
    for (NamedAttribute arg : call.getArgs())
      entries.push_back(builder.getNamedAttr(arg.getName(), plainValue(scope, arg.getValue())));
    return builder.getDictionaryAttr(entries);
  }
  if (auto percent = dyn_cast<recipe::PercentAttr>(value))
    return builder.getF64FloatAttr(percent.getNumber() / 100.0);
  if (auto angle = dyn_cast<recipe::AngleAttr>(value))
    return builder.getF64FloatAttr(angle.getNumber());
  if (auto duration = dyn_cast<recipe::DurationAttr>(value))
    return builder.getF64FloatAttr(duration.getNumber());
  if (auto ref = dyn_cast<SymbolRefAttr>(value)) {
    if (auto text = dyn_cast_or_null<recipe::TemplateOp>(recipe::lookupInScope(scope, ref)))
      return text.getTextAttr();
    std::string name = ref.getRootReference().str();
    for (FlatSymbolRefAttr nested : ref.getNestedReferences())
      name += "." + nested.getValue().str();
    return builder.getStringAttr(name);
  }
  if (auto array = dyn_cast<ArrayAttr>(value)) {
    SmallVector<Attribute> items;
    for (Attribute item : array)
      items.push_back(plainValue(scope, item));
    return builder.getArrayAttr(items);
  }
  if (auto dict = dyn_cast<DictionaryAttr>(value))
    return plainParams(scope, dict);
  return value;
}

DictionaryAttr plainParams(Operation *scope, DictionaryAttr params, ArrayRef<StringRef> skip) {
  SmallVector<NamedAttribute> entries;
  for (NamedAttribute entry : params)
    if (!llvm::is_contained(skip, entry.getName().getValue()))
      entries.emplace_back(entry.getName(), plainValue(scope, entry.getValue()));
  return DictionaryAttr::get(params.getContext(), entries);
}

namespace {

/// A `where` split's value as the JSON text the runtime compares rows with ("false", "3", "\"long\"").
std::string jsonText(Attribute value) {
  std::string text;
  llvm::raw_string_ostream os(text);
  if (auto flag = dyn_cast<BoolAttr>(value))
    os << (flag.getValue() ? "true" : "false");
  else if (auto integer = dyn_cast<IntegerAttr>(value))
    os << integer.getInt();
  else if (auto number = dyn_cast<FloatAttr>(value))
    os << llvm::format("%.17g", number.getValueAsDouble());
  else if (auto string = dyn_cast<StringAttr>(value)) {
    os << '"';
    for (char c : string.getValue()) {
      if (c == '"' || c == '\\')
        os << '\\' << c;
      else if (static_cast<unsigned char>(c) < 0x20)
        os << llvm::format("\\u%04x", c);
      else
        os << c;
    }
    os << '"';
  }
  return os.str();
}

/// Data parameters that name a column of the file; they go to the load's `columns` mapping.
bool isColumnParameter(StringRef key) { return align::registry::isColumnField(key.str()); }

} // namespace

//===----------------------------------------------------------------------===//
// Declarations
//===----------------------------------------------------------------------===//

LogicalResult RecipeLowering::lowerDeclaration(Operation *op) {
  if (auto model = dyn_cast<recipe::ModelOp>(op))
    return lowerModel(model);
  if (auto data = dyn_cast<recipe::DataOp>(op))
    return lowerData(data);
  if (auto reward = dyn_cast<recipe::RewardOp>(op))
    return lowerReward(reward);
  // Tokenizers and templates are read where a model or data uses them; users, adapters, preferences and
  // policies where a policy or stage does; aggregations after the stages.
  return success();
}

LogicalResult RecipeLowering::lowerModel(recipe::ModelOp model) {
  auto tokenizer = dyn_cast_or_null<recipe::TokenizerOp>(recipe::lookupInScope(model, model.getTokenizerAttr()));
  if (!tokenizer)
    return model.emitOpError() << "has no tokenizer declaration to load";
  // `bytes` is built in; `hf` reads a tokenizer.json, whose path is the spec the runtime opens.
  StringAttr spec = builder_.getStringAttr("bytes");
  if (tokenizer.getConstructor() != "bytes") {
    spec = tokenizer.getParams().getAs<StringAttr>("path");
    if (!spec)
      return tokenizer.emitOpError() << "tokenizer '" << tokenizer.getConstructor()
                                     << "' cannot be loaded yet: it has no path";
  }
  DictionaryAttr params = model.getParams();
  SmallVector<NamedAttribute> config;
  if (auto preset = params.getAs<StringAttr>("preset"))
    config.push_back(builder_.getNamedAttr("preset", preset));
  // A checkpoint replaces the preset; `hf(path)` is a checkpoint by definition.
  if (auto checkpoint = params.getAs<StringAttr>(model.getConstructor() == "hf" ? "path" : "checkpoint"))
    config.push_back(builder_.getNamedAttr("checkpoint", checkpoint));
  config.push_back(builder_.getNamedAttr("seed", params.get("seed") ? params.get("seed") : builder_.getI64IntegerAttr(0)));
  config.push_back(builder_.getNamedAttr("tokenizer", tokenizer.getSymNameAttr()));
  config.push_back(builder_.getNamedAttr("tokenizer_kind", tokenizer.getConstructorAttr()));
  config.push_back(builder_.getNamedAttr("tokenizer_spec", spec));
  for (NamedAttribute entry : params)
    if (!llvm::is_contained(ArrayRef<StringRef>{"preset", "checkpoint", "path", "seed"}, entry.getName().getValue()))
      return model.emitOpError() << "parameter '" << entry.getName().getValue()
                                 << "' cannot be expressed in the train dialect yet";
  auto load = builder_.create<train::LoadModelOp>(model.getLoc(), train::ModelType::get(context_),
                                                  model.getSymNameAttr(), model.getConstructorAttr(),
                                                  builder_.getDictionaryAttr(config));
  values_[model] = load.getModel();
  return success();
}

LogicalResult RecipeLowering::lowerData(recipe::DataOp data) {
  SmallVector<NamedAttribute> config, columns;
  for (NamedAttribute entry : data.getParams()) {
    StringRef key = entry.getName().getValue();
    if (isColumnParameter(key))
      columns.push_back(entry);
    else if (key == "template")
      config.emplace_back(builder_.getStringAttr("template"), plainValue(data, entry.getValue()));
    else if (llvm::is_contained(ArrayRef<StringRef>{"path", "on_error", "limit", "shuffle_seed", "ratings",
                                                    "preferred", "against"},
                                key))
      config.push_back(entry);
    else
      return data.emitOpError() << "parameter '" << key << "' cannot be expressed in the train dialect yet";
  }
  config.push_back(builder_.getNamedAttr("columns", builder_.getDictionaryAttr(columns)));

  // Split rules in the recipe's order (a row goes to the first rule that takes it; `remainder` last).
  SmallVector<Attribute> names, rules;
  for (auto split : data.getBody()->getOps<recipe::SplitOp>()) {
    SmallVector<NamedAttribute> rule{builder_.getNamedAttr("name", split.getSymNameAttr())};
    auto kind = [&](StringRef k) { rule.push_back(builder_.getNamedAttr("kind", builder_.getStringAttr(k))); };
    Attribute value = split.getRuleAttr();
    if (split.getRemainder()) {
      kind("remainder");
    } else if (auto percent = dyn_cast_or_null<recipe::PercentAttr>(value)) {
      kind("percent");
      rule.push_back(builder_.getNamedAttr("fraction", plainValue(data, percent)));
    } else if (auto call = dyn_cast_or_null<recipe::CallAttr>(value); call && call.getCallee() == "where") {
      kind("where");
      rule.push_back(builder_.getNamedAttr("column", call.getArgs().get("column")));
      rule.push_back(builder_.getNamedAttr("equals", builder_.getStringAttr(jsonText(call.getArgs().get("equals")))));
    } else if (call && call.getCallee() == "file") {
      kind("file");
      rule.push_back(builder_.getNamedAttr("path", call.getArgs().get("path")));
    } else {
      return split.emitOpError() << "split rule cannot be expressed in the train dialect yet";
    }
    if (StringAttr by = split.getByAttr())
      rule.push_back(builder_.getNamedAttr("by", by));
    names.push_back(split.getSymNameAttr());
    rules.push_back(builder_.getDictionaryAttr(rule));
  }
  config.push_back(builder_.getNamedAttr("split_rules", builder_.getArrayAttr(rules)));
  auto load = builder_.create<train::LoadDataOp>(data.getLoc(), train::DatasetType::get(context_),
                                                 data.getSymNameAttr(), data.getConstructorAttr(),
                                                 builder_.getDictionaryAttr(config), builder_.getArrayAttr(names));
  values_[data] = load.getDataset();
  return success();
}

LogicalResult RecipeLowering::lowerReward(recipe::RewardOp reward) {
  Operation *base = recipe::lookupInScope(reward, reward.getBaseAttr());
  if (isa_and_nonnull<recipe::StageOp>(base))
    return reward.emitOpError() << "a reward head on the result of stage " << reward.getBaseAttr()
                                << " cannot be expressed in the train dialect yet";
  FailureOr<Value> model = modelFor(reward, reward.getBaseAttr());
  if (failed(model))
    return failure();
  DictionaryAttr params = reward.getParams();
  SmallVector<NamedAttribute> config(plainParams(reward, params).getValue());
  // The number of outputs the head has: one, or one per objective of a regression head.
  int64_t outputs = 1;
  if (auto objectives = params.getAs<ArrayAttr>("objectives"))
    outputs = static_cast<int64_t>(objectives.size());
  config.push_back(builder_.getNamedAttr("outputs", builder_.getI64IntegerAttr(outputs)));
  auto attach = builder_.create<train::AttachOp>(reward.getLoc(), train::ModelType::get(context_),
                                                 builder_.getStringAttr("reward_head"), reward.getConstructorAttr(),
                                                 *model, builder_.getDictionaryAttr(config));
  attach->setAttr("name", reward.getSymNameAttr());
  values_[reward] = attach.getModel();
  return success();
}

FailureOr<Value> RecipeLowering::lowerPolicy(recipe::PolicyOp policy) {
  if (Value done = values_.lookup(policy))
    return done;
  FailureOr<Value> model = modelFor(policy, policy.getBaseAttr());
  if (failed(model))
    return failure();
  Value current = *model;
  if (ArrayAttr with = policy.getWithAttr()) {
    for (auto ref : with.getAsRange<FlatSymbolRefAttr>()) {
      Operation *part = recipe::lookupInScope(policy, ref);
      StringRef role;
      DictionaryAttr config;
      StringAttr constructor;
      if (auto users = dyn_cast_or_null<recipe::UsersOp>(part)) {
        role = "users", constructor = users.getConstructorAttr(), config = plainParams(users, users.getParams());
      } else if (auto adapter = dyn_cast_or_null<recipe::AdapterOp>(part)) {
        role = "adapter", constructor = adapter.getConstructorAttr(), config = plainParams(adapter, adapter.getParams());
      } else if (auto preference = dyn_cast_or_null<recipe::PreferenceOp>(part);
                 preference && preference.getConstructor() == "direction") {
        role = "direction", constructor = preference.getConstructorAttr();
        config = plainParams(preference, preference.getParams());
      } else {
        return policy.emitOpError() << "a policy with " << ref
                                    << " cannot be expressed in the train dialect yet (expected users, an adapter "
                                       "or a direction)";
      }
      auto attach = builder_.create<train::AttachOp>(part->getLoc(), train::ModelType::get(context_),
                                                     builder_.getStringAttr(role), constructor, current, config);
      attach->setAttr("name", ref.getAttr());
      current = attach.getModel();
    }
  }
  values_[policy] = current;
  return current;
}

FailureOr<Value> RecipeLowering::modelFor(Operation *user, FlatSymbolRefAttr ref) {
  Operation *found = recipe::lookupInScope(user, ref);
  if (!found)
    return user->emitOpError() << ref << " is not declared";
  if (auto policy = dyn_cast<recipe::PolicyOp>(found))
    return lowerPolicy(policy);
  if (Value value = values_.lookup(found))
    return value;
  return user->emitOpError() << ref << " names a '" << found->getName()
                             << "', which is not a model this lowering can train or score with";
}

FailureOr<DataRead> RecipeLowering::dataFor(Operation *user, SymbolRefAttr ref) {
  Operation *found = recipe::lookupInScope(user, SymbolRefAttr::get(ref.getRootReference()));
  Value dataset = found ? values_.lookup(found) : Value();
  if (!dataset || !isa<train::DatasetType>(dataset.getType()))
    return user->emitOpError() << "data " << ref << " is not a loaded data source";
  StringAttr split;
  if (!ref.getNestedReferences().empty())
    split = ref.getLeafReference();
  return DataRead{dataset, split};
}

} // namespace align::lowering
