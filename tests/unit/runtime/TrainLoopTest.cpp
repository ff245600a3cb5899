//===- TrainLoopTest.cpp - The stage training loop ------------------------===//
//
// Learning-rate schedules against transformers' formulas; accumulation and the compiler's step decisions
// (concat-pairs, fused log-probs) that leave the step unchanged; the
// precomputed reference equal to the online one; exact resume (10 steps = 5 + stop + resume + 5, bit for
// bit); the NaN guard; and the files a run leaves.

#include "support/Files.h"
#include "model/Checkpoint.h"
#include "train/StageRunner.h"
#include "train/TrainState.h"

#include "TestFiles.h"
#include "TestStages.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <fstream>
#include <sstream>

using namespace align::rt;
using align::rt::testing::Fixture;
using align::rt::testing::pairExamples;

namespace {

/// A new output directory per call (removed with the process's scratch directory).
std::string tempDir() {
  static int count = 0;
  return align::rt::testing::scratchDir("train", "run" + std::to_string(count++));
}

std::string readFile(const std::string &path) {
  std::ifstream in(path);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

std::vector<torch::Tensor> parameters(torch::nn::Module &m) {
  std::vector<torch::Tensor> out;
  for (auto &p : m.parameters())
    out.push_back(p.detach().clone());
  return out;
}

/// Trains `in` in a scratch directory and returns its parameters afterwards.
std::vector<torch::Tensor> trainedParameters(StageInputs &in) {
  RunOptions options;
  options.outDir = tempDir();
  MetricsLog metrics(options.outDir);
  runStage(in, options, metrics);
  return parameters(*in.policy);
}

void expectBitEqual(const std::vector<torch::Tensor> &a, const std::vector<torch::Tensor> &b) {
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i)
    EXPECT_TRUE(torch::equal(a[i], b[i])) << "parameter " << i << " differs by " << (a[i] - b[i]).abs().max().item<double>();
}

} // namespace

TEST(LearningRate, MatchesTransformersFormulas) {
  auto schedule = [](LRScheduleKind kind, int64_t warmup, double final, double peak) {
    ScheduleSpec s;
    s.lrSchedule = kind, s.warmup = warmup, s.lrFinal = final, s.lr = peak;
    return s;
  };
  ScheduleSpec warm = schedule(LRScheduleKind::constant, 4, 0.0, 1.0);
  EXPECT_DOUBLE_EQ(learningRateAt(warm, 0, 10), 0.0);
  EXPECT_DOUBLE_EQ(learningRateAt(warm, 2, 10), 0.5);
  EXPECT_DOUBLE_EQ(learningRateAt(warm, 7, 10), 1.0);
  // get_linear_schedule_with_warmup: (total − step) / (total − warmup) after warmup.
  ScheduleSpec linear = schedule(LRScheduleKind::linear, 2, 0.0, 2.0);
  EXPECT_DOUBLE_EQ(learningRateAt(linear, 2, 10), 2.0);
  EXPECT_DOUBLE_EQ(learningRateAt(linear, 6, 10), 2.0 * 4.0 / 8.0);
  // get_cosine_with_min_lr_schedule_with_warmup(min_lr_rate = 0.1).
  ScheduleSpec cosine = schedule(LRScheduleKind::cosine, 0, 0.1, 1.0);
  EXPECT_NEAR(learningRateAt(cosine, 5, 10), 0.1 + 0.9 * 0.5 * (1 + std::cos(M_PI * 0.5)), 1e-15);
  EXPECT_NEAR(learningRateAt(cosine, 10, 10), 0.1, 1e-15);
  // A schedule the registry does not name cannot be written (the set is an enum); its word is refused.
  LRScheduleKind kind = LRScheduleKind::cosine;
  EXPECT_FALSE(parse("step", kind));
}

TEST(Optimizer, KindsAndErrors) {
  auto p = torch::ones({3}, torch::requires_grad());
  ScheduleSpec s;
  s.optimizer = OptimizerKind::rmsprop;
  EXPECT_NO_THROW(makeOptimizer(s, {p}));
  s.optimizer = OptimizerKind::sgd;
  EXPECT_NO_THROW(makeOptimizer(s, {p}));
  OptimizerKind kind = OptimizerKind::adamw;
  EXPECT_FALSE(parse("adam9", kind)); // not a member of the registry's set
  EXPECT_TRUE(parse("rmsprop", kind) && kind == OptimizerKind::rmsprop);
  EXPECT_THROW(makeOptimizer(ScheduleSpec{}, {torch::ones({3})}), Error); // nothing trainable
}

