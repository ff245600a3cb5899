//===- StageEmission.cpp - One train.stage as a StageSpec -----------------===//
//
// A stage becomes one StageSpec handed to t.stage(): what its step loop trains (the model, a reward head,
// LoRA adapter or users model on it, the frozen reference, the data split), its objective (the train.loss /
// loss_sum that train.backward reads, term by term), its schedule (the stage's attributes and checkpoint
// cadence) and the compiler's decisions (reference strategy, pair concatenation, fused chunked log-probs,
// generic-user duplicates). Every op of the step program says something the StageSpec carries: batch_fetch
// the data (and the generic duplicates), forward / score / sequence_logprobs the model and the passes'
// decisions recorded on them (concat_pairs, fused chunk), reference_logprobs the frozen reference (cached:
// precomputed), loss / loss_sum / backward the objective, optimizer_step the model trained. What the runtime
// cannot execute (two data sources, a mix of fused and unfused log-probs in one step, ...) is rejected here.
// Evaluations inside the stage follow its t.stage().
//
//===----------------------------------------------------------------------===//

#include "RuntimeSupport.h"
#include "TrainerEmitter.h"

#include "Schema.h"
#include "align/registry/Registry.h"

#include "mlir/IR/BuiltinAttributes.h"

#include "llvm/ADT/TypeSwitch.h"

