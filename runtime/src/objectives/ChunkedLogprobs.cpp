//===- ChunkedLogprobs.cpp - LM head + log-softmax + gather in blocks -----===//
//
// For one row with logits z = W h + b and target t, log p_t = z_t − logsumexp(z), and
//
//   ∂ log p_t / ∂z = onehot(t) − softmax(z),
//
// so with the upstream gradient g (one scalar per row) the logit gradient is G = (onehot − softmax) · g,
// and grad_h = G W, grad_W = Gᵀ h, grad_b = Σ_rows G. Forward keeps only logsumexp(z) per row; backward
// recomputes the logits (one extra matrix product, the price of never storing rows × vocab), turns them
// into softmax with the saved normaliser and forms G. The exception is a single small block (keepsBlock):
// forward keeps its softmax, and backward does no product it would not do unfused.
//
// Both passes walk the logits in blocks of about chunkRows × V entries: row chunks over the whole
// vocabulary, or vocabulary slices over all rows. The arithmetic is the same; what differs is what every
// block re-reads and what is summed across blocks. Row chunks re-read W and sum grad_W (V × H each time:
// 512 MiB at a 128k vocabulary and hidden size 1024), vocabulary slices re-read the hidden states and sum
// grad_h (rows × H). So the longer of the two dimensions is the one walked, and the smaller operand is
// the one re-read. Across vocabulary slices forward keeps a running maximum and sum per row (the online
// logsumexp of flash attention). Every block's logits are a fresh tensor, so the elementwise steps run
// in place on it.
//
//===----------------------------------------------------------------------===//

#include "objectives/ChunkedLogprobs.h"

#include "align/rt/Error.h"

#include <algorithm>
#include <limits>
#include <vector>

