//===- ChunkedLogprobsTest.cpp - Chunked LM-head log-probs against the unfused path ===//
//
// The chunked path must be the unfused one (logits = hidden @ Wᵀ + b, log_softmax, gather) computed in
// pieces: same values and same gradients w.r.t. hidden states, weight and bias, for every vocabulary and
// chunk size, including chunks of one row, chunks larger than the input and chunks that do not divide it.
// Finite differences check the gradient without reference to torch's autograd, a counting CPU allocator
// checks that no rows × vocab tensor is ever held, and the sequence form is checked against
// tokenLogprobs() of a real (tiny, random) CausalLM, gradients of every parameter included.
//
//===----------------------------------------------------------------------===//

#include "TestModels.h"
#include "align/rt/Error.h"
#include "model/Llama.h"
#include "support/CountingAllocator.h"
#include "objectives/ChunkedLogprobs.h"

#include <c10/core/CPUAllocator.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <functional>
#include <tuple>

using namespace align::rt;
using align::rt::testing::randomModel;
using align::rt::testing::tinyConfig;

namespace {

namespace F = torch::nn::functional;

/// The path this work replaces: the whole rows × vocab logits, then log_softmax and gather.
torch::Tensor unfusedLogprobs(const torch::Tensor &hidden, const torch::Tensor &weight, const torch::Tensor &targets,
                              const torch::Tensor &bias) {
  torch::Tensor logits = F::linear(hidden, weight, bias);
  logits = logits.to(hidden.scalar_type() == torch::kFloat64 ? torch::kFloat64 : torch::kFloat32);
  return torch::log_softmax(logits, -1).gather(-1, targets.unsqueeze(-1)).squeeze(-1);
}

struct Outcome {
  torch::Tensor value, gradHidden, gradWeight, gradBias;
};

using LogprobFn = std::function<torch::Tensor(const torch::Tensor &, const torch::Tensor &, const torch::Tensor &,
                                              const torch::Tensor &)>;

LogprobFn chunked(int64_t chunkRows) {
  return [chunkRows](const torch::Tensor &h, const torch::Tensor &w, const torch::Tensor &t, const torch::Tensor &b) {
    return chunkedTokenLogprobs(h, w, t, chunkRows, b.defined() ? std::optional<torch::Tensor>(b) : std::nullopt);
  };
}

/// Value of `fn` and the gradients of Σ upstream · value, on fresh leaves (a leaf gets no gradient when
/// its `wants…` flag is off, to check that only what is asked for is computed).
Outcome evaluate(const LogprobFn &fn, const torch::Tensor &hidden, const torch::Tensor &weight,
                 const torch::Tensor &targets, const torch::Tensor &bias, const torch::Tensor &upstream,
                 bool wantsHidden = true, bool wantsWeight = true) {
  torch::Tensor h = hidden.detach().clone().requires_grad_(wantsHidden);
  torch::Tensor w = weight.detach().clone().requires_grad_(wantsWeight);
  torch::Tensor b = bias.defined() ? bias.detach().clone().requires_grad_() : torch::Tensor();
  torch::Tensor value = fn(h, w, targets, b);
  (value * upstream).sum().backward();
  return {value.detach(), h.grad(), w.grad(), b.defined() ? b.grad() : torch::Tensor()};
}

double maxAbsDiff(const torch::Tensor &a, const torch::Tensor &b) {
  if (a.numel() == 0 && b.numel() == 0)
    return 0;
  return (a.to(torch::kFloat64) - b.to(torch::kFloat64)).abs().max().item<double>();
}

/// max |a − b| / max(1, max |b|): the float32 gradients of a sum over rows grow with the rows.
double relativeDiff(const torch::Tensor &a, const torch::Tensor &b) {
  double scale = std::max(1.0, b.to(torch::kFloat64).abs().max().item<double>());
  return maxAbsDiff(a, b) / scale;
}

struct Problem {
  torch::Tensor hidden, weight, bias, targets, upstream;
};

Problem randomProblem(int64_t rows, int64_t hiddenSize, int64_t vocab, torch::ScalarType dtype, bool withBias,
                      torch::Device device = torch::kCPU) {
  auto options = torch::TensorOptions().dtype(dtype).device(device);
  Problem p;
  // Logits with standard deviation √hiddenSize / 2: far from uniform, so the softmax gradient is not trivial.
  p.hidden = torch::randn({rows, hiddenSize}, options);
  p.weight = torch::randn({vocab, hiddenSize}, options) * 0.5;
  p.bias = withBias ? torch::randn({vocab}, options) : torch::Tensor();
  p.targets = torch::randint(0, vocab, {rows}, torch::TensorOptions().dtype(torch::kInt64).device(device));
  p.upstream = torch::randn({rows}, options.dtype(dtype == torch::kFloat64 ? torch::kFloat64 : torch::kFloat32));
  return p;
}

/// Largest relative difference between two outcomes over the value and every gradient, and where.
std::pair<double, std::string> worstOf(const Outcome &got, const Outcome &want) {
  std::vector<std::pair<double, std::string>> diffs = {{relativeDiff(got.value, want.value), "value"},
                                                       {relativeDiff(got.gradHidden, want.gradHidden), "grad hidden"},
                                                       {relativeDiff(got.gradWeight, want.gradWeight), "grad weight"}};
  if (want.gradBias.defined())
    diffs.push_back({relativeDiff(got.gradBias, want.gradBias), "grad bias"});
  return *std::max_element(diffs.begin(), diffs.end());
}

/// Vocabularies from tiny to Llama-2's and chunks of one row, of three, of all rows, of more than all and
/// of a size that does not divide the rows, with and without a bias: against the unfused path in the same
/// dtype and, below float64, against the float64 truth too. Returns the worst difference from unfused.
double worstOverSizes(torch::ScalarType dtype, int64_t rows, int64_t hiddenSize, double tolerance,
                      double truthTolerance = 0) {
  double worst = 0;
  for (int64_t vocab : {7, 1000, 32000})
    for (int64_t chunkRows : {int64_t(1), int64_t(3), rows, rows + 5, rows / 2 + 1})
      for (bool withBias : {false, true}) {
        torch::manual_seed(vocab + chunkRows);
        Problem p = randomProblem(rows, hiddenSize, vocab, dtype, withBias);
        std::string context = "vocab " + std::to_string(vocab) + ", chunk " + std::to_string(chunkRows) +
                              (withBias ? ", bias" : "");
        Outcome got = evaluate(chunked(chunkRows), p.hidden, p.weight, p.targets, p.bias, p.upstream);
        auto [diff, where] = worstOf(got, evaluate(unfusedLogprobs, p.hidden, p.weight, p.targets, p.bias, p.upstream));
        EXPECT_LE(diff, tolerance) << where << " against unfused, " << context;
        worst = std::max(worst, diff);
        if (dtype == torch::kFloat64)
          continue;
        auto wide = [](const torch::Tensor &t) { return t.defined() ? t.to(torch::kFloat64) : t; };
        Outcome truth = evaluate(unfusedLogprobs, wide(p.hidden), wide(p.weight), p.targets, wide(p.bias),
                                 wide(p.upstream));
        auto [error, whereError] = worstOf(got, truth);
        EXPECT_LE(error, truthTolerance) << whereError << " against float64, " << context;
      }
  return worst;
}

/// Installs a CountingAllocator as the CPU allocator for its lifetime.
struct CountingScope {
  static CountingAllocator &counter() {
    static CountingAllocator allocator; // outlives every tensor it hands out
    return allocator;
  }
  c10::Allocator *previous;
  CountingScope() : previous(c10::GetCPUAllocator()) {
    counter().base = previous;
    c10::SetCPUAllocator(&counter());
  }
  ~CountingScope() { c10::SetCPUAllocator(previous); }
  int64_t current() const { return counter().current.load(); }
  void resetPeak() { counter().peak = counter().current.load(); }
  int64_t peak() const { return counter().peak.load(); }
};

std::string scientific(double x) {
  char text[32];
  std::snprintf(text, sizeof text, "%.3g", x);
  return text;
}

template <typename Call> void expectError(Call call, const std::string &fragment) {
  try {
    call();
    ADD_FAILURE() << "expected an align::rt::Error mentioning '" << fragment << "'";
  } catch (const Error &e) {
    EXPECT_NE(std::string(e.what()).find(fragment), std::string::npos) << e.what();
  }
}

} // namespace

