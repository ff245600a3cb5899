//===- FusedAdamW.h - AdamW through ATen's fused multi-tensor kernel -*- C++ -*-===//
//
// LibTorch's C++ AdamW updates one parameter at a time with about ten elementwise passes over it (decay,
// both moments, the square root, the division, the update), each reading and writing the whole tensor. ATen's
// `_fused_adamw_` (what Python's `torch.optim.AdamW(fused=True)`, and so TRL's default `adamw_torch_fused`,
// runs) does the same update in one pass per tensor: 0.14 s instead of 0.50 s per step for a 134M-parameter
// model on two cores of the development machine. This class keeps AdamW's options, parameter state and
// serialization (a state saved by one loads into the other), and replaces only `step`.
//
//===----------------------------------------------------------------------===//
#pragma once

#include <torch/torch.h>

namespace align::rt {

class FusedAdamW : public torch::optim::AdamW {
public:
  using torch::optim::AdamW::AdamW;
  /// The AdamW update of every parameter with a gradient (others are skipped, as AdamW skips them), one fused
  /// kernel call per parameter group, device and dtype. amsgrad falls back to AdamW's own step.
  torch::Tensor step(LossClosure closure = nullptr) override;
};

} // namespace align::rt
