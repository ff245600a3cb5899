//===- CostModel.cpp - What a training step costs, for the schedule passes' choices ===//

#include "CostModel.h"

#include "align/registry/Registry.h"

#include "llvm/Support/JSON.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"

#include <algorithm>
#include <cstdio>
#include <vector>

#include <unistd.h>

namespace align::cost {

namespace {

std::optional<ModelShape> shapeOfConfig(const std::string &dir, std::string &why) {
  llvm::SmallString<256> path(dir);
  llvm::sys::path::append(path, "config.json");
  auto buffer = llvm::MemoryBuffer::getFile(path);
  if (!buffer) {
    why = "no " + std::string(path) + " at compile time";
    return std::nullopt;
  }
  llvm::Expected<llvm::json::Value> json = llvm::json::parse((*buffer)->getBuffer());
  const llvm::json::Object *config = json ? json->getAsObject() : nullptr;
  if (!config) {
    if (!json)
      llvm::consumeError(json.takeError());
    why = std::string(path) + " is not a JSON object";
    return std::nullopt;
  }
  ModelShape shape;
  shape.heads = config->getInteger("num_attention_heads").value_or(0);
  shape.kvHeads = config->getInteger("num_key_value_heads").value_or(shape.heads);
  shape.vocab = config->getInteger("vocab_size").value_or(0);
  shape.tiedHead = config->getBoolean("tie_word_embeddings").value_or(false);
  std::optional<int64_t> hidden = config->getInteger("hidden_size"), layers = config->getInteger("num_hidden_layers"),
                         intermediate = config->getInteger("intermediate_size");
  if (!hidden || !layers || !intermediate) {
    why = std::string(path) + " lacks hidden_size, num_hidden_layers or intermediate_size";
    return std::nullopt;
  }
  shape.hidden = *hidden, shape.layers = *layers, shape.intermediate = *intermediate;
  shape.source = std::string(path);
  return shape;
}

/// The number of ids of a tokenizer.json (its model's vocabulary and the added tokens), 0 when unreadable.
int64_t vocabOfTokenizerFile(const std::string &path) {
  auto buffer = llvm::MemoryBuffer::getFile(path);
  if (!buffer)
    return 0;
  llvm::Expected<llvm::json::Value> json = llvm::json::parse((*buffer)->getBuffer());
  if (!json) {
    llvm::consumeError(json.takeError());
    return 0;
  }
  int64_t ids = 0;
  auto see = [&](std::optional<int64_t> id) {
    if (id)
      ids = std::max(ids, *id + 1);
  };
  if (const llvm::json::Object *root = json->getAsObject()) {
    if (const llvm::json::Object *model = root->getObject("model"))
      if (const llvm::json::Object *vocab = model->getObject("vocab"))
        for (const auto &entry : *vocab)
          see(entry.second.getAsInteger());
    if (const llvm::json::Array *added = root->getArray("added_tokens"))
      for (const llvm::json::Value &token : *added)
        if (const llvm::json::Object *t = token.getAsObject())
          see(t->getInteger("id"));
  }
  return ids;
}

} // namespace

mlir::Value trainedModel(train::StageOp stage) {
  mlir::Value trained;
  stage.walk([&](train::OptimizerStepOp step) { trained = step.getModel(); });
  return trained;
}

double ModelShape::parameters() const {
  const double h = static_cast<double>(hidden), kv = heads > 0 ? static_cast<double>(kvHeads) / heads : 1.0;
  const double perLayer = 2 * h * h + 2 * h * h * kv + 3 * h * static_cast<double>(intermediate) + 2 * h;
  return static_cast<double>(layers) * perLayer + static_cast<double>(vocab) * h * (tiedHead ? 1 : 2) + h;
}

std::optional<ModelShape> shapeOf(mlir::Value model, std::string &why) {
  while (auto attach = model.getDefiningOp<train::AttachOp>())
    model = attach.getBase();
  auto load = model.getDefiningOp<train::LoadModelOp>();
  if (!load) {
    why = "the trained model is not a declaration";
    return std::nullopt;
  }
  mlir::DictionaryAttr config = load.getConfig();
  if (auto checkpoint = config.getAs<mlir::StringAttr>("checkpoint"))
    return shapeOfConfig(checkpoint.getValue().str(), why);
  if (auto preset = config.getAs<mlir::StringAttr>("preset")) {
    if (const registry::PresetShape *p = registry::findPreset(preset.getValue().str())) {
      ModelShape shape{p->hidden, p->layers, p->intermediate, p->heads, p->kvHeads, 0, false,
                       "preset " + preset.getValue().str()};
      auto kind = config.getAs<mlir::StringAttr>("tokenizer_kind");
      auto spec = config.getAs<mlir::StringAttr>("tokenizer_spec");
      if (!kind || kind.getValue() == "bytes")
        shape.vocab = registry::kByteTokenizerVocab;
      else if (spec)
        shape.vocab = vocabOfTokenizerFile(spec.getValue().str());
      return shape;
    }
    why = "unknown preset '" + preset.getValue().str() + "'";
    return std::nullopt;
  }
  why = "model '" + load.getName().str() + "' has neither a preset nor a checkpoint";
  return std::nullopt;
}

PrecisionPlan planPrecision(const std::optional<ModelShape> &shape, const std::string &why) {
  const std::string device = "bf16 where the device has native bf16 matrix instructions (a GPU, AMX-BF16 or "
                             "AVX512-BF16), else fp32, decided when the trainer starts";
  if (!shape)
    return {train::Precision::automatic, "the model's size is unknown to the compiler (" + why + "): " + device};
  const std::string size = "hidden size " + std::to_string(shape->hidden) + " (" + shape->source + ")";
  if (shape->hidden < kBf16MinHidden)
    return {train::Precision::fp32,
            size + " is below " + std::to_string(kBf16MinHidden) +
                ": on matrices this small bf16's casts cost more than its products save (a step measured 1.74x "
                "slower at hidden 64, equal at 128; the DSP trainer at 256 0.92-1.02x as fast, with 2.6x the "
                "memory), and its rounding costs a small model accuracy"};
  return {train::Precision::automatic,
          size + " is at least " + std::to_string(kBf16MinHidden) + " (a step measured 1.63x faster in bf16 at 512, "
                 "the 134M DPO trainer 1.47x at 768): " + device};
}


//===----------------------------------------------------------------------===//
// Memory
//===----------------------------------------------------------------------===//

namespace {

// Calibration (docs/performance.md, "The cost model": bench_model_step's peak RSS at 1–16 sequences of 512
// tokens, the 134M and `small` shapes, 2 threads). What a layer keeps for its backward per token is about
// kKeepHidden·hidden + kKeepIntermediate·intermediate bytes in float32 (87 KB measured at hidden 768 /
// intermediate 2048, 34 KB at 256 / 688: norm outputs, q/k/v before and after rotation, attention output and
// its statistics, the residuals; the MLP's gate, up, their activation and product), kKeepScaleBf16 times that
// under bf16 autocast (76 KB at 768: the bf16 casts are kept beside the float32 residual stream). Recomputing,
// a layer keeps its float32 input, and backward holds about kRecomputeLayers layers' worth at once (the
// recomputed layer, its gradients, the allocator's slack: 3.0–4.1 measured).
constexpr double kKeepHidden = 4.0 * 20, kKeepIntermediate = 4.0 * 4, kKeepScaleBf16 = 0.9, kRecomputeLayers = 4;
// What a process holds before the model: LibTorch, the data, the allocator's slack.
constexpr double kRuntimeBytes = 512.0 * 1024 * 1024;

double layerKeepPerToken(const ModelShape &shape, bool bf16) {
  return (kKeepHidden * shape.hidden + kKeepIntermediate * shape.intermediate) * (bf16 ? kKeepScaleBf16 : 1.0);
}

} // namespace

double StepMemory::bytes(int64_t microBatch, train::Activations activations) const {
  return state + static_cast<double>(microBatch) *
                     (activations == train::Activations::recompute ? perExampleRecompute + recomputeOnce
                                                                   : perExampleKeep);
}

StepMemory estimateStepMemory(const ModelShape &shape, const StepDemand &demand) {
  const double parameters = shape.parameters();
  StepMemory m;
  m.state = 4 * parameters + kRuntimeBytes;       // float32 weights
  if (demand.fullyTrained)
    m.state += 4 * parameters + 8 * parameters;   // gradients, Adam's two moments
  if (demand.frozenReference)
    m.state += 4 * parameters;
  if (demand.bf16)
    m.state += 2 * parameters;                    // autocast's bf16 copies of the weights, kept for the step
  const double tokens = static_cast<double>(demand.maxLength * demand.sequencesPerExample);
  // The head: fused, one block of chunk × vocabulary logits and its gradient at a time, whatever the tokens;
  // unfused, every token's logits three times (logits, log-softmax, its gradient).
  const double vocab = static_cast<double>(std::max<int64_t>(shape.vocab, 1));
  if (demand.logprobChunk > 0)
    m.state += 8.0 * static_cast<double>(demand.logprobChunk) * vocab;
  const double head = 4.0 * shape.hidden + (demand.logprobChunk > 0 ? 0.0 : 12.0 * vocab);
  const double keepLayer = layerKeepPerToken(shape, demand.bf16);
  m.perExampleKeep = tokens * (static_cast<double>(shape.layers) * keepLayer + head);
  m.perExampleRecompute = tokens * (static_cast<double>(shape.layers) * 4.0 * shape.hidden + head);
  m.recomputeOnce = tokens * kRecomputeLayers * keepLayer;
  return m;
}

std::string formatBytes(double bytes) {
  static const char *const units[] = {"bytes", "KiB", "MiB", "GiB", "TiB"};
  int unit = 0;
  while (bytes >= 1024 && unit < 4)
    bytes /= 1024, ++unit;
  char text[32];
  std::snprintf(text, sizeof text, unit == 0 || bytes >= 100 ? "%.0f%s%s" : "%.3g%s%s", bytes, unit ? "" : " ",
                units[unit]);
  return text;
}

MemoryPlan planMemory(const std::optional<ModelShape> &shape, const std::string &why, const StepDemand &demand) {
  const train::Activations recipeActivations = demand.activations.value_or(train::Activations::keep);
  if (!shape)
    return {demand.microBatch, recipeActivations,
            "the model's size is unknown to the compiler (" + why + "): micro-batch " +
                std::to_string(demand.microBatch) + ", activations " +
                train::stringifyActivations(recipeActivations).str() + " as the recipe says"};
  const StepMemory memory = estimateStepMemory(*shape, demand);
  const std::string tokens = std::to_string(demand.sequencesPerExample) + " x " + std::to_string(demand.maxLength) +
                             " tokens per example";
  auto fits = [&](int64_t micro, train::Activations a) { return memory.bytes(micro, a) <= demand.budget; };
  // Divisors of the batch, largest first, from the recipe's micro-batch down.
  std::vector<int64_t> micros;
  for (int64_t m = demand.microBatch; m >= 1; --m)
    if (demand.batch % m == 0)
      micros.push_back(m);
  std::vector<train::Activations> choices;
  if (demand.activations)
    choices = {*demand.activations};
  else
    choices = {train::Activations::keep, train::Activations::recompute};
  for (train::Activations a : choices)
    for (int64_t m : micros)
      if (fits(m, a)) {
        std::string reason = "a step of micro-batch " + std::to_string(m) + " (" + tokens + ") with activations " +
                             train::stringifyActivations(a).str() + " needs about " +
                             formatBytes(memory.bytes(m, a)) + " of " + demand.budgetSource + " (" +
                             formatBytes(demand.budget) + ")";
        if (m < demand.microBatch)
          reason += "; micro-batch " + std::to_string(micros.front()) + " would need " +
                    formatBytes(memory.bytes(micros.front(), a));
        if (a == train::Activations::recompute && !demand.activations)
          reason += "; keeping every layer's activations would need " +
                    formatBytes(memory.bytes(1, train::Activations::keep)) + " at micro-batch 1";
        return {m, a, reason};
      }
  const train::Activations last = choices.back();
  return {1, last,
          "even micro-batch 1 with activations " + train::stringifyActivations(last).str() + " needs about " +
              formatBytes(memory.bytes(1, last)) + ", more than " + demand.budgetSource + " (" +
              formatBytes(demand.budget) + "): the smallest step is planned (estimated for " + tokens +
              ", the length bound; shorter data needs less)"};
}


namespace {

/// The physical memory of the machine alignc runs on.
double machineMemory() {
  const long pages = sysconf(_SC_PHYS_PAGES), pageSize = sysconf(_SC_PAGE_SIZE);
  return pages > 0 && pageSize > 0 ? static_cast<double>(pages) * static_cast<double>(pageSize) : 0;
}

/// Whether only adapters train on `model` (LoRA): no gradients or optimizer state for the base weights.
bool trainsAdaptersOnly(mlir::Value model) {
  while (auto attach = model.getDefiningOp<train::AttachOp>()) {
    if (attach.getRole() == "adapter")
      return true;
    model = attach.getBase();
  }
  return false;
}

} // namespace

StepDemand demandOf(train::StageOp stage, mlir::Value trained, int64_t defaultBudget) {
  using namespace train;
  StepDemand demand;
  demand.batch = stage.getBatch();
  demand.microBatch = stage.getMicroBatch();
  demand.maxLength = stage.getMaxLength();
  demand.fullyTrained = !trainsAdaptersOnly(trained);
  demand.bf16 = stage.getPlannedPrecision().value_or(stage.getPrecision()) != Precision::fp32;
  demand.activations = stage.getActivations();
  stage.walk([&](mlir::Operation *op) {
    if (auto forward = llvm::dyn_cast<ForwardOp>(op); forward && forward.getConcatPairs())
      demand.sequencesPerExample = 2;
    if (auto score = llvm::dyn_cast<ScoreOp>(op); score && score.getConcatPairs())
      demand.sequencesPerExample = 2;
    // A cached reference is scored before training and let go before the optimizer state exists.
    if (auto reference = llvm::dyn_cast<ReferenceLogprobsOp>(op); reference && !reference.getCached())
      demand.frozenReference = true;
  });
  // The head: the largest chunk of a fused op, whole logits when any is unfused, one score for a reward head.
  bool anyLogprobs = false, anyUnfused = false;
  stage.walk([&](SequenceLogprobsOp op) {
    anyLogprobs = true;
    if (op.getFused() && op.getChunk())
      demand.logprobChunk = std::max<int64_t>(demand.logprobChunk, *op.getChunk());
    else
      anyUnfused = true;
  });
  if (!anyLogprobs)
    demand.logprobChunk = 1;
  else if (anyUnfused)
    demand.logprobChunk = 0;
  if (auto budget = stage.getMemory()) {
    demand.budget = static_cast<double>(*budget);
    demand.budgetSource = "the schedule's memory";
  } else if (defaultBudget > 0) {
    demand.budget = static_cast<double>(defaultBudget);
    demand.budgetSource = "the planned memory";
  } else {
    demand.budget = machineMemory();
    demand.budgetSource = "this machine's memory";
  }
  return demand;
}

LogprobsPlan planLogprobs(const std::optional<ModelShape> &shape, const std::string &why, StepDemand demand) {
  if (!shape)
    return {true, "the model's size is unknown to the compiler (" + why + "): fused, which never holds the logits"};
  const std::string vocab = "vocabulary " + std::to_string(shape->vocab);
  if (!demand.bf16)
    return {true, "float32: fused and unfused measured within 4% of each other, and fused never holds the logits"};
  if (shape->vocab < kUnfusedMinVocab)
    return {true, vocab + " is below " + std::to_string(kUnfusedMinVocab) +
                      ": fused measured 1.05-1.07x faster in bf16 at 4096, and it never holds the logits"};
  demand.logprobChunk = 0;
  const StepMemory memory = estimateStepMemory(*shape, demand);
  const train::Activations activations = demand.activations.value_or(train::Activations::keep);
  const double needed = memory.bytes(demand.microBatch, activations);
  const std::string step = "micro-batch " + std::to_string(demand.microBatch) + " unfused needs about " +
                           formatBytes(needed) + " of " + demand.budgetSource + " (" + formatBytes(demand.budget) + ")";
  if (needed > demand.budget)
    return {true, "bf16 and " + vocab + " would run faster unfused, but " + step + ": fused"};
  return {false, "bf16 and " + vocab + " (at least " + std::to_string(kUnfusedMinVocab) +
                     "): unfused measured 1.06-1.10x faster at 32000 (the fused head computes its logits again in "
                     "backward), and " + step};
}

} // namespace align::cost