TEST(ChunkedLogprobs, EqualsUnfusedInFloat64AcrossVocabAndChunkSizes) {
  double worst = worstOverSizes(torch::kFloat64, /*rows=*/10, /*hiddenSize=*/16, 1e-6);
  RecordProperty("worst_relative_difference", scientific(worst));
}

TEST(ChunkedLogprobs, EqualsUnfusedInFloat32AcrossVocabAndChunkSizes) {
  // Within 1e-5 of the exact (float64) answer; the unfused float32 path is itself up to ~1e-5 away from
  // it on 32000-term sums (its log_softmax rounds differently), so the two may differ by both roundings.
  double worst = worstOverSizes(torch::kFloat32, /*rows=*/37, /*hiddenSize=*/64, 2e-5, /*truthTolerance=*/1e-5);
  RecordProperty("worst_relative_difference", scientific(worst));
}

// The implementation walks vocabulary slices when the vocabulary is longer than the rows and row chunks
// otherwise; the tests below run both (a vocabulary longer than the rows, then a shorter one).

TEST(ChunkedLogprobs, GradientsMatchFiniteDifferences) {
  for (auto [rows, vocab, chunkRows] : {std::tuple{4, 5, 3}, std::tuple{6, 3, 4}}) {
    torch::manual_seed(7);
    Problem p = randomProblem(rows, /*hiddenSize=*/3, vocab, torch::kFloat64, /*withBias=*/true);
    Outcome analytic = evaluate(chunked(chunkRows), p.hidden, p.weight, p.targets, p.bias, p.upstream);
    auto loss = [&](const torch::Tensor &h, const torch::Tensor &w, const torch::Tensor &b) {
      torch::NoGradGuard noGrad;
      return (chunkedTokenLogprobs(h, w, p.targets, chunkRows, b) * p.upstream).sum().item<double>();
    };
    // Central differences, one coordinate at a time, of each of the three inputs.
    const double eps = 1e-6;
    auto check = [&](int which, const torch::Tensor &grad) {
      torch::Tensor inputs[3] = {p.hidden.clone(), p.weight.clone(), p.bias.clone()};
      torch::Tensor flat = inputs[which].view(-1);
      torch::Tensor gradFlat = grad.reshape(-1);
      for (int64_t i = 0; i < flat.numel(); ++i) {
        double original = flat[i].item<double>();
        flat[i] = original + eps;
        double up = loss(inputs[0], inputs[1], inputs[2]);
        flat[i] = original - eps;
        double down = loss(inputs[0], inputs[1], inputs[2]);
        flat[i] = original;
        EXPECT_NEAR(gradFlat[i].item<double>(), (up - down) / (2 * eps), 1e-7)
            << "input " << which << ", element " << i << ", vocab " << vocab;
      }
    };
    check(0, analytic.gradHidden);
    check(1, analytic.gradWeight);
    check(2, analytic.gradBias);
  }
}