namespace align::emit {

namespace {

/// The `lora` adapter's default for `param` as the schema writes it (compiler/frontend/Schema.cpp): EM's type
/// adapters, when the policy declares none, take the settings a declared `lora()` would have.
std::string loraDefault(llvm::StringRef param) {
  if (const schema::Constructor *lora = schema::find("adapter", "lora"))
    for (const schema::Param &p : lora->params)
      if (p.name == param && p.defaultValue)
        return *p.defaultValue;
  llvm::report_fatal_error("the schema's lora adapter has no default for " + param);
}

/// `["q_proj", "v_proj"]` (a list default's source text) → its strings.
std::vector<std::string> quotedStrings(llvm::StringRef text) {
  std::vector<std::string> strings;
  for (size_t open = text.find('"'); open != llvm::StringRef::npos; open = text.find('"', open + 1)) {
    size_t close = text.find('"', open + 1);
    if (close == llvm::StringRef::npos)
      break;
    strings.push_back(text.slice(open + 1, close).str());
    open = close;
  }
  return strings;
}

/// `{"hh", "train"}`: a DataRef naming a split of a data declaration.
std::string dataRef(llvm::StringRef data, llvm::StringRef split) {
  return "{" + cppString(data) + ", " + cppString(split) + "}";
}

} // namespace

using mlir::Location;
using mlir::NamedAttribute;

/// `loop em` as the trainer's own loop over the runtime's EM calls (Trainer.h's LatentSpec): one M-step per
/// type, then the E-step, `iterations` times, after emBegin (which also tells a resumed run where it was).
void TrainerEmitter::emitEmLoop(train::StageOp stage, train::EmLoopOp em, const std::string &spec) {
  Location loc = em.getLoc();
  std::string name = stage.getSymName().str();
  std::string key = name + ".em.";
  std::string latent = ids_.make(name, "latent");
  w_.statement("align::rt::LatentSpec " + latent, loc);
  w_.statement(latent + ".types = " + w_.integer(key + "types", em.getTypes(), loc, schema::findParam("preference", "latent", "k")), loc);
  llvm::StringRef likelihood =
      train::stringifyRankingLikelihood(em.getLikelihood().value_or(train::RankingLikelihood::pairwise));
  w_.statement(latent + ".likelihood = " +
                   w_.choice(key + "likelihood", enumMember("RankingLikelihood", likelihood), likelihood, loc),
               loc);
  if (mlir::DictionaryAttr init = em.getGammaInitAttr()) {
    auto kind = init.getAs<mlir::StringAttr>("kind");
    if (!kind || !isExecutedMember("LatentInit", kind.getValue()))
      return reject(em, "latent init " + (kind ? kind.getValue() : llvm::StringRef("?")).str());
    w_.statement(latent + ".init = " +
                     w_.choice(key + "init", enumMember("LatentInit", kind.getValue()), kind.getValue(), loc),
                 loc);
    auto initParam = [&](const char *param) { return schema::findParam("latent_init", kind.getValue().str(), param); };
    if (std::optional<double> alpha = init.get("alpha") ? numericValue(init.get("alpha")) : std::nullopt)
      w_.statement(latent + ".alpha = " + w_.number(key + "init.alpha", *alpha, loc, initParam("alpha")), loc);
    if (auto column = init.getAs<mlir::StringAttr>("column"))
      w_.statement(latent + ".column = " + w_.text(key + "init.column", column.getValue(), loc), loc);
    if (std::optional<double> seed = init.get("seed") ? numericValue(init.get("seed")) : std::nullopt)
      w_.statement(latent + ".seed = static_cast<std::uint64_t>(" +
                       w_.integer(key + "init.seed", static_cast<int64_t>(*seed), loc, initParam("seed")) + ")",
                   loc);
  }
  w_.statement(latent + ".iterations = " + w_.integer(key + "iterations", em.getIterations(), loc, schema::findParam("loop", "em", "iterations")), loc);
  w_.statement(latent + ".restart = " + w_.flag(key + "restart", em.getRestart(), loc), loc);
  llvm::StringRef eStep = train::stringifyEStepKind(em.getEStep());
  w_.statement(latent + ".eStep = " + w_.choice(key + "e_step", enumMember("EStepKind", eStep), eStep, loc), loc);
  w_.statement(latent + ".folds = " + w_.integer(key + "folds", em.getFolds(), loc, schema::findParam("loop", "em", "folds")), loc);
  llvm::StringRef policies = train::stringifyTypePolicies(em.getPolicies());
  w_.statement(latent + ".policies = " + w_.choice(key + "policies", enumMember("TypePolicies", policies), policies, loc),
               loc);
  if (!policyAdapter_) {
    // No adapter on the policy: with `policies: lora` each type's adapter has the `lora` adapter's defaults.
    w_.comment("each type's policy under `policies: lora`: an adapter with the `lora` adapter's defaults");
    w_.statement(spec + ".lora.rank = " + w_.integer(key + "lora.r", std::stoll(loraDefault("r")), loc, schema::findParam("adapter", "lora", "r")), loc);
    w_.statement(spec + ".lora.alpha = " + w_.number(key + "lora.alpha", std::stod(loraDefault("alpha")), loc, schema::findParam("adapter", "lora", "alpha")), loc);
    w_.statement(spec + ".lora.dropout = " + w_.number(key + "lora.dropout", std::stod(loraDefault("dropout")), loc, schema::findParam("adapter", "lora", "dropout")),
                 loc);
    w_.statement(spec + ".lora.targets = " + cppStringList(quotedStrings(loraDefault("targets"))), loc);
  }
  std::string stageName = cppString(name);
  w_.comment("loop em: an M-step per latent type (γ-weighted DPO), then the E-step (γ, η), each iteration");
  w_.open("for (std::int64_t iteration = t.emBegin(" + spec + ", " + latent + "); iteration < " + latent +
              ".iterations; ++iteration)",
          loc);
  w_.open("for (std::int64_t type = 0; type < " + latent + ".types; ++type)", loc);
  w_.statement("t.emMaximize(" + stageName + ", iteration, type)", loc);
  w_.close();
  w_.statement("t.emExpect(" + stageName + ", iteration)", loc);
  w_.close();
  w_.statement("t.emEnd(" + stageName + ")", loc);
}

void TrainerEmitter::emitStage(train::StageOp stage) {
  Location loc = stage.getLoc();
  std::string name = stage.getSymName().str();
  stageNames_.push_back(name);
  std::string spec = ids_.make(name, "stage");

  policyAdapter_ = false;
  w_.comment("stage " + name);
  w_.statement("align::rt::StageSpec " + spec, loc);
  w_.statement(spec + ".name = " + cppString(name), loc);
  w_.statement(spec + ".location = " + cppString(locationText(loc)), loc);
  if (auto from = stage.getInitFromAttr())
    w_.statement(spec + ".initFrom = " + cppString(from.getValue()), loc);

  train::StepLoopOp loop;
  train::EmLoopOp emLoop;
  train::RsfLoopOp rsfLoop;
  llvm::SmallVector<train::EvaluateOp> evaluations;
  llvm::SmallVector<train::SaveCheckpointOp> checkpoints;
  for (mlir::Operation &op : stage.getBodyRegion().front()) {
    llvm::TypeSwitch<mlir::Operation *>(&op)
        .Case([&](train::StageResultOp) {})
        .Case([&](train::LoadWeightsOp load) {
          // expand-stages writes the stage's start as a load of its init_from stage's result, which is
          // what StageSpec.initFrom says; any other source has no StageSpec field.
          auto source = load.getSource().getDefiningOp<train::StageResultOp>();
          if (!source || !stage.getInitFromAttr() || source.getStage() != stage.getInitFromAttr().getValue())
            reject(load, "load_weights from a model other than the init_from stage's result");
        })
        .Case([&](train::StepLoopOp step) {
          if (loop)
            return reject(step, "a second step_loop in one stage");
          loop = step;
        })
        .Case([&](train::EmLoopOp em) {
          // EM's M-step is the step loop inside it; the E-step and the loop are the runtime calls below.
          if (loop || emLoop)
            return reject(em, "a second training loop in one stage");
          emLoop = em;
          for (auto step : em.getBody()->getOps<train::StepLoopOp>())
            loop = step;
        })
        .Case([&](train::RsfLoopOp rsf) {
          // RSF's fine-tune is the step loop inside it; generation, scoring and selection are runtime calls.
          if (loop || emLoop || rsfLoop)
            return reject(rsf, "a second training loop in one stage");
          rsfLoop = rsf;
          for (auto step : rsf.getBody()->getOps<train::StepLoopOp>())
            loop = step;
        })
        .Case([&](train::UnionDataOp) {}) // read by the step loop's batch_fetch: StageSpec.alsoOn
        .Case([&](train::EvaluateOp evaluate) { evaluations.push_back(evaluate); })
        .Case([&](train::SaveCheckpointOp save) { checkpoints.push_back(save); })
        .Default([&](mlir::Operation *other) { reject(other, other->getName().getStringRef()); });
  }
  StepDecisions decisions(loc);
  if (loop)
    decisions = emitStepLoop(stage, loop, spec);

  std::string schedule = ids_.make(name, "schedule");
  w_.statement("align::rt::ScheduleSpec &" + schedule + " = " + spec + ".schedule", loc);
  emitSchedule(stage, schedule);
  emitDecisions(stage, decisions, schedule);
  for (train::SaveCheckpointOp save : checkpoints) {
    if (auto steps = save.getEveryStepsAttr())
      w_.statement(schedule + ".checkpointEverySteps = " +
                       w_.integer(name + ".schedule.checkpoint_every_steps", steps.getInt(), save.getLoc()),
                   save.getLoc());
    if (auto seconds = save.getEverySecondsAttr())
      w_.statement(schedule + ".checkpointEverySeconds = " +
                       w_.number(name + ".schedule.checkpoint_every_seconds", seconds.getValueAsDouble(),
                                 save.getLoc()),
                   save.getLoc());
  }
  if (emLoop)
    emitEmLoop(stage, emLoop, spec);
  else if (rsfLoop)
    emitRsfLoop(stage, rsfLoop, spec);
  else
    w_.statement("t.stage(" + spec + ")", loc);
  // The stage's evaluations measure its trained model when they name it (the optimizer step's model).
  mlir::Value trained;
  if (loop)
    for (auto step : loop.getBodyRegion().front().getOps<train::OptimizerStepOp>())
      trained = step.getModel();
  for (train::EvaluateOp evaluate : evaluations)
    emitEvaluate(evaluate, evaluate.getModel() == trained ? llvm::StringRef(name) : llvm::StringRef());
  w_.blankLine();
}

TrainerEmitter::StepDecisions TrainerEmitter::emitStepLoop(train::StageOp stage, train::StepLoopOp loop,
                                                           const std::string &spec) {
  StepDecisions decisions(loop.getLoc());
  // A decision the runtime takes once per step must be the same on every op that records it.
  auto decide = [&](auto &slot, auto value, mlir::Location &where, mlir::Operation *op, llvm::StringRef what) {
    if (slot && *slot != value)
      return reject(op, what);
    slot = value, where = op->getLoc();
  };
  mlir::Value trained, data, reference, loss;
  mlir::StringAttr split;
  bool genericDuplicates = false;
  Location dataLoc = loop.getLoc(), referenceLoc = loop.getLoc(), trainedLoc = loop.getLoc();
  llvm::SmallVector<std::pair<mlir::Operation *, mlir::Value>> computed; // forward/score ops and their model
  for (mlir::Operation &op : loop.getBodyRegion().front()) {
    llvm::TypeSwitch<mlir::Operation *>(&op)
        .Case([&](train::BatchFetchOp fetch) {
          if (data && (fetch.getDataset() != data || fetch.getSplitAttr() != split))
            return reject(fetch, "a step reading two data sources");
          data = fetch.getDataset(), split = fetch.getSplitAttr(), dataLoc = fetch.getLoc();
          genericDuplicates |= fetch.getGenericDuplicates();
        })
        .Case([&](train::ReferenceLogprobsOp ref) {
          if (reference && ref.getModel() != reference)
            return reject(ref, "a step with two reference models");
          reference = ref.getModel(), referenceLoc = ref.getLoc();
          decide(decisions.cachedReference, ref.getCached(), decisions.referenceLoc, ref,
                 "a step with cached and online reference log-probs");
        })
        // The forward, score and log-prob ops are the runtime's step (runtime/src/train/TrainingStep.cpp) on
        // the model the stage trains; what they record is a decision of the step.
        .Case([&](train::ForwardOp forward) {
          computed.push_back({forward, forward.getModel()});
          decide(decisions.concatPairs, forward.getConcatPairs(), decisions.concatLoc, forward,
                 "a step with concatenated and separate forwards");
          decide(decisions.sharedPrefix, forward.getSharedPrefix(), decisions.concatLoc, forward,
                 "a step with shared and unshared prefixes");
        })
        .Case([&](train::ScoreOp score) {
          computed.push_back({score, score.getModel()});
          decide(decisions.concatPairs, score.getConcatPairs(), decisions.concatLoc, score,
                 "a step with concatenated and separate forwards");
          decide(decisions.sharedPrefix, score.getSharedPrefix(), decisions.concatLoc, score,
                 "a step with shared and unshared prefixes");
        })
        .Case([&](train::SequenceLogprobsOp logprobs) {
          computed.push_back({logprobs, logprobs.getModel()});
          std::optional<int64_t> chunk;
          if (logprobs.getFused())
            chunk = logprobs.getChunkAttr().getInt();
          decide(decisions.logprobs, chunk, decisions.logprobsLoc, logprobs,
                 "a step with fused and unfused log-probs (or two chunk sizes)");
        })
        // The terms are read from the loss the backward pass takes (emitObjective).
        .Case<train::LossOp, train::LossSumOp>([](mlir::Operation *) {})
        .Case([&](train::BackwardOp backward) {
          if (loss)
            return reject(backward, "a step with two backward passes");
          loss = backward.getLoss();
        })
        .Case([&](train::OptimizerStepOp step) { trained = step.getModel(), trainedLoc = step.getLoc(); })
        .Default([&](mlir::Operation *other) { reject(other, other->getName().getStringRef()); });
  }

  for (auto [op, model] : computed)
    if (model != trained)
      reject(op, "a step computing with a model it does not train");
  if (trained)
    if (std::optional<ResolvedModel> model = resolveModel(trained, trainedLoc))
      emitTrainedModel(*model, trainedLoc, spec);
  if (reference) {
    if (std::optional<ResolvedModel> ref = resolveModel(reference, referenceLoc)) {
      if (ref->rewardHead || ref->adapter || ref->users)
        reject(reference.getDefiningOp(), "a reference with a reward head, adapter or users");
      else {
        bool stageResult = !ref->stageResult.empty();
        const std::string &source = stageResult ? ref->stageResult : ref->declaration;
        w_.comment(stageResult ? "frozen reference: the final model of stage " + source
                               : "frozen reference: model " + source + " as declared");
        w_.statement(spec + ".reference = " + cppString(source), referenceLoc);
      }
    }
  }
  if (auto unionData = data ? data.getDefiningOp<train::UnionDataOp>() : nullptr) {
    emitUnionData(unionData, spec);
  } else if (data && data.getDefiningOp<train::SelectBestOp>()) {
    // RSF fine-tunes on the samples it keeps; the stage's rows are the loop's prompts (emitRsfLoop).
  } else if (data) {
    std::optional<std::string> source = dataDeclaration(data, dataLoc);
    std::optional<std::string> splitName = source ? splitOf(data, split, dataLoc, "training") : std::nullopt;
    if (splitName)
      w_.statement(spec + ".train = " + dataRef(*source, *splitName), dataLoc);
  }
  if (genericDuplicates) { // decided by duplicate-generic-rows, so a literal like the schedule decisions
    w_.comment("every row of a user i != 0 is also trained as the generic user 0 (P-RLHF's duplicates)");
    w_.statement(spec + ".genericDuplicates = true", dataLoc);
  }
  if (loss)
    emitObjective(stage, loss, spec);
  return decisions;
}

void TrainerEmitter::emitDecisions(train::StageOp stage, const StepDecisions &decisions, const std::string &schedule) {
  std::string key = stage.getSymName().str() + ".schedule.";
  w_.comment("the step's decisions, as its ops record them (concat-pairs, share-prefix, fuse-logprobs, "
             "hoist-reference-logprobs)");
  if (decisions.concatPairs)
    w_.statement(schedule + ".concatPairs = " + (*decisions.concatPairs ? "true" : "false"), decisions.concatLoc);
  if (decisions.sharedPrefix)
    w_.statement(schedule + ".sharedPrefix = " + (*decisions.sharedPrefix ? "true" : "false"), decisions.concatLoc);
  if (decisions.logprobs) {
    const bool fused = decisions.logprobs->has_value();
    if (auto reason = stage.getLogprobsReasonAttr()) {
      // The cost model's choice (fuse-logprobs): a setting, with its reason printed when the stage starts.
      w_.statement(schedule + ".fusedLogprobs = " + w_.flag(key + "fused_logprobs", fused, decisions.logprobsLoc),
                   decisions.logprobsLoc);
      w_.statement(schedule + ".plan.push_back({" + cppString(key + "fused_logprobs") + ", " +
                       cppString(fused ? "true" : "false") + ", " + cppString(reason.getValue()) + ", " +
                       cppInteger(stage.getPlannedForHidden().value_or(0)) + "})",
                   decisions.logprobsLoc);
    } else {
      w_.statement(schedule + ".fusedLogprobs = " + (fused ? "true" : "false"), decisions.logprobsLoc);
    }
    if (decisions.logprobs->has_value())
      w_.statement(schedule + ".logprobChunk = " + cppInteger(**decisions.logprobs), decisions.logprobsLoc);
  }
  if (decisions.cachedReference) {
    // The strategy stays a setting (--set <stage>.schedule.reference=online), as the recipe's `reference:` is.
    llvm::StringRef decided = *decisions.cachedReference ? "precompute" : "online";
    llvm::StringRef requested =
        stage.getReference() ? train::stringifyReferenceStrategy(*stage.getReference()) : llvm::StringRef("auto");
    w_.comment(("reference log-probs: " + decided + " (the recipe asked for " + requested + ")").str());
    w_.statement(schedule + ".reference = " +
                     w_.choice(key + "reference", enumMember("ReferenceStrategy", decided), decided,
                               decisions.referenceLoc),
                 decisions.referenceLoc);
  }
}

void TrainerEmitter::emitUnionData(train::UnionDataOp unionData, const std::string &spec) {
  // The first source is StageSpec.train; the others follow it in StageSpec.alsoOn.
  Location loc = unionData.getLoc();
  llvm::SmallVector<std::string> reads;
  for (auto [source, split] : llvm::zip(unionData.getSources(), unionData.getSplits())) {
    std::optional<std::string> name = dataDeclaration(source, loc);
    if (!name)
      return;
    reads.push_back(dataRef(*name, split.cast<mlir::StringAttr>().getValue()));
  }
  if (reads.empty())
    return reject(unionData, "union_data of no sources");
  w_.statement(spec + ".train = " + reads.front(), loc);
  for (size_t i = 1; i < reads.size(); ++i)
    w_.statement(spec + ".alsoOn.push_back(" + reads[i] + ")", loc);
}

void TrainerEmitter::emitTrainedModel(const ResolvedModel &model, Location loc, const std::string &spec) {
  if (model.declaration.empty()) {
    failed_ = true;
    (void)notExecuted(loc, "training the final model of stage " + model.stageResult);
    return;
  }
  w_.statement(spec + ".model = " + cppString(model.declaration), loc);
  if (train::AttachOp head = model.rewardHead) {
    Location headLoc = head.getLoc();
    std::string headName = "reward";
    if (auto name = head->getAttrOfType<mlir::StringAttr>("name"))
      headName = name.getValue().str();
    mlir::DictionaryAttr config = head.getConfig();
    w_.statement(spec + ".rewardModel = true", headLoc);
    if (auto pooling = config.getAs<mlir::StringAttr>("pooling"))
      w_.statement(spec + ".pooling = " +
                       w_.choice(headName + ".pooling", enumMember("Pooling", pooling.getValue()), pooling.getValue(),
                                 headLoc),
                   headLoc);
    if (auto outputs = config.getAs<mlir::IntegerAttr>("outputs"))
      w_.statement(spec + ".rewardOutputs = " + cppInteger(outputs.getInt()), headLoc);
    if (auto objectives = config.getAs<mlir::ArrayAttr>("objectives"))
      w_.statement(spec + ".rewardObjectives = " + cppStringList(stringsOf(objectives)), headLoc);
  }
  policyAdapter_ = static_cast<bool>(model.adapter);
  if (train::AttachOp adapter = model.adapter) {
    Location adapterLoc = adapter.getLoc();
    std::string adapterName = "lora";
    if (auto name = adapter->getAttrOfType<mlir::StringAttr>("name"))
      adapterName = name.getValue().str();
    w_.statement(spec + ".lora.enabled = true", adapterLoc);
    mlir::DictionaryAttr config = adapter.getConfig();
    for (NamedAttribute entry : config)
      if (!llvm::is_contained(llvm::ArrayRef<llvm::StringRef>{"r", "alpha", "dropout", "targets"},
                              entry.getName().getValue()))
        return reject(adapter, "lora parameter " + entry.getName().getValue());
    auto setting = [&](llvm::StringRef key) { return adapterName + "." + key.str(); };
    if (auto rank = config.getAs<mlir::IntegerAttr>("r"))
      w_.statement(spec + ".lora.rank = " + w_.integer(setting("r"), rank.getInt(), adapterLoc), adapterLoc);
    if (std::optional<double> alpha = numericValue(config.get("alpha")))
      w_.statement(spec + ".lora.alpha = " + w_.number(setting("alpha"), *alpha, adapterLoc), adapterLoc);
    if (std::optional<double> dropout = numericValue(config.get("dropout")))
      w_.statement(spec + ".lora.dropout = " + w_.number(setting("dropout"), *dropout, adapterLoc), adapterLoc);
    if (auto targets = config.getAs<mlir::ArrayAttr>("targets"))
      w_.statement(spec + ".lora.targets = " + cppStringList(stringsOf(targets)), adapterLoc);
  }
  if (train::AttachOp users = model.users)
    emitUserModel(users, spec);
}

void TrainerEmitter::emitUserModel(train::AttachOp users, const std::string &spec) {
  // checkAttach has rejected what UserModelSpec cannot say (other init kinds); the settings use the recipe's
  // words: <users>.tokens, .generic, .k, .unseen, .text, .weight_lr, .weight_std, .init, .init_seed, .init_common, .init_range.
  Location loc = users.getLoc();
  std::string name = "users";
  if (auto declared = users->getAttrOfType<mlir::StringAttr>("name"))
    name = declared.getValue().str();
  std::string field = spec + ".users.";
  auto setting = [&](llvm::StringRef key) { return name + "." + key.str(); };
  // The schema's ranges of the users model's and its init's parameters, which --set of them must respect.
  const std::string usersKind = users.getConstructor().str();
  auto range = [&](llvm::StringRef param) { return schema::findParam("users", usersKind, param.str()); };
  mlir::DictionaryAttr config = users.getConfig();
  w_.statement(field + "enabled = true", loc);
  w_.statement(field + "name = " + cppString(name), loc);
  w_.statement(field + "kind = " + enumMember("UserModelKind", users.getConstructor()), loc);
  if (auto tokens = config.getAs<mlir::IntegerAttr>("tokens"))
    w_.statement(field + "tokens = " + w_.integer(setting("tokens"), tokens.getInt(), loc, range("tokens")), loc);
  if (auto generic = config.getAs<mlir::BoolAttr>("generic"))
    w_.statement(field + "generic = " + w_.flag(setting("generic"), generic.getValue(), loc), loc);
  if (auto k = config.getAs<mlir::IntegerAttr>("k"))
    w_.statement(field + "clusters = " + w_.integer(setting("k"), k.getInt(), loc, range("k")), loc);
  if (auto unseen = config.getAs<mlir::StringAttr>("unseen"))
    w_.statement(field + "unseen = " +
                     w_.choice(setting("unseen"), enumMember("Unseen", unseen.getValue()), unseen.getValue(), loc),
                 loc);
  if (auto text = config.getAs<mlir::StringAttr>("text"))
    w_.statement(field + "textColumn = " + w_.text(setting("text"), text.getValue(), loc), loc);
  if (std::optional<double> weightLr = numericValue(config.get("weight_lr")))
    w_.statement(field + "weightLr = " + w_.number(setting("weight_lr"), *weightLr, loc, range("weight_lr")), loc);
  if (std::optional<double> weightStd = numericValue(config.get("weight_std")))
    w_.statement(field + "weightStd = " + w_.number(setting("weight_std"), *weightStd, loc, range("weight_std")), loc);
  auto init = config.getAs<mlir::DictionaryAttr>("init");
  if (!init)
    return;
  const std::string initKind = init.getAs<mlir::StringAttr>("kind") ? init.getAs<mlir::StringAttr>("kind").getValue().str() : "";
  auto initRange = [&](const char *param) { return schema::findParam("users_init", initKind, param); };
  if (auto kind = init.getAs<mlir::StringAttr>("kind"))
    w_.statement(field + "init = " + w_.choice(setting("init"), enumMember("UsersInit", kind.getValue()), kind.getValue(), loc),
                 loc);
  if (auto seed = init.getAs<mlir::IntegerAttr>("seed"))
    w_.statement(field + "initSeed = static_cast<std::uint64_t>(" +
                     w_.integer(setting("init_seed"), seed.getInt(), loc, initRange("seed")) + ")",
                 loc);
  if (auto common = init.getAs<mlir::IntegerAttr>("common"))
    w_.statement(field + "initCommon = " + w_.integer(setting("init_common"), common.getInt(), loc, initRange("common")), loc);
  if (std::optional<double> range = numericValue(init.get("range")))
    w_.statement(field + "initRange = " + w_.number(setting("init_range"), *range, loc, initRange("range")), loc);
}

void TrainerEmitter::emitObjective(train::StageOp stage, mlir::Value loss, const std::string &spec) {
  llvm::StringMap<int> termCounts;
  if (auto single = loss.getDefiningOp<train::LossOp>())
    return emitTerm(stage, single, std::nullopt, spec, termCounts);
  auto sum = loss.getDefiningOp<train::LossSumOp>();
  if (!sum) {
    failed_ = true;
    (void)(mlir::emitError(loss.getLoc()) << "the loss a backward pass reads is not a train.loss or train.loss_sum");
    return;
  }
  llvm::ArrayRef<double> weights = sum.getWeights();
  for (auto [term, weight] : llvm::zip(sum.getTerms(), weights)) {
    if (auto termLoss = term.getDefiningOp<train::LossOp>())
      emitTerm(stage, termLoss, weight, spec, termCounts);
    else
      reject(sum, "a loss_sum of loss sums");
  }
}

void TrainerEmitter::emitTerm(train::StageOp stage, train::LossOp loss, std::optional<double> sumWeight,
                              const std::string &spec, llvm::StringMap<int> &termCounts) {
  Location loc = loss.getLoc();
  llvm::StringRef kind = train::stringifyLossKind(loss.getKind());
  if (!isExecutedLoss(kind))
    return reject(loss, kind);
  // A second term of one kind in a sum gets its own keys: <stage>.objective.nll_2.*
  int seen = ++termCounts[kind];
  std::string key = stage.getSymName().str() + ".objective." + kind.str() + (seen > 1 ? "_" + std::to_string(seen) : "");

  // Collect the fields first: a rejected parameter must stop the term before anything is written.
  const registry::Objective &info = *registry::objective(kind.str());
  llvm::SmallVector<std::pair<std::string, std::string>> fields;
  auto field = [&](llvm::StringRef name, mlir::Attribute value) -> bool {
    const registry::Param *param = info.param(name.str());
    if (!param)
      return false;
    std::string setting = key + "." + name.str();
    const schema::Param *range = schema::findParam("objective", kind.str(), name.str());
    // BoolAttr first: it is also an IntegerAttr (of i1).
    if (auto flag = value.dyn_cast<mlir::BoolAttr>(); flag && param->type == registry::ParamType::Bool)
      fields.emplace_back(name, w_.flag(setting, flag.getValue(), loc));
    else if (std::optional<double> number = numericValue(value); number && param->type == registry::ParamType::Int)
      fields.emplace_back(name, w_.integer(setting, static_cast<int64_t>(*number), loc, range));
    else if (number && param->type == registry::ParamType::Number)
      fields.emplace_back(name, w_.number(setting, *number, loc, range));
    else
      return false;
    return true;
  };
  for (NamedAttribute param : loss.getParams()) {
    llvm::StringRef name = param.getName().getValue();
    switch (lossParamUse(kind, name, param.getValue())) {
    case ParamUse::Dropped:
      continue;
    case ParamUse::Rejected:
      return reject(loss, (kind + " " + name).str());
    case ParamUse::Field:
      if (!field(name, param.getValue()))
        return reject(loss, (kind + " " + name).str());
    }
  }
  // A mixing loss's alpha is an attribute of the op, not one of its params; it is a field of the struct.
  if (auto alpha = loss.getAlphaAttr())
    if (!field("alpha", alpha))
      return reject(loss, (kind + " alpha").str());

  std::string params = ids_.make(stage.getSymName().str() + "_" + kind.str() + (seen > 1 ? "_" + std::to_string(seen) : ""), "");
  w_.statement("align::rt::" + registryId(kind) + "Params " + params, loc);
  for (const auto &[name, expression] : fields)
    w_.statement(params + "." + name + " = " + expression, loc);
  std::string weight = sumWeight ? w_.number(key + ".weight", *sumWeight, loc) : "1.0";
  // Then: each example's loss times the data's weight column, and how the weighted sum is normalised.
  // A loss weighted only by EM's posterior (em_dpo) has a weight_norm but no weight column.
  std::string weighting;
  if (auto normAttr = loss.getWeightNormAttr()) {
    llvm::StringRef norm = train::stringifyWeightNorm(normAttr.getValue());
    weighting = std::string(loss.getWeighted() ? ", true, " : ", false, ") +
                w_.choice(key + ".weight_norm", enumMember("WeightNorm", norm), norm, loc);
  }
  w_.statement(spec + ".objective.push_back(align::rt::TermSpec(" + params + ", " + weight + weighting + "))", loc);
}

void TrainerEmitter::emitSchedule(train::StageOp stage, const std::string &schedule) {
  Location loc = stage.getLoc();
  std::string key = stage.getSymName().str() + ".schedule.";
  auto set = [&](llvm::StringRef field, const std::string &expression) {
    w_.statement(schedule + "." + field.str() + " = " + expression, loc);
  };
  llvm::StringRef optimizer = train::stringifyOptimizerKind(stage.getOptimizer());
  // Each setting keeps its schema range, so that `--set` is checked as the recipe's value was: the schedule's
  // fields, and the optimizer's (beta1/beta2 are the elements of `betas`).
  auto rangeOf = [&](llvm::StringRef name) -> const schema::Param * {
    llvm::StringRef field = name == "beta1" || name == "beta2" ? "betas" : name;
    for (const schema::Constructor *c : {schema::find("schedule", "schedule"), schema::find("optimizer", optimizer.str())})
      if (c)
        for (const schema::Param &p : c->params)
          if (p.name == field)
            return &p;
    return nullptr;
  };
  auto number = [&](llvm::StringRef name, double value) {
    return w_.number(key + name.str(), value, loc, rangeOf(name));
  };
  auto integer = [&](llvm::StringRef name, int64_t value) {
    return w_.integer(key + name.str(), value, loc, rangeOf(name));
  };

  auto choice = [&](llvm::StringRef name, llvm::StringRef set, llvm::StringRef spelling) {
    return w_.choice(key + name.str(), enumMember(set, spelling), spelling, loc);
  };
  set("optimizer", choice("optimizer", "OptimizerKind", optimizer));
  set("lr", number("lr", stage.getLrAttr().getValueAsDouble()));
  for (NamedAttribute param : stage.getOptimizerParams()) {
    llvm::StringRef name = param.getName().getValue();
    auto value = param.getValue().dyn_cast<mlir::FloatAttr>();
    auto betas = param.getValue().dyn_cast<mlir::ArrayAttr>();
    if (name == "betas" && betas && betas.size() == 2 && betas[0].isa<mlir::FloatAttr>() &&
        betas[1].isa<mlir::FloatAttr>()) {
      set("beta1", number("beta1", betas[0].cast<mlir::FloatAttr>().getValueAsDouble()));
      set("beta2", number("beta2", betas[1].cast<mlir::FloatAttr>().getValueAsDouble()));
    } else if (value && name == "eps") {
      set("eps", number("eps", value.getValueAsDouble()));
    } else if (value && name == "weight_decay") {
      set("weightDecay", number("weight_decay", value.getValueAsDouble()));
    } else if (value && name == "alpha") {
      set("alpha", number("alpha", value.getValueAsDouble()));
    } else if (value && name == "momentum") {
      set("momentum", number("momentum", value.getValueAsDouble()));
    } else {
      reject(stage, (optimizer + " " + name).str());
    }
  }
  set("lrSchedule", choice("lr_schedule", "LRScheduleKind", train::stringifyLRScheduleKind(stage.getLrSchedule())));
  set("lrFinal", w_.number(key + "lr_final", stage.getLrFinalAttr().getValueAsDouble(), loc,
                           schema::findParam("lr_schedule", train::stringifyLRScheduleKind(stage.getLrSchedule()).str(),
                                             "final")));
  set("warmup", integer("warmup", stage.getWarmupAttr().getInt()));
  set("batch", integer("batch", stage.getBatchAttr().getInt()));
  // The cost model's memory plan (plan-memory) is the default of micro_batch and activations; its reason goes
  // to the trainer with the precision's.
  const int64_t microBatch = stage.getPlannedMicroBatch().value_or(stage.getMicroBatch());
  set("microBatch", integer("micro_batch", microBatch));
  const train::Activations activations =
      stage.getPlannedActivations().value_or(stage.getActivations().value_or(train::Activations::keep));
  set("activations", choice("activations", "Activations", train::stringifyActivations(activations)));
  if (auto reason = stage.getMemoryReasonAttr()) {
    w_.comment(("micro-batch " + std::to_string(microBatch) +
                ", activations " + train::stringifyActivations(activations) + " (alignc's cost model): " +
                reason.getValue())
                   .str());
    const std::string hidden = cppInteger(stage.getPlannedForHidden().value_or(0));
    w_.statement(schedule + ".plan.push_back({" + cppString(key + "micro_batch") + ", " +
                     cppString(std::to_string(microBatch)) + ", " + cppString(reason.getValue()) +
                     ", " + hidden + "})",
                 loc);
    w_.statement(schedule + ".plan.push_back({" + cppString(key + "activations") + ", " +
                     cppString(train::stringifyActivations(activations)) + ", " +
                     cppString("the same memory plan as micro_batch") + ", " + hidden + "})",
                 loc);
  }
  if (auto steps = stage.getStepsAttr())
    set("steps", integer("steps", steps.getInt()));
  if (auto epochs = stage.getEpochsAttr())
    set("epochs", number("epochs", epochs.getValueAsDouble()));
  // The cost model's choice for `precision: auto` (plan-precision) is the setting's default, and its reason
  // goes to the trainer, which prints it when the stage starts.
  const train::Precision precision = stage.getPlannedPrecision().value_or(stage.getPrecision());
  if (auto reason = stage.getPrecisionReasonAttr())
    w_.comment(("precision " + train::stringifyPrecision(precision) + " (alignc's cost model): " + reason.getValue()).str());
  set("precision", choice("precision", "Precision", train::stringifyPrecision(precision)));
  if (auto reason = stage.getPrecisionReasonAttr())
    w_.statement(schedule + ".plan.push_back({" + cppString(key + "precision") + ", " +
                     cppString(train::stringifyPrecision(precision)) + ", " + cppString(reason.getValue()) + ", " +
                     cppInteger(stage.getPlannedForHidden().value_or(0)) + "})",
                 loc);
  set("maxLength", integer("max_length", stage.getMaxLengthAttr().getInt()));
  set("maxPromptLength", integer("max_prompt_length", stage.getMaxPromptLengthAttr().getInt()));
  set("truncation", choice("truncation", "Truncation", train::stringifyTruncation(stage.getTruncation())));
  set("clip", number("clip", stage.getClipAttr().getValueAsDouble()));
  set("seed", "static_cast<std::uint64_t>(" + integer("seed", stage.getSeedAttr().getInt()) + ")");
  if (auto shard = stage.getShard())
    set("shard", choice("shard", "ShardStrategy", train::stringifyShardStrategy(*shard)));
  if (auto shuffle = stage.getShuffleAttr())
    set("shuffle", w_.flag(key + "shuffle", shuffle.getValue(), loc));
  set("logEvery", integer("log_every", stage.getLogEveryAttr().getInt()));
  if (auto steps = stage.getEvalEveryStepsAttr())
    set("evalEverySteps", integer("eval_every_steps", steps.getInt()));
  if (auto seconds = stage.getEvalEverySecondsAttr())
    set("evalEverySeconds", number("eval_every_seconds", seconds.getValueAsDouble()));
  if (auto limit = stage.getTimeLimitAttr())
    set("timeLimitSeconds", number("time_limit", limit.getValueAsDouble()));
}

} // namespace align::emit
