//===- ActivationRecompute.h - Activation checkpointing: a layer's inner states recomputed in backward -*- C++ -*-===//
//
// A decoder layer's backward needs every intermediate of its forward (norm outputs, q/k/v, attention, the
// MLP's gate and up projections): about 15 hidden-sized and 3 intermediate-sized vectors per token, which at
// real sizes is most of a step's memory. With recomputation the forward keeps only the layer's input; the
// backward runs the layer's forward again, with gradients, and back-propagates through that copy — one extra
// forward of each layer (a step costs about 4/3 of its products) for memory that no longer grows with the
// layer count. This is the "reentrant" checkpoint of torch.utils.checkpoint: the recomputed graph's backward
// accumulates into the parameters' `.grad` directly, so it serves `loss.backward()` (what the stage loop
// calls), not `torch::autograd::grad` over parameters.
//
// The recomputation replays the forward exactly: the default random generator of the input's device is put
// back where it was (LoRA's dropout draws the same mask) and autocast is re-entered with the forward's
// dtype, with its weight-cast cache off (the cache would outlive the step and serve stale weights after the
// optimizer moves them).
//
//===----------------------------------------------------------------------===//
#pragma once

#include <torch/torch.h>

#include <functional>

namespace align::rt {

/// layer(x), keeping only `x` for the backward, which recomputes layer(x) to back-propagate through it. Under
/// no-grad mode (evaluation, the frozen reference) this is layer(x). `layer` must be a pure function of `x`
/// and of tensors it holds: the recomputation calls it again after the forward has returned.
torch::Tensor recomputeInBackward(std::function<torch::Tensor(const torch::Tensor &)> layer, const torch::Tensor &x);

} // namespace align::rt