TEST(ChunkedLogprobs, MaskedRowsGetNoGradient) {
  for (int64_t vocab : {50, 8}) {
    torch::manual_seed(11);
    Problem p = randomProblem(/*rows=*/12, /*hiddenSize=*/8, vocab, torch::kFloat64, /*withBias=*/true);
    torch::Tensor mask = torch::tensor({1, 1, 0, 0, 0, 1, 0, 1, 1, 0, 0, 0}, torch::kFloat64);
    p.upstream = p.upstream * mask; // as padding and prompt tokens are masked out of a sequence log-prob
    Outcome want = evaluate(unfusedLogprobs, p.hidden, p.weight, p.targets, p.bias, p.upstream);
    for (int64_t chunkRows : {1, 5, 12}) {
      Outcome got = evaluate(chunked(chunkRows), p.hidden, p.weight, p.targets, p.bias, p.upstream);
      std::string context = "vocab " + std::to_string(vocab) + ", chunk " + std::to_string(chunkRows);
      EXPECT_LE(maxAbsDiff(got.gradHidden, want.gradHidden), 1e-12) << context;
      EXPECT_LE(maxAbsDiff(got.gradWeight, want.gradWeight), 1e-12) << context;
      EXPECT_LE(maxAbsDiff(got.gradBias, want.gradBias), 1e-12) << context;
      EXPECT_TRUE(got.gradHidden.index({mask == 0}).eq(0).all().item<bool>()) << context;
    }
    Outcome none = evaluate(chunked(5), p.hidden, p.weight, p.targets, p.bias, torch::zeros_like(p.upstream));
    EXPECT_TRUE(none.gradHidden.eq(0).all().item<bool>());
    EXPECT_TRUE(none.gradWeight.eq(0).all().item<bool>());
    EXPECT_TRUE(none.gradBias.eq(0).all().item<bool>());
  }
}