TEST(Optimizer, GroupsTrainAtTheirScaleOfTheScheduledLr) {
  // A cluster user model's W at `weight_lr` ÷ the stage's lr: the scale follows the schedule.
  auto model = torch::ones({3}, torch::requires_grad()), weights = torch::ones({2}, torch::requires_grad());
  auto frozen = torch::ones({2});
  ScheduleSpec s;
  s.lr = 1e-3;
  std::vector<double> scales;
  auto optimizer = makeOptimizer(s, {ParameterGroup{{model}, 1.0}, ParameterGroup{{frozen}, 7.0},
                                     ParameterGroup{{weights}, 50.0}}, &scales);
  ASSERT_EQ(scales, (std::vector<double>{1.0, 50.0})); // the group with nothing trainable is dropped
  EXPECT_DOUBLE_EQ(optimizer->param_groups()[1].options().get_lr(), 0.05);
  setLearningRate(*optimizer, 5e-4, scales);
  EXPECT_DOUBLE_EQ(optimizer->param_groups()[0].options().get_lr(), 5e-4);
  EXPECT_DOUBLE_EQ(optimizer->param_groups()[1].options().get_lr(), 0.025);
  // One Adam step moves each parameter by about its group's lr.
  (model.sum() + weights.sum()).backward();
  optimizer->step();
  EXPECT_NEAR(1.0 - model[0].item<double>(), 5e-4, 1e-6);
  EXPECT_NEAR(1.0 - weights[0].item<double>(), 0.025, 1e-5);
  EXPECT_THROW(makeOptimizer(s, {ParameterGroup{{model}, 0.0}}), Error);
}

TEST(ObjectiveTerms, UnitsCountPairsTokensAndSequences) {
  Fixture f;
  auto prepared = f.prepare(pairExamples(3), true, true);
  std::vector<const PreparedExample *> batch;
  for (auto &e : prepared)
    batch.push_back(&e);
  ObjectiveTerm dpo = termOf(DpoParams{}), nll = termOf(NllParams{});
  std::vector<double> units = countUnits({dpo, nll}, batch);
  EXPECT_EQ(units[0], 3);
  // nll reads the chosen response: its bytes plus EOS.
  double tokens = 0;
  for (auto &e : pairExamples(3))
    tokens += static_cast<double>(e.responses[0].size() + 1);
  EXPECT_EQ(units[1], tokens);
}

TEST(ObjectiveTerms, WeightNormSumIsAWeightedMeanAndMeanIsTheBatchMean) {
  // Against the formulas, from each example's own loss: `sum` gives Σ w·S / Σ w·n, `mean` Σ w·S / Σ n, with S
  // an example's summed loss and n its units (1 pair for dpo, its response tokens for nll).
  Fixture f;
  for (LossKind kind : {LossKind::dpo, LossKind::nll}) {
    StageInputs in = f.dpoStage("w", 5);
    in.reference = presetCausalLM("tiny", f.tokenizer->vocabSize(), 4); // unequal per-pair losses
    in.terms = {kind == LossKind::dpo ? termOf(DpoParams{0.5, 0.0}) : termOf(NllParams{})};
    in.train = f.prepare(pairExamples(5), true, true);
    std::vector<double> summed, units, weights;
    for (const PreparedExample &e : in.train) {
      std::vector<const PreparedExample *> one{&e};
      const double n = countUnits(in.terms, one)[0];
      summed.push_back(evaluateStageLoss(in, {e}, torch::kCPU)["loss"] * n);
      units.push_back(n);
      weights.push_back(e.weight);
    }
    double wS = 0, wn = 0, n = 0;
    for (size_t i = 0; i < summed.size(); ++i)
      wS += weights[i] * summed[i], wn += weights[i] * units[i], n += units[i];
    ASSERT_GT(weights[1], weights[0]); // the fixture's weights differ, so the two norms differ

    in.terms[0].spec.exampleWeights = true;
    in.terms[0].spec.weightNorm = WeightNorm::sum;
    EXPECT_NEAR(evaluateStageLoss(in, in.train, torch::kCPU)["loss"], wS / wn, 1e-6) << spelling(kind);
    in.terms[0].spec.weightNorm = WeightNorm::mean;
    EXPECT_NEAR(evaluateStageLoss(in, in.train, torch::kCPU)["loss"], wS / n, 1e-6) << spelling(kind);

    // `sum` does not see the weights' scale: ×4 everywhere is the same loss; with all weights 1 it is the
    // unweighted loss.
    in.terms[0].spec.weightNorm = WeightNorm::sum;
    for (PreparedExample &e : in.train)
      e.weight *= 4;
    EXPECT_NEAR(evaluateStageLoss(in, in.train, torch::kCPU)["loss"], wS / wn, 1e-6) << spelling(kind);
    for (PreparedExample &e : in.train)
      e.weight = 1;
    const double weighted = evaluateStageLoss(in, in.train, torch::kCPU)["loss"];
    in.terms[0].spec.exampleWeights = false;
    EXPECT_DOUBLE_EQ(weighted, evaluateStageLoss(in, in.train, torch::kCPU)["loss"]) << spelling(kind);
  }
}

