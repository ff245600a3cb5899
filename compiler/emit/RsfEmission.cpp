//===- RsfEmission.cpp - DPA's directions and `loop rsf` as runtime calls ---===//
//
// A `direction` preference (train.attach "direction") becomes a DirectionSpec handed to t.direction(), with
// the objectives of the reward it is over, so the runtime knows which head outputs it reads. A stage's
// train.rsf_loop becomes the trainer's own loop (Trainer.h's RsfSpec): per iteration, generate under sampled
// directions, score with the scorer stage's reward, keep the best per prompt, fine-tune on it — the four runtime
// calls the loop's body ops (generate, score, select_best, step_loop) stand for.
//
//===----------------------------------------------------------------------===//

#include "RuntimeSupport.h"
#include "TrainerEmitter.h"

#include "mlir/IR/BuiltinAttributes.h"

namespace align::emit {

using mlir::Location;

namespace {

std::string declarationName(mlir::Operation *op) {
  if (auto name = op->getAttrOfType<mlir::StringAttr>("name"))
    return name.getValue().str();
  return "";
}

} // namespace

std::optional<std::vector<std::string>> TrainerEmitter::rewardObjectives(train::AttachOp direction,
                                                                          llvm::StringRef reward) {
  auto program = direction->getParentOfType<train::ProgramOp>();
  for (mlir::Operation &op : program.getBodyRegion().front()) {
    if (auto attach = llvm::dyn_cast<train::AttachOp>(op);
        attach && attach.getRole() == "reward_head" && declarationName(attach) == reward)
      return stringsOf(attach.getConfig().get("objectives"));
    // A stage that trains the reward: the reward head its optimizer steps.
    if (auto stage = llvm::dyn_cast<train::StageOp>(op); stage && stage.getSymName() == reward) {
      std::optional<std::vector<std::string>> found;
      stage.walk([&](train::OptimizerStepOp step) {
        if (auto head = step.getModel().getDefiningOp<train::AttachOp>(); head && head.getRole() == "reward_head")
          found = stringsOf(head.getConfig().get("objectives"));
      });
      if (found)
        return found;
    }
  }
  reject(direction, "a direction over a reward that is not a regression head or a stage training one");
  return std::nullopt;
}

void TrainerEmitter::emitDirection(train::AttachOp attach) {
  Location loc = attach.getLoc();
  mlir::DictionaryAttr config = attach.getConfig();
  const std::string name = declarationName(attach);
  auto reward = config.getAs<mlir::StringAttr>("reward");
  auto angle = config.getAs<mlir::ArrayAttr>("angle");
  auto render = config.getAs<mlir::StringAttr>("render");
  auto sample = config.getAs<mlir::StringAttr>("sample");
  if (!reward || !angle || angle.size() != 2 || !render || !sample || !isExecutedMember("DirectionSampling", sample.getValue()))
    return reject(attach, "direction without a reward, a two-angle range, a render template or a known sampling");
  std::optional<std::vector<std::string>> objectives = rewardObjectives(attach, reward.getValue());
  if (!objectives)
    return;
  const std::string spec = ids_.make(name, "direction");
  const std::string key = name + ".";
  w_.comment("preference " + name + ": a direction over objectives of reward " + reward.getValue().str() +
             ", rendered into the system prompt");
  w_.statement("align::rt::DirectionSpec " + spec, loc);
  w_.statement(spec + ".objectives = " + cppStringList(stringsOf(config.get("objectives"))), loc);
  w_.statement(spec + ".rewardObjectives = " + cppStringList(*objectives), loc);
  w_.statement(spec + ".angleLow = " + w_.number(key + "angle.low", *numericValue(angle[0]), loc, schema::findParam("preference", "direction", "angle")), loc);
  w_.statement(spec + ".angleHigh = " + w_.number(key + "angle.high", *numericValue(angle[1]), loc, schema::findParam("preference", "direction", "angle")), loc);
  w_.statement(spec + ".sample = " +
                   w_.choice(key + "sample", enumMember("DirectionSampling", sample.getValue()), sample.getValue(), loc),
               loc);
  if (auto grid = config.get("grid"); grid && numericValue(grid))
    w_.statement(spec + ".grid = " + w_.integer(key + "grid", static_cast<int64_t>(*numericValue(grid)), loc,
                                                    schema::findParam("preference", "direction", "grid")), loc);
  w_.statement(spec + ".render = " + w_.text(key + "render", render.getValue(), loc), loc);
  if (auto scale = config.get("scale"); scale && numericValue(scale))
    w_.statement(spec + ".scale = " + w_.integer(key + "scale", static_cast<int64_t>(*numericValue(scale)), loc,
                                                     schema::findParam("preference", "direction", "scale")), loc);
  w_.statement("t.direction(" + cppString(name) + ", " + spec + ")", loc);
  w_.blankLine();
}

void TrainerEmitter::emitRsfLoop(train::StageOp stage, train::RsfLoopOp rsf, const std::string &spec) {
  Location loc = rsf.getLoc();
  const std::string name = stage.getSymName().str();
  const std::string key = name + ".rsf.";
  train::GenerateOp generate;
  train::ScoreOp score;
  train::BatchFetchOp prompts;
  for (mlir::Operation &op : rsf.getBody()->getOperations()) {
    if (auto g = llvm::dyn_cast<train::GenerateOp>(op))
      generate = g;
    else if (auto s = llvm::dyn_cast<train::ScoreOp>(op))
      score = s;
    else if (auto f = llvm::dyn_cast<train::BatchFetchOp>(op))
      prompts = f;
    else if (!llvm::isa<train::SelectBestOp, train::StepLoopOp>(op))
      return reject(&op, (op.getName().getStringRef() + " in an rsf_loop").str());
  }
  if (!generate || !score || !prompts)
    return reject(rsf, "an rsf_loop without generate, score and its prompts");
  auto direction = generate.getModel().getDefiningOp<train::AttachOp>();
  if (!direction || direction.getRole() != "direction")
    return reject(generate, "RSF generation from a policy that is not conditioned on a direction");
  auto scorer = score.getModel().getDefiningOp<train::StageResultOp>();
  if (!scorer)
    return reject(score, "an RSF scorer that is not the result of an earlier stage");
  std::optional<std::string> data = dataDeclaration(prompts.getDataset(), prompts.getLoc());
  std::optional<std::string> split =
      data ? splitOf(prompts.getDataset(), prompts.getSplitAttr(), prompts.getLoc(), "RSF prompts") : std::nullopt;
  if (!split)
    return;
  w_.statement(spec + ".train = {" + cppString(*data) + ", " + cppString(*split) + "}", prompts.getLoc());
  // The loop's settings keep the schema's ranges, so `--set STAGE.rsf.samples=0` is refused as the recipe value was.
  auto rsfParam = [](llvm::StringRef field) { return schema::findParam("loop", "rsf", field.str()); };
  const std::string loop = ids_.make(name, "rsf");
  w_.statement("align::rt::RsfSpec " + loop, loc);
  w_.statement(loop + ".iterations = " + w_.integer(key + "iterations", static_cast<int64_t>(rsf.getIterations()), loc, rsfParam("iterations")),
               loc);
  w_.statement(loop + ".samples = " + w_.integer(key + "samples", static_cast<int64_t>(generate.getSamples()), loc, rsfParam("samples")),
               generate.getLoc());
  w_.statement(loop + ".prompts = {" + cppString(*data) + ", " + cppString(*split) + "}", prompts.getLoc());
  if (auto perIteration = rsf.getPromptsPerIteration())
    w_.statement(loop + ".promptsPerIteration = " +
                     w_.integer(key + "prompts_per_iteration", static_cast<int64_t>(*perIteration), loc,
                                rsfParam("prompts_per_iteration")),
                 loc);
  w_.statement(loop + ".directions = " + cppString(declarationName(direction)), loc);
  w_.statement(loop + ".scorer = " + cppString(scorer.getStage()), score.getLoc());
  w_.statement(loop + ".temperature = " +
                   w_.number(key + "temperature", generate.getTemperature().convertToDouble(), generate.getLoc(),
                             rsfParam("temperature")),
               generate.getLoc());
  w_.statement(loop + ".maxNewTokens = " +
                   w_.integer(key + "max_new_tokens", static_cast<int64_t>(generate.getMaxNewTokens()), generate.getLoc(),
                              rsfParam("max_new_tokens")),
               generate.getLoc());
  const std::string stageName = cppString(name);
  w_.comment("loop rsf: iteration i samples under directions, scores, keeps the best per prompt and fine-tunes "
             "π_{i-1} on it into π_i");
  w_.open("for (std::int64_t iteration = t.rsfBegin(" + spec + ", " + loop + "); iteration <= " + loop +
              ".iterations; ++iteration)",
          loc);
  w_.statement("t.rsfGenerate(" + stageName + ", iteration)", generate.getLoc());
  w_.statement("t.rsfScore(" + stageName + ", iteration)", score.getLoc());
  w_.statement("t.rsfSelect(" + stageName + ", iteration)", loc);
  w_.statement("t.rsfFineTune(" + stageName + ", iteration)", loc);
  w_.close();
  w_.statement("t.rsfEnd(" + stageName + ")", loc);
}

} // namespace align::emit