TEST(ChunkedLogprobs, ComputesOnlyTheGradientsAskedFor) {
  for (int64_t vocab : {40, 5}) {
    torch::manual_seed(12);
    Problem p = randomProblem(/*rows=*/9, /*hiddenSize=*/8, vocab, torch::kFloat64, /*withBias=*/false);
    Outcome want = evaluate(unfusedLogprobs, p.hidden, p.weight, p.targets, p.bias, p.upstream);
    // A frozen head (reference model, soft-prompt training): only the hidden states get a gradient.
    Outcome frozenHead = evaluate(chunked(4), p.hidden, p.weight, p.targets, p.bias, p.upstream, true, false);
    EXPECT_FALSE(frozenHead.gradWeight.defined());
    EXPECT_LE(maxAbsDiff(frozenHead.gradHidden, want.gradHidden), 1e-12) << "vocab " << vocab;
    // Detached hidden states: only the head gets one.
    Outcome headOnly = evaluate(chunked(4), p.hidden, p.weight, p.targets, p.bias, p.upstream, false, true);
    EXPECT_FALSE(headOnly.gradHidden.defined());
    EXPECT_LE(maxAbsDiff(headOnly.gradWeight, want.gradWeight), 1e-12) << "vocab " << vocab;
    // Nothing requires grad: a plain tensor, no graph.
    torch::Tensor plain = chunkedTokenLogprobs(p.hidden, p.weight, p.targets, 4);
    EXPECT_FALSE(plain.requires_grad());
    EXPECT_LE(maxAbsDiff(plain, want.value), 1e-12) << "vocab " << vocab;
  }
}

TEST(ChunkedLogprobs, RefusesASecondDerivative) {
  torch::manual_seed(15);
  Problem p = randomProblem(/*rows=*/5, /*hiddenSize=*/4, /*vocab=*/9, torch::kFloat64, /*withBias=*/false);
  torch::Tensor h = p.hidden.clone().requires_grad_(), w = p.weight.clone().requires_grad_();
  torch::Tensor loss = (chunkedTokenLogprobs(h, w, p.targets, 2) * p.upstream).sum();
  auto grads = torch::autograd::grad({loss}, {h}, {}, /*retain_graph=*/true, /*create_graph=*/true);
  // No graph behind the gradient: differentiating it again is an error, not a silent zero.
  EXPECT_FALSE(grads[0].requires_grad());
  EXPECT_THROW(grads[0].sum().backward(), c10::Error);
}

