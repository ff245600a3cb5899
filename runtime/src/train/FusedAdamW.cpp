//===- FusedAdamW.cpp - AdamW through ATen's fused multi-tensor kernel ----===//

#include "train/FusedAdamW.h"

#include "align/rt/Error.h"

#include <ATen/ops/_fused_adamw.h>

#include <map>
#include <tuple>

namespace align::rt {

namespace {

/// The tensors of one fused call: parameters of one device and dtype.
struct FusedBatch {
  std::vector<torch::Tensor> params, grads, expAvgs, expAvgSqs, steps;
};

} // namespace

torch::Tensor FusedAdamW::step(LossClosure closure) {
  for (const auto &group : param_groups_)
    if (static_cast<const torch::optim::AdamWOptions &>(group.options()).amsgrad())
      return torch::optim::AdamW::step(std::move(closure));
  torch::NoGradGuard noGrad;
  torch::Tensor loss;
  if (closure) {
    at::AutoGradMode enableGrad(true);
    loss = closure();
  }
  for (auto &group : param_groups_) {
    const auto &options = static_cast<const torch::optim::AdamWOptions &>(group.options());
    std::map<std::tuple<int, int, int>, FusedBatch> batches; // (device type, device index, dtype)
    for (auto &p : group.params()) {
      if (!p.grad().defined())
        continue;
      if (p.grad().is_sparse())
        throw Error("AdamW does not support sparse gradients");
      auto &slot = state_[p.unsafeGetTensorImpl()];
      if (!slot) { // the state AdamW would create, so that serialization and resumption are AdamW's
        auto state = std::make_unique<torch::optim::AdamWParamState>();
        state->step(0);
        state->exp_avg(torch::zeros_like(p, torch::MemoryFormat::Preserve));
        state->exp_avg_sq(torch::zeros_like(p, torch::MemoryFormat::Preserve));
        slot = std::move(state);
      }
      auto &state = static_cast<torch::optim::AdamWParamState &>(*slot);
      state.step(state.step() + 1);
      FusedBatch &batch = batches[{static_cast<int>(p.device().type()), p.device().index(),
                                   static_cast<int>(p.scalar_type())}];
      batch.params.push_back(p);
      batch.grads.push_back(p.grad());
      batch.expAvgs.push_back(state.exp_avg());
      batch.expAvgSqs.push_back(state.exp_avg_sq());
      // The kernel reads the (already incremented) step count as a float tensor on the parameter's device.
      batch.steps.push_back(torch::full({}, static_cast<double>(state.step()), p.options().dtype(torch::kFloat32)));
    }
    for (auto &[key, b] : batches)
      at::_fused_adamw_(b.params, b.grads, b.expAvgs, b.expAvgSqs, /*max_exp_avg_sqs=*/{}, b.steps, options.lr(),
                        std::get<0>(options.betas()), std::get<1>(options.betas()), options.weight_decay(),
                        options.eps(), /*amsgrad=*/false, /*maximize=*/false);
  }
  return loss;
}

} // namespace align::rt