TEST(StageRunner, AccumulationLeavesTheStepUnchanged) {
  Fixture f;
  std::vector<std::vector<torch::Tensor>> results;
  for (int64_t micro : {0, 2, 1}) {
    StageInputs in = f.dpoStage("acc");
    in.terms.push_back(termOf(NllParams{}, 0.3));
    in.terms[0].spec.exampleWeights = true;
    in.train = f.prepare(pairExamples(16), true, true);
    in.schedule.microBatch = micro;
    in.schedule.steps = 2;
    results.push_back(trainedParameters(in));
  }
  for (size_t r = 1; r < results.size(); ++r)
    for (size_t i = 0; i < results[0].size(); ++i)
      EXPECT_TRUE(torch::allclose(results[0][i], results[r][i], 1e-5, 1e-6)) << "micro-batch variant " << r;
}

TEST(StageRunner, PrecomputedReferenceEqualsOnline) {
  Fixture f;
  std::vector<std::vector<torch::Tensor>> results;
  for (ReferenceStrategy strategy : {ReferenceStrategy::precompute, ReferenceStrategy::online}) {
    StageInputs in = f.dpoStage("ref");
    in.schedule.reference = strategy;
    in.schedule.steps = 3;
    results.push_back(trainedParameters(in));
  }
  for (size_t i = 0; i < results[0].size(); ++i)
    EXPECT_TRUE(torch::allclose(results[0][i], results[1][i], 1e-6, 1e-7));
}

TEST(StageRunner, StepDecisionsLeaveTheStepUnchanged) {
  // The compiler's decisions (concat-pairs, share-prefix, fuse-logprobs and its chunk, the memory plan's
  // micro-batch and activation recomputation) choose how the step is computed, never what it computes: every
  // combination trains to the same weights. Each pair's prompt is shared by its two responses (and by the
  // reference precompute's pass).
  Fixture f;
  struct Decisions {
    bool concat, shared, fused;
    int64_t chunk;
    Activations activations = Activations::keep;
    int64_t microBatch = 0;
  };
  std::vector<std::vector<torch::Tensor>> results;
  for (Decisions d : {Decisions{true, true, true, 1024}, Decisions{true, false, true, 1024},
                      Decisions{false, false, true, 7}, Decisions{true, true, false, 1},
                      Decisions{false, true, false, 1}, Decisions{true, true, true, 1024, Activations::recompute},
                      Decisions{false, false, false, 1, Activations::recompute, 2}}) {
    StageInputs in = f.dpoStage("decide");
    in.terms.push_back(termOf(NllParams{}, 0.3));
    in.train = f.prepare(pairExamples(16), true, true);
    in.schedule.concatPairs = d.concat;
    in.schedule.sharedPrefix = d.shared;
    in.schedule.fusedLogprobs = d.fused;
    in.schedule.logprobChunk = d.chunk;
    in.schedule.activations = d.activations;
    in.schedule.microBatch = d.microBatch;
    in.schedule.steps = 3;
    results.push_back(trainedParameters(in));
  }
  for (size_t r = 1; r < results.size(); ++r)
    for (size_t i = 0; i < results[0].size(); ++i)
      EXPECT_TRUE(torch::allclose(results[0][i], results[r][i], 1e-5, 1e-6)) << "decision variant " << r;
}

TEST(StageRunner, ResumeIsExactOnCpu) {
  Fixture f;
  // Straight: 10 steps.
  StageInputs straight = f.dpoStage("dpo", 24); // 6 batches per epoch: the run crosses an epoch boundary
  straight.schedule.steps = 10;
  RunOptions options;
  options.outDir = tempDir();
  {
    MetricsLog metrics(options.outDir);
    runStage(straight, options, metrics);
  }
  // Interrupted: stop after 5 (state saved), then a new process state resumes for the other 5.
  StageInputs first = f.dpoStage("dpo", 24);
  first.schedule.steps = 10;
  RunOptions interrupted;
  interrupted.outDir = tempDir();
  interrupted.stopAtStep = 5;
  {
    MetricsLog metrics(interrupted.outDir);
    StageResult r = runStage(first, interrupted, metrics);
    EXPECT_TRUE(r.stoppedByTimeLimit);
    EXPECT_EQ(r.steps, 5);
  }
  StageInputs second = f.dpoStage("dpo", 24); // fresh model objects, as a new process would have
  second.schedule.steps = 10;
  RunOptions resumed = interrupted;
  resumed.stopAtStep = 0;
  resumed.resume = true;
  {
    MetricsLog metrics(resumed.outDir);
    StageResult r = runStage(second, resumed, metrics);
    EXPECT_EQ(r.steps, 10);
    // The metrics hold each step once.
    std::vector<int64_t> steps;
    for (const auto &rec : metrics.records())
      if (rec.split == "train")
        steps.push_back(rec.step);
    EXPECT_EQ(steps, (std::vector<int64_t>{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}));
  }
  expectBitEqual(parameters(*straight.policy), parameters(*second.policy));
  removeTree(options.outDir);
  removeTree(interrupted.outDir);
}