TEST(ChunkedLogprobs, LowPrecisionInputsComputeInFloat32AndReturnInputDtypeGradients) {
  for (torch::ScalarType dtype : {torch::kBFloat16, torch::kFloat16})
    for (int64_t vocab : {300, 16}) {
      torch::manual_seed(13);
      Problem p = randomProblem(/*rows=*/24, /*hiddenSize=*/32, vocab, dtype, /*withBias=*/true);
      Outcome want = evaluate(unfusedLogprobs, p.hidden, p.weight, p.targets, p.bias, p.upstream);
      Outcome got = evaluate(chunked(5), p.hidden, p.weight, p.targets, p.bias, p.upstream);
      std::string context = std::string(c10::toString(dtype)) + ", vocab " + std::to_string(vocab);
      EXPECT_EQ(got.value.scalar_type(), torch::kFloat32);
      EXPECT_EQ(got.gradHidden.scalar_type(), dtype);
      EXPECT_EQ(got.gradWeight.scalar_type(), dtype);
      EXPECT_EQ(got.gradBias.scalar_type(), dtype);
      // Same low-precision logits, so the same log-probs up to float32 rounding.
      EXPECT_LE(relativeDiff(got.value, want.value), 1e-5) << context;
      // Gradients: like the unfused ones, within a few roundings to the input dtype of the exact
      // (float64) gradient; sums across blocks happen in float32, so small chunks do not add error.
      Problem exact = p;
      for (torch::Tensor *t : {&exact.hidden, &exact.weight, &exact.bias})
        *t = t->to(torch::kFloat64);
      Outcome truth = evaluate(unfusedLogprobs, exact.hidden, exact.weight, p.targets, exact.bias,
                               p.upstream.to(torch::kFloat64));
      double ulp = dtype == torch::kBFloat16 ? 1.0 / 128 : 1.0 / 1024;
      EXPECT_LE(relativeDiff(got.gradHidden, truth.gradHidden), 4 * ulp) << context;
      EXPECT_LE(relativeDiff(got.gradWeight, truth.gradWeight), 4 * ulp) << context;
      EXPECT_LE(relativeDiff(got.gradBias, truth.gradBias), 4 * ulp) << context;
      EXPECT_LE(relativeDiff(got.gradWeight, want.gradWeight), 4 * ulp) << context;
      EXPECT_LE(relativeDiff(got.gradHidden, want.gradHidden), 4 * ulp) << context;
    }
}

TEST(ChunkedLogprobs, EmptyInputGivesEmptyOutputAndZeroGradients) {
  Problem p = randomProblem(/*rows=*/0, /*hiddenSize=*/4, /*vocab=*/6, torch::kFloat32, /*withBias=*/true);
  Outcome got = evaluate(chunked(3), p.hidden, p.weight, p.targets, p.bias, p.upstream);
  EXPECT_EQ(got.value.numel(), 0);
  EXPECT_EQ(got.gradHidden.sizes(), p.hidden.sizes());
  EXPECT_TRUE(got.gradWeight.eq(0).all().item<bool>());
  EXPECT_TRUE(got.gradBias.eq(0).all().item<bool>());
}

TEST(ChunkedLogprobs, NeverHoldsRowsTimesVocab) {
  const int64_t hiddenSize = 32, chunkRows = 16;
  for (auto [rows, vocab] : {std::pair<int64_t, int64_t>{256, 4096}, {4096, 256}}) {
    torch::manual_seed(14);
    Problem p = randomProblem(rows, hiddenSize, vocab, torch::kFloat32, /*withBias=*/false);
    torch::Tensor h = p.hidden.clone().requires_grad_(), w = p.weight.clone().requires_grad_();
    const int64_t logitsBytes = rows * vocab * 4, chunkBytes = chunkRows * vocab * 4;
    const int64_t weightBytes = vocab * hiddenSize * 4, hiddenBytes = rows * hiddenSize * 4;
    auto measure = [&](const LogprobFn &fn, int64_t *kept) {
      CountingScope counting;
      int64_t before = counting.current();
      counting.resetPeak();
      torch::Tensor value = fn(h, w, p.targets, torch::Tensor());
      *kept = counting.current() - before; // what forward leaves for backward
      (value * p.upstream).sum().backward();
      int64_t peak = counting.peak() - before;
      h.mutable_grad().reset();
      w.mutable_grad().reset();
      return peak;
    };
    int64_t unfusedKept = 0, chunkedKept = 0;
    int64_t unfusedPeak = measure(unfusedLogprobs, &unfusedKept);
    int64_t chunkedPeak = measure(chunked(chunkRows), &chunkedKept);
    std::string shape = std::to_string(rows) + "x" + std::to_string(vocab);
    RecordProperty("unfused_peak_bytes_" + shape, std::to_string(unfusedPeak));
    RecordProperty("chunked_peak_bytes_" + shape, std::to_string(chunkedPeak));
    EXPECT_GE(unfusedKept, logitsBytes) << shape; // the measurement sees the logits unfused keeps
    EXPECT_LE(chunkedKept, 4 * rows * 4 + 1024) << shape << ": forward keeps only per-row values";
    // The gradients of weight and hidden states (one of them summed in a buffer of its size) plus a
    // few chunk-sized buffers: nothing of rows × vocab.
    EXPECT_LE(chunkedPeak, 2 * (weightBytes + hiddenBytes) + 4 * chunkBytes + 64 * 1024) << shape;
    EXPECT_LT(chunkedPeak, logitsBytes / 2) << shape;
  }
}