namespace align::rt {

namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

/// The dtype the softmax runs in: float64 stays float64; float32, bfloat16 and float16 use float32, since
/// a bf16 logsumexp over 100k terms would lose the target's probability in rounding.
torch::ScalarType softmaxDtype(torch::ScalarType inputDtype) {
  return inputDtype == torch::kFloat64 ? torch::kFloat64 : torch::kFloat32;
}

std::string shapeOf(const torch::Tensor &t) {
  std::string s = "[";
  for (int64_t d = 0; d < t.dim(); ++d)
    s += (d ? ", " : "") + std::to_string(t.size(d));
  return s + "]";
}

std::string dtypeOf(const torch::Tensor &t) { return std::string(c10::toString(t.scalar_type())); }

/// Rows [row, row + rows) × vocabulary entries [column, column + columns) of the logits.
struct Block {
  int64_t row, rows, column, columns;
};

/// Vocabulary slices when the vocabulary is the longer dimension, else row chunks (see the file header).
bool walksVocabulary(int64_t rows, int64_t vocab) { return vocab > rows; }

std::vector<Block> blocksOf(int64_t rows, int64_t vocab, int64_t chunkRows) {
  std::vector<Block> blocks;
  if (rows == 0)
    return blocks;
  if (walksVocabulary(rows, vocab)) {
    int64_t width = std::min(vocab, (chunkRows * vocab + rows - 1) / rows); // chunkRows × V entries
    for (int64_t column = 0; column < vocab; column += width)
      blocks.push_back({0, rows, column, std::min(width, vocab - column)});
  } else {
    for (int64_t row = 0; row < rows; row += chunkRows)
      blocks.push_back({row, std::min(chunkRows, rows - row), 0, vocab});
  }
  return blocks;
}

/// Whether forward keeps the softmax for backward. With a single block of at most kKeptBlockBytes, keeping it
/// costs less memory than the same rows' activations in the decoder (hidden × layers × a dozen values each) and
/// saves backward's fourth matrix product — which made the chunked path 10–13% slower than the unfused one
/// on a 134M model's DPO step, where the head ran on ~400 rows (bench/README.md). Many blocks, or a large one,
/// are recomputed: that is what bounds the chunked path's memory.
constexpr int64_t kKeptBlockBytes = int64_t(64) << 20;

bool keepsBlock(const std::vector<Block> &blocks, int64_t rows, int64_t vocab, torch::ScalarType dtype) {
  return blocks.size() == 1 && rows * vocab * static_cast<int64_t>(c10::elementSize(dtype)) <= kKeptBlockBytes;
}

/// The block's logits in the softmax dtype. The matrix product runs in the input dtype, as the unfused
/// path's F::linear does; the result never aliases an input (mm/addmm allocate it, a promotion copies),
/// so callers may overwrite it.
torch::Tensor blockLogits(const torch::Tensor &hidden, const torch::Tensor &weight, const torch::Tensor &bias,
                          const Block &b) {
  torch::Tensor h = hidden.narrow(0, b.row, b.rows), w = weight.narrow(0, b.column, b.columns);
  torch::Tensor logits =
      bias.defined() ? torch::addmm(bias.narrow(0, b.column, b.columns), h, w.t()) : torch::mm(h, w.t());
  return logits.to(softmaxDtype(hidden.scalar_type()));
}

/// For the block's rows: whether the target lies in the block's columns, and its column in the block
/// (clamped into range where it does not, so the caller can gather and scatter for every row and mask,
/// instead of finding the rows with a device-to-host sync).
std::pair<torch::Tensor, torch::Tensor> targetColumns(const torch::Tensor &targets, const Block &b) {
  torch::Tensor t = targets.narrow(0, b.row, b.rows);
  torch::Tensor inBlock = t.ge(b.column).logical_and_(t.lt(b.column + b.columns));
  return {inBlock, (t - b.column).clamp_(0, b.columns - 1).unsqueeze(1)};
}

/// out[begin, begin + count) = a @ b, or += when `accumulate` (then `out` is a zero-initialised buffer in
/// the softmax dtype, which may be wider than a and b: bf16 products are summed in float32).
void storeProduct(torch::Tensor &out, int64_t begin, int64_t count, const torch::Tensor &a, const torch::Tensor &b,
                  bool accumulate) {
  torch::Tensor outRows = out.narrow(0, begin, count); // contiguous rows: written in place
  if (!accumulate)
    torch::mm_out(outRows, a, b);
  else if (out.scalar_type() == a.scalar_type())
    outRows.addmm_(a, b);
  else
    outRows.add_(torch::mm(a, b));
}

/// The autograd node. The bias is an optional argument because autograd refuses undefined tensors as
/// inputs; needs_input_grad(i) counts only the tensors present, so hidden = 0, weight = 1, and bias = 2
/// when there is one (backward checks that it exists before asking).
class ChunkedLogprobsFunction : public torch::autograd::Function<ChunkedLogprobsFunction> {
public:
  static torch::Tensor forward(AutogradContext *ctx, const torch::Tensor &hidden, const torch::Tensor &weight,
                               const std::optional<torch::Tensor> &maybeBias, const torch::Tensor &targets,
                               int64_t chunkRows) {
    torch::Tensor bias = maybeBias ? *maybeBias : torch::Tensor();
    int64_t rows = hidden.size(0);
    auto options = hidden.options().dtype(softmaxDtype(hidden.scalar_type()));
    // Per row: the running maximum and Σ exp(z − maximum) over the columns seen so far, and the target's
    // logit once its column has been seen.
    torch::Tensor runningMax = torch::full({rows}, -std::numeric_limits<double>::infinity(), options);
    torch::Tensor runningSum = torch::zeros({rows}, options), targetLogit = torch::zeros({rows}, options);
    const std::vector<Block> blocks = blocksOf(rows, weight.size(0), chunkRows);
    // One small block: keep its exp(z − max) for backward instead of recomputing the logits (see keepsBlock).
    const bool keep = keepsBlock(blocks, rows, weight.size(0), softmaxDtype(hidden.scalar_type())) &&
                      (hidden.requires_grad() || weight.requires_grad() || (bias.defined() && bias.requires_grad()));
    torch::Tensor kept;
    for (const Block &b : blocks) {
      torch::Tensor logits = blockLogits(hidden, weight, bias, b);
      auto [inBlock, column] = targetColumns(targets, b);
      torch::Tensor target = targetLogit.narrow(0, b.row, b.rows);
      target.copy_(torch::where(inBlock, logits.gather(1, column).squeeze(1), target));
      torch::Tensor maxSoFar = runningMax.narrow(0, b.row, b.rows);
      torch::Tensor newMax = torch::maximum(maxSoFar, logits.amax(1));
      // Shifting by the maximum keeps exp from overflowing; the old sum is rescaled to the new maximum.
      runningSum.narrow(0, b.row, b.rows)
          .mul_((maxSoFar - newMax).exp_())
          .add_(logits.sub_(newMax.unsqueeze(1)).exp_().sum(1));
      maxSoFar.copy_(newMax);
      if (keep)
        kept = logits; // exp(z − max) of every row and column
    }
    if (keep) // softmax = exp(z − max) / Σ exp(z − max): normalised now, once
      kept.div_(runningSum.unsqueeze(1));
    // log_softmax's order of operations, (z_t − max) − log Σ exp(z − max), so float32 results match the
    // unfused path to rounding.
    torch::Tensor logSum = runningSum.log_();
    torch::Tensor logprobs = targetLogit.sub_(runningMax).sub_(logSum);
    torch::Tensor logNormalizers = runningMax.add_(logSum); // logsumexp of each row's logits
    ctx->save_for_backward({hidden, weight, bias, targets, logNormalizers});
    ctx->saved_data["chunkRows"] = chunkRows;
    if (keep)
      ctx->saved_data["softmax"] = kept;
    return logprobs;
  }