TEST(StageRunner, ResumeRefusesChangedSettings) {
  Fixture f;
  StageInputs in = f.dpoStage("dpo");
  in.schedule.steps = 4;
  RunOptions options;
  options.outDir = tempDir();
  options.stopAtStep = 2;
  {
    MetricsLog metrics(options.outDir);
    runStage(in, options, metrics);
  }
  StageInputs changed = f.dpoStage("dpo");
  changed.schedule.steps = 4;
  changed.fingerprint = "test batch=8";
  options.stopAtStep = 0;
  options.resume = true;
  MetricsLog metrics(options.outDir);
  try {
    runStage(changed, options, metrics);
    FAIL() << "expected an error";
  } catch (const Error &e) {
    EXPECT_NE(std::string(e.what()).find("different settings"), std::string::npos) << e.what();
  }
  removeTree(options.outDir);
}

TEST(StageRunner, NanGuardStopsAndKeepsTheLastGoodState) {
  Fixture f;
  StageInputs in = f.dpoStage("nan");
  in.schedule.steps = 5;
  in.schedule.reference = ReferenceStrategy::online;
  {
    torch::NoGradGuard noGrad;
    in.policy->model->norm->weight.fill_(NAN);
  }
  RunOptions options;
  options.outDir = tempDir();
  MetricsLog metrics(options.outDir);
  try {
    runStage(in, options, metrics);
    FAIL() << "expected an error";
  } catch (const Error &e) {
    const std::string message = e.what();
    EXPECT_NE(message.find("step 1: the loss is NaN"), std::string::npos) << message;
    EXPECT_NE(message.find("--resume"), std::string::npos) << message;
  }
  EXPECT_TRUE(pathExists(joinPath(options.outDir, "state/nan/trainer_state.json")));
  EXPECT_FALSE(pathExists(joinPath(options.outDir, "checkpoints/nan")));
  removeTree(options.outDir);
}

TEST(StageRunner, SftLearnsAndLeavesItsFiles) {
  Fixture f;
  std::vector<data::Example> corpus;
  for (int i = 0; i < 8; ++i) {
    data::Example e;
    e.prompt = "Q: ";
    e.responses = {"the cat sat on the mat."};
    corpus.push_back(e);
  }
  StageInputs in;
  in.name = "sft";
  in.terms = {termOf(NllParams{})};
  in.schedule.batch = 4;
  in.schedule.steps = 30;
  in.schedule.lr = 1e-2;
  in.schedule.lrSchedule = LRScheduleKind::constant;
  in.schedule.logEvery = 5;
  in.train = f.prepare(corpus, false, true);
  in.evalSets["eval"] = f.prepare(corpus, false, true);
  in.padId = 258;
  in.policy = presetCausalLM("tiny", f.tokenizer->vocabSize(), 1);
  in.fingerprint = "sft";
  RunOptions options;
  options.outDir = tempDir();
  const double before = [&] {
    auto values = evaluateStageLoss(in, in.train, torch::kCPU);
    return values["loss"];
  }();
  MetricsLog metrics(options.outDir);
  StageResult result = runStage(in, options, metrics);
  EXPECT_NEAR(before, std::log(259.0), 0.5); // a random model is near uniform over the vocabulary
  EXPECT_LT(result.evaluation["eval"]["loss"], 0.25 * before);
  // The files: a checkpoint transformers can load, metrics as JSON lines and CSV, the curves.
  EXPECT_TRUE(pathExists(joinPath(result.checkpointDir, "config.json")));
  EXPECT_TRUE(pathExists(joinPath(result.checkpointDir, "model.safetensors")));
  const std::string jsonl = readFile(joinPath(options.outDir, "metrics.jsonl"));
  EXPECT_NE(jsonl.find("\"stage\":\"sft\""), std::string::npos);
  EXPECT_NE(jsonl.find("\"split\":\"eval\""), std::string::npos);
  const std::string csv = readFile(joinPath(options.outDir, "metrics.csv"));
  EXPECT_EQ(csv.rfind("stage,split,step,", 0), 0u) << csv.substr(0, 80);
  const std::string svg = readFile(joinPath(options.outDir, "curves.svg"));
  EXPECT_NE(svg.find("<polyline"), std::string::npos);
  CausalLM reloaded = loadCausalLM(result.checkpointDir);
  expectBitEqual(parameters(*in.policy), parameters(*reloaded));
  removeTree(options.outDir);
}