TEST(ChunkedLogprobs, RejectsMalformedArguments) {
  torch::Tensor h = torch::randn({4, 8}), w = torch::randn({10, 8}), t = torch::randint(0, 10, {4});
  auto call = [](torch::Tensor hidden, torch::Tensor weight, torch::Tensor targets, int64_t chunkRows,
                 std::optional<torch::Tensor> bias = {}) {
    return [=] { chunkedTokenLogprobs(hidden, weight, targets, chunkRows, bias); };
  };
  expectError(call(h.view({2, 2, 8}), w, t, 2), "hidden states must be [rows, hidden], got [2, 2, 8]");
  expectError(call(h.to(torch::kInt32), w, t, 2), "must be floating point");
  expectError(call(h, torch::randn({10, 7}), t, 2), "LM-head weight must be [vocab, 8]");
  expectError(call(h, w.to(torch::kFloat64), t, 2), "weight must have the hidden states' dtype Float");
  expectError(call(h, w, t.slice(0, 0, 3), 2), "targets must be [4] (one per hidden row), got [3]");
  expectError(call(h, w, t.to(torch::kInt32), 2), "targets must be int64");
  expectError(call(h, w, torch::tensor({0, 1, 10, 2}), 2), "target ids must be in [0, 10), got 10");
  expectError(call(h, w, torch::tensor({0, -1, 3, 2}), 2), "got -1");
  expectError(call(h, w, t, 0), "chunk rows must be at least 1, got 0");
  expectError(call(h, w, t, 2, torch::randn({9})), "LM-head bias must be [10]");
  expectError(call(h, w, t, 2, torch::randn({10}, torch::kFloat64)), "bias must have the hidden states' dtype");
  torch::Tensor ids = torch::randint(0, 10, {2, 5});
  expectError([&] { chunkedSequenceTokenLogprobs(h, w, ids, 2); }, "must be [batch, sequence, hidden]");
  expectError([&] { chunkedSequenceTokenLogprobs(torch::randn({2, 4, 8}), w, ids, 2); }, "input ids must be [2, 4]");
}

TEST(ChunkedLogprobs, SequenceFormEqualsTokenLogprobsOfTheModel) {
  // The model in float64 (the LM head's logits stay float32 on both paths): a float32 comparison of gradients
  // through two layers of 10× weights measured this CPU's kernels (1.0–1.4e-5 apart) rather than the math;
  // in float64 the paths agree to about 2e-7.
  for (bool tied : {false, true}) {
    CausalLM model = randomModel(tinyConfig(2, tied), tied ? 21 : 22);
    model->to(torch::kFloat64);
    torch::manual_seed(23);
    torch::Tensor ids = torch::randint(0, 97, {2, 9}, torch::kInt64);
    torch::Tensor upstream = torch::randn({2, 8}, torch::kFloat64);
    auto run = [&](const std::function<torch::Tensor()> &logprobs) {
      model->zero_grad();
      torch::Tensor value = logprobs();
      (value * upstream).sum().backward();
      std::vector<std::pair<std::string, torch::Tensor>> grads;
      for (const auto &item : model->named_parameters())
        grads.push_back({item.key(), item.value().grad().clone()});
      return std::make_pair(value.detach(), grads);
    };
    auto [want, wantGrads] = run([&] { return tokenLogprobs(model, ids); });
    for (int64_t chunkRows : {1, 5, 16, 64}) {
      auto [got, gotGrads] =
          run([&] { return chunkedSequenceTokenLogprobs(model->hidden(ids), model->headWeight(), ids, chunkRows); });
      ASSERT_EQ(got.sizes(), want.sizes());
      EXPECT_LE(relativeDiff(got, want), 1e-5) << "tied " << tied << ", chunk " << chunkRows;
      for (size_t i = 0; i < gotGrads.size(); ++i)
        EXPECT_LE(relativeDiff(gotGrads[i].second, wantGrads[i].second), 1e-5)
            << gotGrads[i].first << ", tied " << tied << ", chunk " << chunkRows;
    }
  }
}

