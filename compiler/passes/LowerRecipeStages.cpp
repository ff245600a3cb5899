//===- LowerRecipeStages.cpp - Recipe stages to train stages --------------===//
//
// A stage becomes a `train.stage` whose attributes are its effective schedule, typed (enums for the
// optimizer, lr schedule, precision, truncation and reference strategy; batch split into micro-batches
// and accumulation; durations in seconds), and whose body is the step program: a step loop built from
// the objective's terms, inside an EM or RSF loop when the recipe loops, then evaluations and one
// checkpoint. Recipe-level evaluations and aggregations follow the last stage.
//
//===----------------------------------------------------------------------===//

#include "RecipeLowering.h"

#include "align/Dialect/Recipe/RecipeAttributes.h"
#include "align/Dialect/Recipe/RecipeSymbols.h"

using namespace mlir;

namespace align::lowering {

namespace {

/// Reads a schedule entry: an integer step count, or a `#recipe.duration` in seconds.
struct Cadence {
  std::optional<int64_t> steps;
  std::optional<double> seconds;
};

Cadence cadenceOf(Attribute value) {
  if (auto duration = dyn_cast_or_null<recipe::DurationAttr>(value))
    return {std::nullopt, duration.getNumber()};
  if (auto integer = dyn_cast_or_null<IntegerAttr>(value); integer && integer.getInt() > 0)
    return {integer.getInt(), std::nullopt};
  return {};
}

} // namespace

//===----------------------------------------------------------------------===//
// Schedule
//===----------------------------------------------------------------------===//

FailureOr<DictionaryAttr> RecipeLowering::scheduleAttributes(recipe::StageOp stage, bool hasReference) {
  DictionaryAttr schedule = stage.getSchedule();
  SmallVector<NamedAttribute> attrs;
  auto set = [&](StringRef key, Attribute value) { attrs.push_back(builder_.getNamedAttr(key, value)); };
  auto integer = [&](StringRef key) { return schedule.getAs<IntegerAttr>(key); };
  auto text = [&](StringRef key) { return schedule.getAs<StringAttr>(key); };
  auto unsupported = [&](StringRef key) {
    return stage.emitOpError() << "schedule field '" << key << "' has a value the train dialect cannot express yet";
  };

  auto optimizer = schedule.getAs<recipe::CallAttr>("optimizer");
  std::optional<train::OptimizerKind> optimizerKind =
      optimizer ? train::symbolizeOptimizerKind(optimizer.getCallee().getValue()) : std::nullopt;
  if (!optimizerKind)
    return unsupported("optimizer");
  set("optimizer", train::OptimizerKindAttr::get(context_, *optimizerKind));
  auto lr = optimizer.getArgs().getAs<FloatAttr>("lr");
  if (!lr)
    return unsupported("optimizer");
  set("lr", builder_.getF64FloatAttr(lr.getValueAsDouble()));
  set("optimizer_params", plainParams(stage, optimizer.getArgs(), {"lr"}));

  auto lrSchedule = schedule.getAs<recipe::CallAttr>("lr_schedule");
  std::optional<train::LRScheduleKind> lrKind =
      lrSchedule ? train::symbolizeLRScheduleKind(lrSchedule.getCallee().getValue()) : std::nullopt;
  if (!lrKind)
    return unsupported("lr_schedule");
  set("lr_schedule", train::LRScheduleKindAttr::get(context_, *lrKind));
  auto final = lrSchedule.getArgs().getAs<FloatAttr>("final");
  set("lr_final", builder_.getF64FloatAttr(final ? final.getValueAsDouble() : 0.0));
  set("warmup", integer("warmup"));

  IntegerAttr batch = integer("batch"), micro = integer("micro_batch") ? integer("micro_batch") : batch;
  if (!batch || micro.getInt() < 1 || batch.getInt() % micro.getInt() != 0)
    return unsupported("micro_batch");
  set("batch", batch);
  set("micro_batch", micro);
  if (IntegerAttr steps = integer("steps"))
    set("steps", steps);
  else if (auto epochs = schedule.getAs<FloatAttr>("epochs"))
    set("epochs", builder_.getF64FloatAttr(epochs.getValueAsDouble()));
  else
    return unsupported("epochs");

  std::optional<train::Precision> precision =
      text("precision") ? train::symbolizePrecision(text("precision").getValue()) : std::nullopt;
  if (!precision)
    return unsupported("precision");
  set("precision", train::PrecisionAttr::get(context_, *precision));
  // `auto` (the default) is left to plan-memory; a budget in bytes, absent for the machine's.
  std::optional<train::Activations> activations =
      train::symbolizeActivations(text("activations") ? text("activations").getValue() : "auto");
  if (!activations)
    return unsupported("activations");
  if (*activations != train::Activations::automatic)
    set("activations", train::ActivationsAttr::get(context_, *activations));
  if (Attribute memory = schedule.get("memory")) {
    auto size = dyn_cast<recipe::SizeAttr>(memory);
    if (!size || size.getNumber() < 1 || size.getNumber() > 9.2e18)
      return unsupported("memory");
    set("memory", builder_.getI64IntegerAttr(static_cast<int64_t>(size.getNumber())));
  }
  IntegerAttr maxLength = integer("max_length");
  set("max_length", maxLength);
  // The runtime's default prompt budget: half of max_length.
  set("max_prompt_length", integer("max_prompt_length") ? integer("max_prompt_length")
                                                        : builder_.getI64IntegerAttr(maxLength.getInt() / 2));
  std::optional<train::Truncation> truncation =
      text("truncation") ? train::symbolizeTruncation(text("truncation").getValue()) : std::nullopt;
  if (!truncation)
    return unsupported("truncation");
  set("truncation", train::TruncationAttr::get(context_, *truncation));
  auto clip = schedule.getAs<FloatAttr>("clip");
  set("clip", builder_.getF64FloatAttr(clip ? clip.getValueAsDouble() : 1.0));
  set("seed", integer("seed"));
  // What the recipe asked for; hoist-reference-logprobs decides (it marks the reference op `cached`).
  if (hasReference) {
    std::optional<train::ReferenceStrategy> requested =
        train::symbolizeReferenceStrategy(text("reference") ? text("reference").getValue() : "auto");
    if (!requested || *requested == train::ReferenceStrategy::none)
      return unsupported("reference");
    set("reference", train::ReferenceStrategyAttr::get(context_, *requested));
  }
  // Absent is `none`: only a stage that shards says so.
  if (text("shard") && text("shard").getValue() != "none") {
    std::optional<train::ShardStrategy> shard = train::symbolizeShardStrategy(text("shard").getValue());
    if (!shard)
      return unsupported("shard");
    set("shard", train::ShardStrategyAttr::get(context_, *shard));
  }
  if (auto shuffle = schedule.getAs<BoolAttr>("shuffle"))
    set("shuffle", shuffle);
  set("log_every", integer("log_every"));
  if (Attribute limit = schedule.get("time_limit"))
    set("time_limit", plainValue(stage, limit));
  Cadence eval = cadenceOf(schedule.get("eval_every"));
  if (eval.steps)
    set("eval_every_steps", builder_.getI64IntegerAttr(*eval.steps));
  if (eval.seconds)
    set("eval_every_seconds", builder_.getF64FloatAttr(*eval.seconds));
  for (NamedAttribute attr : attrs)
    if (!attr.getValue())
      return unsupported(attr.getName().getValue());
  return builder_.getDictionaryAttr(attrs);
}

//===----------------------------------------------------------------------===//
// Objective and step loop
//===----------------------------------------------------------------------===//

FailureOr<SmallVector<WeightedTerm>> RecipeLowering::objectiveTerms(recipe::StageOp stage) {
  auto objective = dyn_cast_or_null<recipe::ObjectiveOp>(stage.getObjective());
  if (!objective)
    return stage.emitOpError() << "has no objective to lower";
  SmallVector<WeightedTerm> terms;
  Operation *root = objective.getValue().getDefiningOp();
  if (auto term = dyn_cast<recipe::ObjectiveTermOp>(root)) {
    terms.push_back({term, 1.0});
    return terms;
  }
  auto sum = cast<recipe::ObjectiveSumOp>(root);
  for (auto [value, weight] : llvm::zip(sum.getTerms(), sum.getWeights())) {
    auto term = value.getDefiningOp<recipe::ObjectiveTermOp>();
    if (!term)
      return sum.emitOpError() << "a sum of sums cannot be expressed in the train dialect yet";
    terms.push_back({term, weight});
  }
  return terms;
}

LogicalResult RecipeLowering::buildStepLoop(OpBuilder &builder, Location loc, Value model, DataRead data,
                                            ArrayRef<WeightedTerm> terms, Value reference, Location referenceLoc) {
  auto loop = builder.create<train::StepLoopOp>(loc, IntegerAttr(), FloatAttr());
  OpBuilder::InsertionGuard guard(builder);
  builder.setInsertionPointToStart(&loop.getBodyRegion().emplaceBlock());

  // What the terms need, each computed once: scores, log-probs from one forward, reference log-probs.
  SmallVector<train::LossKind> kinds;
  bool needScores = false, needLogprobs = false, needReference = false;
  for (const WeightedTerm &t : terms) {
    std::optional<train::LossKind> kind = train::symbolizeLossKind(t.term.getKind());
    if (!kind)
      return t.term.emitOpError() << "objective '" << t.term.getKind()
                                  << "' cannot be expressed in the train dialect yet";
    kinds.push_back(*kind);
    (train::LossOp::takesScores(*kind) ? needScores : needLogprobs) = true;
    needReference |= train::LossOp::needsReference(*kind);
  }
  if (needReference && !reference)
    return terms.front().term.emitOpError() << "needs a reference model, but its stage declares none";

  auto batch = builder.create<train::BatchFetchOp>(loc, train::BatchType::get(context_), data.dataset, data.split);
  Value scores, logprobs, referenceLogprobs;
  if (needScores)
    scores = builder.create<train::ScoreOp>(loc, train::ScoresType::get(context_), model, batch);
  if (needLogprobs) {
    auto hidden = builder.create<train::ForwardOp>(loc, train::HiddenType::get(context_), model, batch, UnitAttr(),
                                                   UnitAttr());
    logprobs = builder.create<train::SequenceLogprobsOp>(loc, train::LogprobsType::get(context_), model, hidden,
                                                         batch, UnitAttr(), IntegerAttr());
  }
  if (needReference)
    referenceLogprobs = builder.create<train::ReferenceLogprobsOp>(referenceLoc, train::LogprobsType::get(context_),
                                                                   reference, batch, UnitAttr());

  SmallVector<Value> losses;
  SmallVector<double> weights;
  for (auto [t, kind] : llvm::zip(terms, kinds)) {
    DictionaryAttr params = t.term.getParams();
    auto weighted = params.getAs<BoolAttr>("example_weights");
    bool hasWeights = (weighted && weighted.getValue()) || train::LossOp::typeWeighted(kind);
    train::WeightNormAttr weightNorm;
    if (hasWeights) {
      // The schema's default (`sum`) is filled in by MLIRGen; an unknown spelling was refused by Sema.
      auto spelled = params.getAs<StringAttr>("weight_norm");
      std::optional<train::WeightNorm> norm = train::symbolizeWeightNorm(spelled ? spelled.getValue() : "sum");
      if (!norm)
        return t.term.emitOpError() << "unknown weight_norm '" << spelled.getValue() << "'";
      weightNorm = train::WeightNormAttr::get(context_, *norm);
    }
    FloatAttr alpha;
    if (train::LossOp::mixesUsers(kind))
      if (auto a = params.getAs<FloatAttr>("alpha"))
        alpha = builder.getF64FloatAttr(a.getValueAsDouble());
    // `types` becomes the EM loop's; a `preference` its constructor (bradley_terry, plackett_luce).
    SmallVector<NamedAttribute> lossParams;
    for (NamedAttribute entry : params) {
      StringRef key = entry.getName().getValue();
      if (key == "example_weights" || key == "weight_norm" || key == "types" || (key == "alpha" && alpha))
        continue;
      if (auto ref = dyn_cast<FlatSymbolRefAttr>(entry.getValue())) {
        auto preference = dyn_cast_or_null<recipe::PreferenceOp>(recipe::lookupInScope(t.term, ref));
        if (!preference)
          return t.term.emitOpError() << "parameter '" << key << "' cannot be expressed in the train dialect yet";
        lossParams.emplace_back(entry.getName(), preference.getConstructorAttr());
        continue;
      }
      lossParams.emplace_back(entry.getName(), plainValue(t.term, entry.getValue()));
    }
    Value input = train::LossOp::takesScores(kind) ? scores : logprobs;
    Value against = train::LossOp::needsReference(kind) ? referenceLogprobs : Value();
    auto loss = builder.create<train::LossOp>(t.term.getLoc(), train::LossType::get(context_),
                                              train::LossKindAttr::get(context_, kind), input, against,
                                              builder.getDictionaryAttr(lossParams),
                                              weighted && weighted.getValue() ? builder.getUnitAttr() : UnitAttr(),
                                              weightNorm, alpha);
    losses.push_back(loss);
    weights.push_back(t.weight);
  }
  Value total = losses.front();
  if (losses.size() > 1 || weights.front() != 1.0) {
    // The recipe's `objective.sum` (the terms' user) is where the sum was written.
    Location sumLoc = terms.front().term->getUsers().empty() ? loc : (*terms.front().term->getUsers().begin())->getLoc();
    total = builder.create<train::LossSumOp>(sumLoc, train::LossType::get(context_), losses,
                                             builder.getDenseF64ArrayAttr(weights));
  }
  builder.create<train::BackwardOp>(loc, total);
  builder.create<train::OptimizerStepOp>(loc, model);
  return success();
}

//===----------------------------------------------------------------------===//
// Stages
//===----------------------------------------------------------------------===//

LogicalResult RecipeLowering::lowerStage(recipe::StageOp stage) {
  Block &body = *stage.getBody();
  // Stage-local rewards are declarations too (attached at program level, before the stage).
  for (auto reward : body.getOps<recipe::RewardOp>())
    if (failed(lowerReward(reward)))
      return failure();

  SmallVector<recipe::TrainOp> trains(body.getOps<recipe::TrainOp>());
  if (trains.size() != 1)
    return stage.emitOpError() << "trains " << trains.size()
                               << " targets; the train dialect expresses exactly one per stage yet";
  recipe::TrainOp trainItem = trains.front();
  FailureOr<Value> model = modelFor(trainItem, trainItem.getTargetAttr());
  if (failed(model))
    return failure();

  FailureOr<SmallVector<WeightedTerm>> terms = objectiveTerms(stage);
  if (failed(terms))
    return failure();
  bool needsReference = llvm::any_of(*terms, [](const WeightedTerm &t) {
    std::optional<train::LossKind> kind = train::symbolizeLossKind(t.term.getKind());
    return kind && train::LossOp::needsReference(*kind);
  });

  // The frozen reference: an earlier stage's result, or a second, never-trained copy of a model.
  SmallVector<recipe::ReferenceOp> references(body.getOps<recipe::ReferenceOp>());
  recipe::ReferenceOp referenceDecl = needsReference && !references.empty() ? references.front() : nullptr;
  Value referenceModel;
  if (referenceDecl) {
    Operation *source = recipe::lookupInScope(referenceDecl, referenceDecl.getSourceAttr());
    if (!isa_and_nonnull<recipe::StageOp>(source)) {
      auto declared = dyn_cast_or_null<train::LoadModelOp>(values_.lookup(source).getDefiningOp());
      if (!declared)
        return referenceDecl.emitOpError() << "a frozen copy of " << referenceDecl.getSourceAttr()
                                           << " cannot be expressed in the train dialect yet (expected a model "
                                              "declaration or a stage)";
      referenceModel = builder_.create<train::LoadModelOp>(referenceDecl.getLoc(), train::ModelType::get(context_),
                                                           referenceDecl.getSymNameAttr(), declared.getSourceAttr(),
                                                           declared.getConfigAttr());
    }
  }

  FailureOr<DictionaryAttr> attrs = scheduleAttributes(stage, referenceDecl != nullptr);
  if (failed(attrs))
    return failure();
  auto trainStage = builder_.create<train::StageOp>(stage.getLoc(), TypeRange(), ValueRange(), attrs->getValue());
  trainStage.setSymNameAttr(stage.getSymNameAttr());
  if (FlatSymbolRefAttr init = stage.getInitFromAttr())
    trainStage.setInitFromAttr(init);
  OpBuilder builder(context_);
  builder.setInsertionPointToStart(&trainStage.getBodyRegion().emplaceBlock());

  if (referenceDecl && !referenceModel)
    referenceModel = builder.create<train::StageResultOp>(referenceDecl.getLoc(), train::ModelType::get(context_),
                                                          referenceDecl.getSourceAttr());
  Location referenceLoc = referenceDecl ? referenceDecl.getLoc() : stage.getLoc();

  // The data the step loop reads: one split, or several united.
  ArrayAttr dataRefs = trainItem.getData();
  SmallVector<DataRead> reads;
  for (auto ref : dataRefs.getAsRange<SymbolRefAttr>()) {
    FailureOr<DataRead> read = dataFor(trainItem, ref);
    if (failed(read))
      return failure();
    reads.push_back(*read);
  }
  DataRead data = reads.front();
  if (reads.size() > 1) {
    SmallVector<Value> sources;
    SmallVector<Attribute> splits;
    for (const DataRead &read : reads) {
      if (!read.split)
        return trainItem.emitOpError() << "training on a whole data source together with others cannot be "
                                          "expressed in the train dialect yet; name a split of each";
      sources.push_back(read.dataset);
      splits.push_back(read.split);
    }
    data = {builder.create<train::UnionDataOp>(trainItem.getLoc(), train::DatasetType::get(context_), sources,
                                               builder.getArrayAttr(splits)),
            StringAttr()};
  }

  // The loop: a plain step loop, or one inside the recipe's EM or RSF loop.
  SmallVector<recipe::LoopOp> loops(body.getOps<recipe::LoopOp>());
  Location loopLoc = stage.getObjective()->getLoc();
  if (loops.empty()) {
    if (failed(buildStepLoop(builder, loopLoc, *model, data, *terms, referenceModel, referenceLoc)))
      return failure();
  } else if (loops.front().getKind() == "em") {
    recipe::LoopOp loop = loops.front();
    DictionaryAttr params = loop.getParams();
    recipe::PreferenceOp types;
    for (const WeightedTerm &t : *terms)
      if (auto ref = t.term.getParams().getAs<FlatSymbolRefAttr>("types"))
        types = dyn_cast_or_null<recipe::PreferenceOp>(recipe::lookupInScope(t.term, ref));
    auto k = types ? types.getParams().getAs<IntegerAttr>("k") : IntegerAttr();
    if (!k)
      return loop.emitOpError() << "an EM loop without a latent preference's `k` cannot be expressed yet";
    // The closed sets arrive as their spellings (Sema checked them against the registry).
    auto eStepWord = params.getAs<StringAttr>("e_step");
    std::optional<train::EStepKind> eStep = train::symbolizeEStepKind(eStepWord ? eStepWord.getValue() : "full");
    if (!eStep)
      return loop.emitOpError() << "unknown e_step '" << eStepWord.getValue() << "'";
    auto policiesWord = params.getAs<StringAttr>("policies");
    std::optional<train::TypePolicies> policies =
        train::symbolizeTypePolicies(policiesWord ? policiesWord.getValue() : "lora");
    if (!policies)
      return loop.emitOpError() << "unknown policies '" << policiesWord.getValue() << "'";
    train::RankingLikelihoodAttr likelihood;
    if (auto word = types.getParams().getAs<StringAttr>("likelihood")) {
      std::optional<train::RankingLikelihood> kind = train::symbolizeRankingLikelihood(word.getValue());
      if (!kind)
        return types.emitOpError() << "unknown likelihood '" << word.getValue() << "'";
      likelihood = train::RankingLikelihoodAttr::get(context_, *kind);
    }
    auto em = builder.create<train::EmLoopOp>(
        loop.getLoc(), params.getAs<IntegerAttr>("iterations"), k, params.getAs<BoolAttr>("restart"),
        train::EStepKindAttr::get(context_, *eStep), params.getAs<IntegerAttr>("folds"),
        train::TypePoliciesAttr::get(context_, *policies), likelihood,
        types.getParams().get("init") ? dyn_cast<DictionaryAttr>(plainValue(types, types.getParams().get("init")))
                                      : DictionaryAttr());
    OpBuilder::InsertionGuard guard(builder);
    builder.setInsertionPointToStart(&em.getBodyRegion().emplaceBlock());
    if (failed(buildStepLoop(builder, loopLoc, *model, data, *terms, referenceModel, referenceLoc)))
      return failure();
  } else if (loops.front().getKind() == "rsf") {
    recipe::LoopOp loop = loops.front();
    DictionaryAttr params = loop.getParams();
    auto prompts = params.getAs<SymbolRefAttr>("prompts");
    auto scorerRef = params.getAs<FlatSymbolRefAttr>("scorer");
    FailureOr<DataRead> promptData = prompts ? dataFor(loop, prompts) : FailureOr<DataRead>(failure());
    if (failed(promptData) || !scorerRef)
      return loop.emitOpError() << "an RSF loop needs prompts and a scorer";
    Value scorer;
    if (isa_and_nonnull<recipe::StageOp>(recipe::lookupInScope(loop, scorerRef)))
      scorer = builder.create<train::StageResultOp>(loop.getLoc(), train::ModelType::get(context_), scorerRef);
    else if (FailureOr<Value> declared = modelFor(loop, scorerRef); succeeded(declared))
      scorer = *declared;
    else
      return failure();
    auto rsf = builder.create<train::RsfLoopOp>(loop.getLoc(), params.getAs<IntegerAttr>("iterations"),
                                                params.getAs<IntegerAttr>("prompts_per_iteration"));
    OpBuilder::InsertionGuard guard(builder);
    builder.setInsertionPointToStart(&rsf.getBodyRegion().emplaceBlock());
    auto promptBatch = builder.create<train::BatchFetchOp>(loop.getLoc(), train::BatchType::get(context_),
                                                           promptData->dataset, promptData->split);
    auto samples = builder.create<train::GenerateOp>(
        loop.getLoc(), train::SamplesType::get(context_), *model, promptBatch, params.getAs<IntegerAttr>("samples"),
        builder.getF64FloatAttr(params.getAs<FloatAttr>("temperature").getValueAsDouble()),
        params.getAs<IntegerAttr>("max_new_tokens"));
    auto sampleScores = builder.create<train::ScoreOp>(loop.getLoc(), train::ScoresType::get(context_), scorer, samples);
    auto best = builder.create<train::SelectBestOp>(loop.getLoc(), train::DatasetType::get(context_), samples,
                                                    sampleScores);
    if (failed(buildStepLoop(builder, loopLoc, *model, DataRead{best, StringAttr()}, *terms, referenceModel,
                             referenceLoc)))
      return failure();
  } else {
    return loops.front().emitOpError() << "loop '" << loops.front().getKind()
                                       << "' cannot be expressed in the train dialect yet";
  }

  Cadence eval = cadenceOf(stage.getSchedule().get("eval_every"));
  if (failed(lowerStageEvals(builder, stage, *model, eval.steps)))
    return failure();
  Cadence checkpoint = cadenceOf(stage.getSchedule().get("checkpoint_every"));
  builder.create<train::SaveCheckpointOp>(
      stage.getLoc(), *model, checkpoint.steps ? builder.getI64IntegerAttr(*checkpoint.steps) : IntegerAttr(),
      checkpoint.seconds ? builder.getF64FloatAttr(*checkpoint.seconds) : FloatAttr());
  lastStage_ = trainStage;
  lastStageResult_ = nullptr;
  return success();
}

LogicalResult RecipeLowering::lowerStageEvals(OpBuilder &builder, recipe::StageOp stage, Value model,
                                              std::optional<int64_t> everySteps) {
  for (auto eval : stage.getBody()->getOps<recipe::EvalOp>()) {
    for (auto ref : eval.getData().getAsRange<SymbolRefAttr>()) {
      FailureOr<DataRead> read = dataFor(eval, ref);
      if (failed(read))
        return failure();
      builder.create<train::EvaluateOp>(eval.getLoc(), eval.getMetricAttr(), eval.getByAttr(), model, read->dataset,
                                        read->split,
                                        everySteps ? builder.getI64IntegerAttr(*everySteps) : IntegerAttr(),
                                        plainParams(eval, eval.getParams()));
    }
  }
  return success();
}

LogicalResult RecipeLowering::lowerRecipeEval(recipe::EvalOp eval) {
  if (!lastStage_)
    return eval.emitOpError() << "evaluates a recipe without stages; there is no model to evaluate";
  // Recipe-level metrics measure what the recipe produced: the last stage's final model.
  if (!lastStageResult_)
    lastStageResult_ = builder_.create<train::StageResultOp>(eval.getLoc(), train::ModelType::get(context_),
                                                             FlatSymbolRefAttr::get(lastStage_.getSymNameAttr()));
  for (auto ref : eval.getData().getAsRange<SymbolRefAttr>()) {
    FailureOr<DataRead> read = dataFor(eval, ref);
    if (failed(read))
      return failure();
    builder_.create<train::EvaluateOp>(eval.getLoc(), eval.getMetricAttr(), eval.getByAttr(), lastStageResult_,
                                       read->dataset, read->split, IntegerAttr(), plainParams(eval, eval.getParams()));
  }
  return success();
}

LogicalResult RecipeLowering::lowerAggregate(recipe::AggregateOp aggregate) {
  DictionaryAttr params = aggregate.getParams();
  Value prompts;
  StringAttr split;
  if (auto ref = params.getAs<SymbolRefAttr>("prompts")) {
    FailureOr<DataRead> read = dataFor(aggregate, ref);
    if (failed(read))
      return failure();
    prompts = read->dataset, split = read->split;
  }
  // `baseline` stays a symbol: the verifier checks that it is an earlier stage, as it does for `policies`.
  NamedAttrList plain(plainParams(aggregate, params, {"prompts", "baseline"}));
  if (auto baseline = params.getAs<SymbolRefAttr>("baseline"))
    plain.set("baseline", FlatSymbolRefAttr::get(baseline.getRootReference()));
  builder_.create<train::AggregateOp>(aggregate.getLoc(), aggregate.getSymNameAttr(), aggregate.getConstructorAttr(),
                                      aggregate.getPoliciesAttr(), prompts, split,
                                      plain.getDictionary(context_));
  return success();
}

} // namespace align::lowering
