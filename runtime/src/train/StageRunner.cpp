//===- StageRunner.cpp - The training loop of one stage -------------------===//
//
// The loop around the step (train/TrainingStep.cpp runs one micro-batch through the step program): batch
// order, gradient accumulation, clipping, the optimizer and its lr schedule, the NaN/inf guard, evaluation
// and checkpoint cadences, the time limit, resumable state and the final checkpoint.
//
//===----------------------------------------------------------------------===//

#include "train/StageRunner.h"

#include "align/rt/Error.h"
#include "dist/GradientSync.h"
#include "dist/OptimizerShard.h"
#include "support/Files.h"
#include "support/Manifest.h"
#include "model/Checkpoint.h"
#include "train/Precision.h"
#include "train/Progress.h"
#include "train/TrainState.h"
#include "train/TrainingStep.h"

#include <chrono>
#include <cmath>
#include <sstream>

namespace align::rt {

namespace {

using Clock = std::chrono::steady_clock;

/// The module whose parameters a stage trains and checkpoints: the model under "model" (adapters and user
/// tables join it here as they are added), so parameter order and names are fixed.
struct TrainedUnitImpl : torch::nn::Module {
  explicit TrainedUnitImpl(StageInputs &inputs) {
    if (inputs.policy)
      register_module("model", inputs.policy.ptr());
    else
      register_module("model", inputs.reward.ptr());
    if (inputs.lora)
      register_module("lora", inputs.lora.ptr());
    if (inputs.users)
      register_module("users", inputs.users.ptr());
  }
};
TORCH_MODULE(TrainedUnit);

std::vector<std::vector<const PreparedExample *>> chunks(const std::vector<const PreparedExample *> &batch,
                                                          int64_t size) {
  std::vector<std::vector<const PreparedExample *>> out;
  for (size_t i = 0; i < batch.size(); i += static_cast<size_t>(size))
    out.emplace_back(batch.begin() + i, batch.begin() + std::min(batch.size(), i + static_cast<size_t>(size)));
  return out;
}

void saveFinalCheckpoint(StageInputs &inputs, const std::string &dir) {
  const std::string staged = dir + ".tmp";
  removeTree(staged);
  if (inputs.lora) {
    saveLoraAdapter(inputs.lora, joinPath(staged, "adapter"), inputs.startCheckpoint);
    mergeLora(inputs.policy, inputs.lora);
    inputs.lora = nullptr;
  }
  if (inputs.policy)
    saveCausalLM(inputs.policy, staged);
  else
    saveRewardModel(inputs.reward, staged);
  if (inputs.users)
    saveUserModel(inputs.users, staged);
  if (!inputs.tokenizerFile.empty()) {
    copyFile(inputs.tokenizerFile, joinPath(staged, "tokenizer.json"));
    syncPath(joinPath(staged, "tokenizer.json"));
  }
  writeManifest(staged);
  syncPath(staged);
  replaceDirectory(staged, dir);
}

/// The examples of a global batch that this rank trains on: its contiguous slice (dist::sliceOf).
std::vector<const PreparedExample *> rankSlice(const std::vector<const PreparedExample *> &batch,
                                               const dist::World *world) {
  if (!world || !world->distributed())
    return batch;
  const auto [begin, end] = dist::sliceOf(static_cast<int64_t>(batch.size()), world->rank(), world->size());
  return {batch.begin() + begin, batch.begin() + end};
}

/// The step's loss, tokens and metric sums added over ranks: every rank logs and guards the same numbers, those one
/// process would have computed.
void addOverRanks(const dist::World *world, double &loss, int64_t &tokens, std::map<std::string, double> &sums) {
  if (!world || !world->distributed())
    return;
  std::vector<double> total{loss, static_cast<double>(tokens)};
  world->allReduceSum(total);
  loss = total[0];
  tokens = static_cast<int64_t>(total[1]);
  sums = world->sumMaps(sums);
}

/// Every rank's CPU generator state, as "cpu.rank<R>" for R > 0: rank 0 records them in the training state so
/// a resume restores each rank's dropout stream (every rank calls this at the same points: a collective).
std::map<std::string, torch::Tensor> otherRanksGenerators(const dist::World *world) {
  std::map<std::string, torch::Tensor> states;
  if (!world)
    return states;
  torch::Tensor mine = cpuGeneratorState().to(torch::kFloat64); // bytes, exact as doubles
  std::vector<double> local(mine.data_ptr<double>(), mine.data_ptr<double>() + mine.numel());
  const std::vector<double> all = world->allGather(local);
  const int64_t size = mine.numel();
  for (int r = 1; r < world->size(); ++r) {
    std::vector<double> bytes(all.begin() + r * size, all.begin() + (r + 1) * size);
    states["cpu.rank" + std::to_string(r)] = torch::tensor(bytes, torch::kFloat64).to(torch::kUInt8);
  }
  return states;
}

std::string formatMetric(double v) {
  std::ostringstream s;
  s.precision(4);
  s << v;
  return s.str();
}

} // namespace

int64_t plannedSteps(const StageSchedule &schedule, int64_t examples, int64_t stepsOverride) {
  if (stepsOverride > 0)
    return stepsOverride;
  if (schedule.steps > 0)
    return schedule.steps;
  const int64_t perEpoch = (examples + schedule.batch - 1) / schedule.batch;
  return std::max<int64_t>(1, static_cast<int64_t>(std::ceil(schedule.epochs * static_cast<double>(perEpoch))));
}

std::map<std::string, double> evaluateStageLoss(StageInputs &inputs, const std::vector<PreparedExample> &examples,
                                                torch::Device device, const dist::World *world) {
  torch::NoGradGuard noGrad;
  std::vector<const PreparedExample *> all;
  for (const PreparedExample &e : examples)
    all.push_back(&e);
  // Units over every example; with many processes each evaluates its share and the sums are added.
  const std::vector<double> units = countUnits(inputs.terms, all);
  all = rankSlice(all, world);
  const int64_t micro = inputs.schedule.microBatch > 0 ? inputs.schedule.microBatch : inputs.schedule.batch;
  std::map<std::string, double> totals;
  double loss = 0;
  torch::nn::Module &model = inputs.policy ? static_cast<torch::nn::Module &>(*inputs.policy)
                                           : static_cast<torch::nn::Module &>(*inputs.reward);
  const bool wasTraining = model.is_training();
  model.eval();
  for (const auto &part : chunks(all, micro)) {
    TermContribution c = microBatchLoss(inputs, part, units, device, nullptr);
    loss += c.loss.item<double>();
    for (const auto &[key, value] : c.sums)
      totals[key] += value;
  }
  model.train(wasTraining);
  int64_t noTokens = 0;
  addOverRanks(world, loss, noTokens, totals);
  totals["loss"] = loss;
  foldGroupCounts(totals);
  return totals;
}

StageResult runStage(StageInputs &inputs, const RunOptions &options, MetricsLog &metrics) {
  const StageSchedule &schedule = inputs.schedule;
  if (!inputs.policy == !inputs.reward)
    throw Error("stage '" + inputs.name + "': exactly one of a policy and a reward model must be trained");
  if (inputs.train.empty())
    throw Error("stage '" + inputs.name + "': the training data has no usable examples");
  if (schedule.batch < 1 || (schedule.microBatch > 0 && schedule.batch % schedule.microBatch != 0))
    throw Error("stage '" + inputs.name + "': batch must be a positive multiple of micro_batch");
  const torch::Device device = options.device;
  const std::string stateDir = joinPath(joinPath(options.outDir, "state"), inputs.name);
  StageResult result;
  result.checkpointDir = joinPath(joinPath(options.outDir, "checkpoints"), inputs.name);

  torch::manual_seed(schedule.seed);
  TrainedUnit unit(inputs);
  unit->to(device);
  unit->train();
  // Activation checkpointing for this stage's steps (evaluation and the reference run without gradients).
  DecoderImpl &decoder = inputs.policy ? *inputs.policy->model : *inputs.reward->model;
  decoder.recomputeLayers = schedule.activations == Activations::recompute;
  if (inputs.reference) {
    inputs.reference->to(device);
    inputs.reference->eval();
    for (auto &p : inputs.reference->parameters())
      p.set_requires_grad(false);
  }
  // A cluster user model's weights W train at their own peak lr when the recipe gives one (`weight_lr`), on
  // the stage's schedule: W are logits that start N(0, 1), and an Adam step moves each by about the lr, so at
  // the model's lr they barely leave their random start (docs/trainer.md, "Users").
  std::vector<ParameterGroup> groups(1);
  torch::Tensor clusterWeights;
  if (inputs.users && inputs.users->user_weight.defined() && inputs.users->settings.weightLr > 0) {
    clusterWeights = inputs.users->user_weight;
    groups.push_back(ParameterGroup{{clusterWeights}, inputs.users->settings.weightLr / schedule.lr});
  }
  for (const auto &p : unit->parameters())
    if (!clusterWeights.defined() || !p.is_same(clusterWeights))
      groups[0].parameters.push_back(p);
  // W at the start, so the log can say how far the cluster weights have moved (users/weight_shift).
  const torch::Tensor startWeights =
      inputs.users && inputs.users->user_weight.defined() ? inputs.users->user_weight.detach().clone() : torch::Tensor();
  std::vector<double> lrScales;
  auto optimizer = makeOptimizer(schedule, groups, &lrScales);
  std::vector<torch::Tensor> trainable;
  for (const auto &p : unit->parameters())
    if (p.requires_grad())
      trainable.push_back(p);
  // Many processes: rank 0's parameters everywhere, then DDP's reducer over the trained ones.
  const dist::World *world = options.world && options.world->distributed() ? options.world : nullptr;
  std::unique_ptr<dist::GradientSync> sync = world ? std::make_unique<dist::GradientSync>(*world, trainable) : nullptr;
  // shard: optimizer (ZeRO-1): each rank steps, and keeps optimizer state for, its share of the parameters.
  std::unique_ptr<dist::OptimizerShard> shard = world && schedule.shard == ShardStrategy::optimizer
                                                    ? std::make_unique<dist::OptimizerShard>(*world, trainable)
                                                    : nullptr;
  // Each rank its own dropout stream (LoRA's dropout is a step's only random op); rank 0 keeps the seed.
  if (world)
    torch::manual_seed(schedule.seed + 1000003ULL * static_cast<uint64_t>(world->rank()));

  const int64_t total = plannedSteps(schedule, static_cast<int64_t>(inputs.train.size()), options.stepsOverride);
  TrainPosition position;
  position.stage = inputs.name;
  position.totalSteps = total;
  position.fingerprint = inputs.fingerprint + " steps=" + std::to_string(total);
  if (options.resume && loadTrainState(stateDir, *unit, *optimizer, position, world ? world->rank() : 0)) {
    if (position.stage != inputs.name)
      throw Error(stateDir + ": holds the state of stage '" + position.stage + "', not '" + inputs.name + "'");
    if (shard) // the state holds every share (at any world size): keep this rank's
      shard->dropOthersState(*optimizer);
  }
  metrics.dropAfter(inputs.name, position.step);

  std::vector<int64_t> lengths;
  for (const PreparedExample &e : inputs.train) {
    int64_t n = 0;
    for (const auto &s : e.sequences)
      n = std::max<int64_t>(n, static_cast<int64_t>(s.ids.size()));
    lengths.push_back(n);
  }
  const bool online = schedule.reference == ReferenceStrategy::online;
  if (anyReferenceTerm(inputs.terms) && !online) {
    if (!inputs.reference)
      throw Error("stage '" + inputs.name + "': the objective needs a reference model");
    // Only the examples the planned steps will visit: a short run (--steps 2) over a large data set must
    // not pay for scoring all of it.
    std::vector<char> visited(inputs.train.size(), 0);
    TrainPosition walk = position;
    for (int64_t step = walk.step; step < total;) {
      const auto order = data::batchOrder(static_cast<int64_t>(inputs.train.size()), schedule.batch, schedule.seed,
                                          walk.epoch, schedule.shuffle, schedule.lengthBuckets ? &lengths : nullptr);
      for (; walk.batchInEpoch < static_cast<int64_t>(order.size()) && step < total; ++walk.batchInEpoch, ++step)
        for (int64_t i : order[walk.batchInEpoch])
          visited[i] = 1;
      ++walk.epoch;
      walk.batchInEpoch = 0;
    }
    precomputeReference(inputs, inputs.train, device, &visited, world);
    for (auto &[name, examples] : inputs.evalSets)
      precomputeReference(inputs, examples, device, nullptr, world);
    // Every example this stage reads now carries its reference log-probs, so the frozen weights are let go
    // (freed unless a caller still holds them, as EM's iterations do) before the optimizer's state grows.
    inputs.reference = CausalLM{nullptr};
  }

  ProgressLine progress(inputs.name, total, position.step, schedule.logEvery, options.interactive);
  for (const std::string &note : inputs.notes)
    progress.note(note);
  progress.note(choosePrecision(schedule.precision, device).reason);
  if (position.step > 0)
    progress.note("resuming at step " + std::to_string(position.step) + " of " + std::to_string(total));
  if (shard) {
    char line[160];
    std::snprintf(line, sizeof line, "optimizer state sharded over %d processes: rank 0 steps %.1f%% of %lld trained values",
                  world->size(), 100.0 * static_cast<double>(shard->ownedElements()) /
                                     static_cast<double>(std::max<int64_t>(1, shard->totalElements())),
                  static_cast<long long>(shard->totalElements()));
    progress.note(line);
  }
  const int64_t micro = schedule.microBatch > 0 ? schedule.microBatch : schedule.batch;

  auto runEvaluation = [&](int64_t step) {
    for (auto &[name, examples] : inputs.evalSets) {
      if (examples.empty())
        continue;
      std::map<std::string, double> values = evaluateStageLoss(inputs, examples, device, world);
      metrics.record({inputs.name, name, step, values});
      result.evaluation[name] = values;
      std::string line = "eval " + name + " at step " + std::to_string(step) + ":";
      for (const char *key : {"loss", "accuracy", "margin"})
        if (values.count(key))
          line += std::string(" ") + key + " " + formatMetric(values[key]);
      progress.note(line);
    }
  };
  auto saveState = [&]() {
    // Sharded: ranks 1.. send their shares' state to rank 0, which writes them beside its own.
    const std::vector<std::string> rankOptimizers = shard ? shard->gatherStates(*optimizer) : std::vector<std::string>{};
    saveTrainState(stateDir, *unit, *optimizer, position, otherRanksGenerators(world), rankOptimizers);
  };

  const Clock::time_point start = Clock::now();
  const double elapsedBefore = position.elapsedSeconds;
  auto elapsed = [&]() { return elapsedBefore + std::chrono::duration<double>(Clock::now() - start).count(); };
  double lastEval = elapsed(), lastCheckpoint = elapsed();
  Clock::time_point windowStart = Clock::now();
  int64_t windowTokens = 0;

  while (position.step < total) {
    const auto order = data::batchOrder(static_cast<int64_t>(inputs.train.size()), schedule.batch, schedule.seed,
                                        position.epoch, schedule.shuffle, schedule.lengthBuckets ? &lengths : nullptr);
    for (; position.batchInEpoch < static_cast<int64_t>(order.size()) && position.step < total;
         ++position.batchInEpoch) {
      std::vector<const PreparedExample *> batch;
      for (int64_t i : order[position.batchInEpoch])
        batch.push_back(&inputs.train[i]);
      // The units (each term's normaliser) are the whole global batch's, on every rank: the ranks' losses
      // then add up to the one-process loss, as micro-batches do.
      const std::vector<double> units = countUnits(inputs.terms, batch);
      optimizer->zero_grad();
      double loss = 0;
      int64_t stepTokens = 0;
      std::map<std::string, double> sums;
      const auto parts = chunks(rankSlice(batch, world), micro);
      for (size_t i = 0; i < parts.size(); ++i) {
        const bool last = i + 1 == parts.size();
        if (sync && last)
          sync->beforeLastForward();
        TermContribution c = microBatchLoss(inputs, parts[i], units, device, &stepTokens);
        loss += c.loss.item<double>();
        for (const auto &[key, value] : c.sums)
          sums[key] += value;
        if (sync) // every rank's last backward must reach the reducer, gradient or not
          sync->beforeBackward(c.loss.requires_grad() ? c.loss : sync->zeroLoss(), last).backward();
        else if (c.loss.requires_grad())
          c.loss.backward();
      }
      if (sync && parts.empty()) { // more ranks than examples in this batch
        sync->beforeLastForward();
        sync->beforeBackward(sync->zeroLoss(), true).backward();
      }
      addOverRanks(world, loss, stepTokens, sums);
      windowTokens += stepTokens; // tokens/s counts every rank's tokens
      // The norm before clipping (what is logged); infinite max_norm when clipping is off.
      const double gradNorm = std::isfinite(loss)
                                  ? torch::nn::utils::clip_grad_norm_(
                                        trainable, schedule.clip > 0 ? schedule.clip : INFINITY)
                                  : NAN;
      if (!std::isfinite(loss) || !std::isfinite(gradNorm)) {
        // The parameters are still those of the last good step: keep them, then stop.
        position.elapsedSeconds = elapsed();
        saveState();
        progress.finish();
        const bool lossBad = !std::isfinite(loss);
        const double bad = lossBad ? loss : gradNorm;
        throw Error("stage '" + inputs.name + "', step " + std::to_string(position.step + 1) + ": the " +
                    (lossBad ? "loss" : "gradient norm") + " is " + (std::isnan(bad) ? "NaN" : "infinite") +
                    "; training stopped. The last good state (step " + std::to_string(position.step) + ") is in " +
                    stateDir + " (continue with --resume); lower the learning rate or check the data");
      }
      const double lr = learningRateAt(schedule, position.step, total);
      setLearningRate(*optimizer, lr, lrScales);
      if (shard)
        shard->keepOwnGradients();
      optimizer->step();
      if (shard)
        shard->broadcastFromOwners();
      ++position.step;

      const double seconds = std::chrono::duration<double>(Clock::now() - windowStart).count();
      const double tokensPerSecond = seconds > 0 ? static_cast<double>(windowTokens) / seconds : 0;
      progress.update(position.step, loss, tokensPerSecond, lr);
      if (position.step % std::max<int64_t>(1, schedule.logEvery) == 0 || position.step == total) {
        std::map<std::string, double> values = sums;
        foldGroupCounts(values);
        values["loss"] = loss;
        values["lr"] = lr;
        values["grad_norm"] = gradNorm;
        values["tokens_per_s"] = tokensPerSecond;
        values["tokens"] = static_cast<double>(windowTokens); // non-pad tokens since the last record
        values["seconds"] = seconds;                          // and the wall time they took
        if (inputs.users)
          for (const auto &[key, value] : userModelDiagnostics(inputs.users, startWeights))
            values[key] = value;
        values["epoch"] = static_cast<double>(position.epoch) +
                          static_cast<double>(position.batchInEpoch + 1) / static_cast<double>(order.size());
        metrics.record({inputs.name, "train", position.step, values});
        windowStart = Clock::now();
        windowTokens = 0;
      }
      double now = elapsed();
      if (world) { // rank 0's clock decides the time-based cadences, so every rank takes the same branches
        std::vector<double> clock{world->isWriter() ? now : 0.0};
        world->allReduceSum(clock);
        now = clock[0];
      }
      if ((schedule.evalEverySteps > 0 && position.step % schedule.evalEverySteps == 0 && position.step < total) ||
          (schedule.evalEverySeconds > 0 && now - lastEval >= schedule.evalEverySeconds)) {
        runEvaluation(position.step);
        lastEval = elapsed();
      }
      const bool timeUp = (schedule.timeLimitSeconds > 0 && now >= schedule.timeLimitSeconds) ||
                          (options.stopAtStep > 0 && position.step >= options.stopAtStep && position.step < total);
      if ((schedule.checkpointEverySteps > 0 && position.step % schedule.checkpointEverySteps == 0) ||
          (schedule.checkpointEverySeconds > 0 && now - lastCheckpoint >= schedule.checkpointEverySeconds) || timeUp) {
        position.elapsedSeconds = now;
        ++position.batchInEpoch; // the batch just trained is consumed
        saveState();
        --position.batchInEpoch;
        lastCheckpoint = elapsed();
      }
      if (timeUp) {
        ++position.batchInEpoch; // consumed, as the loop's increment would have recorded
        result.stoppedByTimeLimit = true;
        progress.note("stopped at step " + std::to_string(position.step) + " (time limit); state saved in " + stateDir);
        break;
      }
    }
    if (result.stoppedByTimeLimit)
      break;
    if (position.batchInEpoch >= static_cast<int64_t>(order.size())) {
      ++position.epoch;
      position.batchInEpoch = 0;
    }
  }
  progress.finish();
  runEvaluation(position.step);
  position.elapsedSeconds = elapsed();
  saveState();
  saveFinalCheckpoint(inputs, result.checkpointDir);
  metrics.writeSummaries();
  result.steps = position.step;
  return result;
}

} // namespace align::rt