TEST(ChunkedLogprobs, SequenceFormOfOneTokenIsEmpty) {
  torch::Tensor hidden = torch::randn({3, 1, 8}, torch::requires_grad()), w = torch::randn({10, 8});
  torch::Tensor got = chunkedSequenceTokenLogprobs(hidden, w, torch::randint(0, 10, {3, 1}), 4);
  EXPECT_EQ(got.sizes(), (std::vector<int64_t>{3, 0}));
}

TEST(ChunkedLogprobs, EqualsUnfusedOnCuda) {
  if (!torch::cuda::is_available())
    GTEST_SKIP() << "no CUDA device";
  for (auto [rows, vocab] : {std::pair<int64_t, int64_t>{64, 32000}, {300, 50}}) {
    torch::manual_seed(31);
    Problem p = randomProblem(rows, /*hiddenSize=*/128, vocab, torch::kFloat32, /*withBias=*/true, torch::kCUDA);
    Outcome reference = evaluate(unfusedLogprobs, p.hidden, p.weight, p.targets, p.bias, p.upstream);
    for (int64_t chunkRows : {int64_t(1), int64_t(7), rows}) {
      Outcome got = evaluate(chunked(chunkRows), p.hidden, p.weight, p.targets, p.bias, p.upstream);
      EXPECT_TRUE(got.gradWeight.is_cuda());
      auto [diff, where] = worstOf(got, reference);
      EXPECT_LE(diff, 2e-5) << where << ", float32, vocab " << vocab << ", chunk " << chunkRows;
    }
    // bf16 runs tensor-core products whose rounding may differ by one bf16 step between a chunk's
    // product and the whole one, so the comparison is at bf16 precision.
    Problem low = p;
    for (torch::Tensor *t : {&low.hidden, &low.weight, &low.bias})
      *t = t->to(torch::kBFloat16);
    Outcome want = evaluate(unfusedLogprobs, low.hidden, low.weight, low.targets, low.bias, low.upstream);
    Outcome got = evaluate(chunked(7), low.hidden, low.weight, low.targets, low.bias, low.upstream);
    EXPECT_EQ(got.gradWeight.scalar_type(), torch::kBFloat16);
    auto [diff, where] = worstOf(got, want);
    EXPECT_LE(diff, 4.0 / 128) << where << ", bfloat16, vocab " << vocab;
  }
}

TEST(ChunkedLogprobs, KeptSoftmaxServesOneBackwardAndASecondRecomputes) {
  // One block of 8 × 50 logits is kept from forward (keepsBlock); a second backward through the same graph
  // (retain_graph) finds it used up and recomputes: both must give the same gradients.
  torch::manual_seed(21);
  Problem p = randomProblem(8, 16, 50, torch::kFloat32, /*withBias=*/false);
  torch::Tensor h = p.hidden.clone().requires_grad_(), w = p.weight.clone().requires_grad_();
  torch::Tensor loss = (chunkedTokenLogprobs(h, w, p.targets, 64) * p.upstream).sum();
  loss.backward({}, /*retain_graph=*/true);
  torch::Tensor firstH = h.grad().clone(), firstW = w.grad().clone();
  loss.backward();
  EXPECT_TRUE(torch::allclose(h.grad(), 2 * firstH, 1e-6, 1e-7));
  EXPECT_TRUE(torch::allclose(w.grad(), 2 * firstW, 1e-6, 1e-7));
  torch::Tensor hu = p.hidden.clone().requires_grad_(), wu = p.weight.clone().requires_grad_();
  torch::Tensor logits = torch::log_softmax(torch::mm(hu, wu.t()), -1);
  (logits.gather(1, p.targets.unsqueeze(1)).squeeze(1) * p.upstream).sum().backward();
  EXPECT_TRUE(torch::allclose(firstH, hu.grad(), 1e-5, 1e-6));
  EXPECT_TRUE(torch::allclose(firstW, wu.grad(), 1e-5, 1e-6));
}