  static variable_list backward(AutogradContext *ctx, variable_list gradOutputs) {
    // The gradient is computed with in-place steps on recomputed logits, which autograd could not
    // differentiate again; without grad mode the returned gradients carry no graph, so a double backward
    // fails loudly instead of silently giving zeros.
    torch::NoGradGuard noGrad;
    variable_list saved = ctx->get_saved_variables();
    const torch::Tensor &hidden = saved[0], &weight = saved[1], &bias = saved[2], &targets = saved[3];
    const torch::Tensor &logNormalizers = saved[4];
    int64_t rows = hidden.size(0), vocab = weight.size(0);
    std::vector<Block> blocks = blocksOf(rows, vocab, ctx->saved_data["chunkRows"].toInt());
    torch::ScalarType inputDtype = hidden.scalar_type(), accumulateDtype = softmaxDtype(inputDtype);
    bool wantHidden = ctx->needs_input_grad(0), wantWeight = ctx->needs_input_grad(1);
    bool wantBias = bias.defined() && ctx->needs_input_grad(2);

    // Each block writes its own rows of one gradient and adds to the other: vocabulary slices add to
    // grad_h, row chunks to grad_W and grad_b. What is added to starts at zero in the softmax dtype, so
    // bf16/fp16 sums are rounded once at the end, not after every block.
    bool severalBlocks = blocks.size() > 1, bySlices = walksVocabulary(rows, vocab);
    bool sumHidden = severalBlocks && bySlices, sumWeight = severalBlocks && !bySlices;
    auto buffer = [&](const torch::Tensor &like, bool sum) {
      return sum ? torch::zeros(like.sizes(), like.options().dtype(accumulateDtype))
                 : torch::empty_like(like, torch::MemoryFormat::Contiguous);
    };
    torch::Tensor gradHidden, gradWeight, gradBias;
    if (wantHidden)
      gradHidden = blocks.empty() ? torch::zeros_like(hidden) : buffer(hidden, sumHidden);
    if (wantWeight)
      gradWeight = blocks.empty() ? torch::zeros_like(weight) : buffer(weight, sumWeight);
    if (wantBias)
      gradBias = blocks.empty() ? torch::zeros_like(bias) : buffer(bias, sumWeight);
    if (!wantHidden && !wantWeight && !wantBias)
      blocks.clear();
    torch::Tensor upstream = gradOutputs[0].to(accumulateDtype);

    const bool kept = ctx->saved_data.count("softmax") > 0;
    for (const Block &b : blocks) {
      torch::Tensor rowGrad = upstream.narrow(0, b.row, b.rows).unsqueeze(1); // [rows, 1]
      // G = (onehot − softmax) · g: on the kept softmax, or in place on recomputed logits (softmax =
      // exp(z − logsumexp)).
      torch::Tensor gradLogits;
      if (kept) {
        gradLogits = ctx->saved_data["softmax"].toTensor().mul_(rowGrad.neg());
        ctx->saved_data.erase("softmax"); // used up in place: a second backward (retain_graph) recomputes
      } else {
        gradLogits = blockLogits(hidden, weight, bias, b);
        gradLogits.sub_(logNormalizers.narrow(0, b.row, b.rows).unsqueeze(1)).exp_().mul_(rowGrad.neg());
      }
      auto [inBlock, column] = targetColumns(targets, b);
      gradLogits.scatter_add_(1, column, rowGrad * inBlock.unsqueeze(1));

      if (wantBias) {
        torch::Tensor biasRows = gradBias.narrow(0, b.column, b.columns);
        if (sumWeight)
          biasRows.add_(gradLogits.sum(0));
        else
          biasRows.copy_(gradLogits.sum(0));
      }
      // The products run in the input dtype, as the unfused path's linear backward does.
      torch::Tensor gradLogitsIn = gradLogits.to(inputDtype);
      if (wantWeight)
        storeProduct(gradWeight, b.column, b.columns, gradLogitsIn.t(), hidden.narrow(0, b.row, b.rows),
                     sumWeight);
      if (wantHidden)
        storeProduct(gradHidden, b.row, b.rows, gradLogitsIn, weight.narrow(0, b.column, b.columns), sumHidden);
    }
    // One entry per forward argument (targets and chunkRows get none), in the inputs' dtypes.
    auto asInput = [](const torch::Tensor &grad, const torch::Tensor &input) {
      return grad.defined() ? grad.to(input.scalar_type()) : grad;
    };
    return {asInput(gradHidden, hidden), asInput(gradWeight, weight), asInput(gradBias, bias), torch::Tensor(),
            torch::Tensor()};
  }
};

void checkArguments(const torch::Tensor &hidden, const torch::Tensor &weight, const torch::Tensor &targets,
                    int64_t chunkRows, const torch::Tensor &bias) {
  if (hidden.dim() != 2)
    throw Error("chunked log-probs: hidden states must be [rows, hidden], got " + shapeOf(hidden));
  if (!hidden.is_floating_point())
    throw Error("chunked log-probs: hidden states must be floating point (float64, float32, bfloat16 or "
                "float16), got " + dtypeOf(hidden));
  if (weight.dim() != 2 || weight.size(1) != hidden.size(1) || weight.size(0) == 0)
    throw Error("chunked log-probs: LM-head weight must be [vocab, " + std::to_string(hidden.size(1)) +
                "] with vocab > 0 (hidden size from the hidden states), got " + shapeOf(weight));
  if (weight.scalar_type() != hidden.scalar_type())
    throw Error("chunked log-probs: LM-head weight must have the hidden states' dtype " + dtypeOf(hidden) +
                ", got " + dtypeOf(weight));
  int64_t rows = hidden.size(0), vocab = weight.size(0);
  if (targets.dim() != 1 || targets.size(0) != rows)
    throw Error("chunked log-probs: targets must be [" + std::to_string(rows) + "] (one per hidden row), got " +
                shapeOf(targets));
  if (targets.scalar_type() != torch::kInt64)
    throw Error("chunked log-probs: targets must be int64 token ids, got " + dtypeOf(targets));
  if (bias.defined()) {
    if (bias.dim() != 1 || bias.size(0) != vocab)
      throw Error("chunked log-probs: LM-head bias must be [" + std::to_string(vocab) + "] (the vocabulary), got " +
                  shapeOf(bias));
    if (bias.scalar_type() != hidden.scalar_type())
      throw Error("chunked log-probs: LM-head bias must have the hidden states' dtype " + dtypeOf(hidden) +
                  ", got " + dtypeOf(bias));
  }
  for (const torch::Tensor *t : {&weight, &targets, &bias})
    if (t->defined() && t->device() != hidden.device())
      throw Error("chunked log-probs: all tensors must be on the hidden states' device " + hidden.device().str() +
                  ", got one on " + t->device().str());
  if (chunkRows < 1)
    throw Error("chunked log-probs: chunk rows must be at least 1, got " + std::to_string(chunkRows));
  if (rows > 0) {
    // One reduction and one device-to-host copy: an out-of-range id would otherwise be a gather error on
    // CPU and a device-side assert on CUDA.
    auto [low, high] = torch::aminmax(targets);
    torch::Tensor bounds = torch::stack({low, high}).cpu();
    int64_t lowest = bounds[0].item<int64_t>(), highest = bounds[1].item<int64_t>();
    if (lowest < 0 || highest >= vocab)
      throw Error("chunked log-probs: target ids must be in [0, " + std::to_string(vocab) + "), got " +
                  std::to_string(lowest < 0 ? lowest : highest));
  }
}

} // namespace

