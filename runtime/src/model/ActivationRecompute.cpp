//===- ActivationRecompute.cpp - Activation checkpointing: a layer's inner states recomputed in backward ===//

#include "model/ActivationRecompute.h"

#include <ATen/autocast_mode.h>
#include <torch/csrc/autograd/custom_function.h>

#include <mutex>

namespace align::rt {

namespace {

/// What the backward needs to run the forward again as it ran.
struct Replay : torch::CustomClassHolder {
  std::function<torch::Tensor(const torch::Tensor &)> layer;
  torch::Tensor generatorState;
  bool autocast = false;
  at::ScalarType autocastType = at::kBFloat16;
};

at::Generator generatorOf(const torch::Tensor &x) { return at::globalContext().defaultGenerator(x.device()); }

torch::Tensor swapGeneratorState(const torch::Tensor &x, const torch::Tensor &state) {
  at::Generator generator = generatorOf(x);
  std::lock_guard<std::mutex> lock(generator.mutex());
  torch::Tensor before = generator.get_state();
  generator.set_state(state);
  return before;
}

/// Autocast for `device` set as the forward had it, restored when the scope ends.
class AutocastAsInForward {
public:
  AutocastAsInForward(c10::DeviceType device, bool enabled, at::ScalarType type)
      : device_(device), wasEnabled_(at::autocast::is_autocast_enabled(device)),
        wasType_(at::autocast::get_autocast_dtype(device)), wasCaching_(at::autocast::is_autocast_cache_enabled()) {
    at::autocast::set_autocast_dtype(device, type);
    at::autocast::set_autocast_enabled(device, enabled);
    at::autocast::set_autocast_cache_enabled(false);
  }
  ~AutocastAsInForward() {
    at::autocast::set_autocast_cache_enabled(wasCaching_);
    at::autocast::set_autocast_enabled(device_, wasEnabled_);
    at::autocast::set_autocast_dtype(device_, wasType_);
  }
  AutocastAsInForward(const AutocastAsInForward &) = delete;
  AutocastAsInForward &operator=(const AutocastAsInForward &) = delete;

private:
  c10::DeviceType device_;
  bool wasEnabled_;
  at::ScalarType wasType_;
  bool wasCaching_;
};

struct RecomputedLayer : torch::autograd::Function<RecomputedLayer> {
  /// `anchor`: an empty tensor that requires grad, so the output does when `x` does not (the first layer of
  /// a LoRA policy over frozen embeddings) and the backward still reaches the layer's trainable tensors.
  static torch::Tensor forward(torch::autograd::AutogradContext *ctx, const torch::Tensor &x,
                               const torch::Tensor &anchor, c10::intrusive_ptr<Replay> replay) {
    (void)anchor;
    ctx->save_for_backward({x});
    ctx->saved_data["x_requires_grad"] = x.requires_grad();
    torch::Tensor y = replay->layer(x); // grad mode is off here: nothing inside the layer is kept
    ctx->saved_data["replay"] = c10::IValue::make_capsule(std::move(replay));
    return y;
  }

  static torch::autograd::variable_list backward(torch::autograd::AutogradContext *ctx,
                                                 torch::autograd::variable_list grads) {
    auto replay = c10::static_intrusive_pointer_cast<Replay>(ctx->saved_data["replay"].toCapsule());
    const bool inputRequiresGrad = ctx->saved_data["x_requires_grad"].toBool();
    torch::Tensor x = ctx->get_saved_variables()[0].detach().requires_grad_(inputRequiresGrad);
    torch::Tensor y;
    {
      const torch::Tensor now = swapGeneratorState(x, replay->generatorState);
      AutocastAsInForward autocast(x.device().type(), replay->autocast, replay->autocastType);
      torch::AutoGradMode gradients(true);
      y = replay->layer(x);
      swapGeneratorState(x, now);
    }
    if (y.requires_grad())
      torch::autograd::backward({y}, {grads[0]});
    return {inputRequiresGrad ? x.grad() : torch::Tensor(), torch::Tensor(), torch::Tensor()};
  }
};

} // namespace

torch::Tensor recomputeInBackward(std::function<torch::Tensor(const torch::Tensor &)> layer, const torch::Tensor &x) {
  if (!torch::GradMode::is_enabled())
    return layer(x);
  auto replay = c10::make_intrusive<Replay>();
  replay->layer = std::move(layer);
  {
    at::Generator generator = generatorOf(x);
    std::lock_guard<std::mutex> lock(generator.mutex());
    replay->generatorState = generator.get_state();
  }
  const c10::DeviceType device = x.device().type();
  replay->autocast = at::autocast::is_autocast_enabled(device);
  replay->autocastType = at::autocast::get_autocast_dtype(device);
  const torch::Tensor anchor = torch::empty({0}, x.options().dtype(torch::kFloat32)).requires_grad_(true);
  return RecomputedLayer::apply(x, anchor, std::move(replay));
}

} // namespace align::rt
