//===- CostModel.cpp - What a training step costs, for the schedule passes' choices ===//

#include "CostModel.h"

#include "align/registry/Registry.h"

#include "llvm/Support/JSON.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"

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

} // namespace

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
    if (const registry::PresetShape *p = registry::findPreset(preset.getValue().str()))
      return ModelShape{p->hidden, p->layers, p->intermediate, "preset " + preset.getValue().str()};
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
                "slower at hidden 64, equal at 128), and its rounding costs a small model accuracy"};
  return {train::Precision::automatic,
          size + " is at least " + std::to_string(kBf16MinHidden) + " (a step measured 1.22x faster in bf16 at 256, "
                 "2.27x at 768): " + device};
}

} // namespace align::cost