torch::Tensor chunkedTokenLogprobs(const torch::Tensor &hidden, const torch::Tensor &headWeight,
                                   const torch::Tensor &targets, int64_t chunkRows,
                                   std::optional<torch::Tensor> headBias) {
  if (headBias && !headBias->defined())
    headBias.reset();
  checkArguments(hidden, headWeight, targets, chunkRows, headBias ? *headBias : torch::Tensor());
  // Chunks larger than the input would only make the loop bounds awkward; the result is the same.
  int64_t rows = std::max<int64_t>(hidden.size(0), 1);
  return ChunkedLogprobsFunction::apply(hidden, headWeight, headBias, targets, std::min(chunkRows, rows));
}

torch::Tensor chunkedSequenceTokenLogprobs(const torch::Tensor &hidden, const torch::Tensor &headWeight,
                                           const torch::Tensor &inputIds, int64_t chunkRows) {
  if (hidden.dim() != 3)
    throw Error("chunked sequence log-probs: hidden states must be [batch, sequence, hidden], got " + shapeOf(hidden));
  if (inputIds.dim() != 2 || inputIds.size(0) != hidden.size(0) || inputIds.size(1) != hidden.size(1))
    throw Error("chunked sequence log-probs: input ids must be [" + std::to_string(hidden.size(0)) + ", " +
                std::to_string(hidden.size(1)) + "] (batch and sequence of the hidden states), got " +
                shapeOf(inputIds));
  int64_t batch = hidden.size(0), seq = hidden.size(1), steps = std::max<int64_t>(seq - 1, 0);
  // Position t predicts token t + 1: drop the last position's hidden state and the first token. The
  // reshape copies the hidden states (activation-sized) because dropping a position breaks contiguity.
  torch::Tensor rowsHidden = hidden.narrow(1, 0, steps).reshape({batch * steps, hidden.size(2)});
  torch::Tensor rowsTargets = inputIds.narrow(1, std::min<int64_t>(1, seq), steps).reshape({batch * steps});
  return chunkedTokenLogprobs(rowsHidden, headWeight, rowsTargets, chunkRows).view({batch, steps});
}

} // namespace align::rt
