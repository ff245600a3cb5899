//===- ChunkedLogprobs.h - LM head + log-softmax + gather in row chunks -*- C++ -*-===//
//
// Every objective needs log p(target token) per position, and the obvious way to get it (logits =
// hidden @ Wᵀ, log_softmax, gather) materialises a rows × vocab tensor, plus its log-softmax and its
// gradient: at 16k rows and a 128k vocabulary that is 8 GiB per copy in float32, far more than the model's
// activations. These functions compute the same numbers `chunkRows` rows at a time, keeping only the
// per-row log-normaliser for backward, which recomputes the logits in vocabulary slices of the same size
// (chunkRows × vocab logits each). Peak extra memory is O(chunkRows × vocab) plus the gradients
// themselves, never rows × vocab. The compiler's LM-head fusion
// (DESIGN.md, MLIR passes) lowers to these; tests/unit/runtime/ChunkedLogprobsTest.cpp holds them equal to
// the unfused path, and bench/chunked_logprobs.cpp measures what they save.
//
//===----------------------------------------------------------------------===//
#pragma once

#include <torch/torch.h>

#include <optional>

namespace align::rt {

/// log softmax(hidden @ headWeightᵀ + headBias)[row, targets[row]] for every row, without ever holding more
/// than `chunkRows` rows of logits. Differentiable w.r.t. `hidden`, `headWeight` and `headBias` (a custom
/// autograd function; not twice differentiable).
///
///   hidden     [N, H], floating point (float64, float32, bfloat16 or float16)
///   headWeight [V, H], the dtype of `hidden`
///   targets    [N] int64, each in [0, V)
///   headBias   [V], the dtype of `hidden` (optional)
///
/// The matrix products run in the input dtype (as the unfused path's F::linear does); logits are then
/// promoted to float32 (float64 stays float64), and the log-softmax and its gradient are computed there.
/// Returns [N] in that float32/float64 dtype; the gradients come back in the inputs' dtypes. Throws
/// align::rt::Error when a shape, dtype, device or target is not what is described above.
torch::Tensor chunkedTokenLogprobs(const torch::Tensor &hidden, const torch::Tensor &headWeight,
                                   const torch::Tensor &targets, int64_t chunkRows,
                                   std::optional<torch::Tensor> headBias = {});

/// The sequence form, equal to tokenLogprobs(model, inputIds) in model/Llama.h when given
/// model->hidden(inputIds) and model->headWeight(): log p(inputIds[b][t] | inputIds[b][<t]) for
/// t = 1..T-1, as [B, T-1]. `hidden` is [B, T, H] and `inputIds` [B, T] int64.
torch::Tensor chunkedSequenceTokenLogprobs(const torch::Tensor &hidden, const torch::Tensor &headWeight,
                                           const torch::Tensor &inputIds, int64_t chunkRows);

} // namespace align::rt
