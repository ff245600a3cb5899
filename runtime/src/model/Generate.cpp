//===- Generate.cpp - Sampling from a causal LM with a KV cache -----------===//
//
// The decode loop (decodeBlock) keeps everything per step on the model's device except the sampled ids, which
// come back to the host (eos checks and the output need them) and go out again as the next input. On the CPU
// the cuts are found from a histogram of each row rather than a sort, and the draw is one cumulative walk:
// torch's sort of [128, 32000] float32 takes ≈ 0.3 s on two cores and multinomial ≈ 0.15 s, which is most
// of what transformers spends per step there (bench/README.md §generate_vs_transformers).
//
//===----------------------------------------------------------------------===//

#include "model/Generate.h"

#include "align/rt/Error.h"
#include "support/SplitMix64.h"

#include <ATen/Parallel.h>

#include <algorithm>
#include <cstring>
#include <map>
#include <numeric>
#include <tuple>

namespace align::rt {

namespace {

void checkOptions(const SamplingOptions &options) {
  if (!(options.topP > 0 && options.topP <= 1))
    throw Error("top_p must be in (0, 1], got " + std::to_string(options.topP));
  if (options.topK < 0)
    throw Error("top_k must be 0 (no cut) or positive, got " + std::to_string(options.topK));
  if (options.maxNewTokens < 0)
    throw Error("max_new_tokens must be >= 0, got " + std::to_string(options.maxNewTokens));
}

uint64_t mix(uint64_t x) { return SplitMix64(x).next(); }

/// The stream key of sample `sample` of prompt `prompt` under `seed`; the step is mixed in per draw.
uint64_t streamKey(uint64_t seed, int64_t prompt, int64_t sample) {
  return mix(mix(mix(seed) ^ static_cast<uint64_t>(prompt)) ^ static_cast<uint64_t>(sample));
}

double uniformAt(uint64_t key, int64_t step) {
  return static_cast<double>(mix(key ^ static_cast<uint64_t>(step)) >> 11) * 0x1.0p-53;
}

/// The nucleus cut among `values` (any order; reordered) given `need`, the mass still to reach: the m-th largest
/// value, where m is the fewest largest values whose sum reaches `need` (the smallest value when they never
/// do). Three-way quickselect on mass: expected O(n).
float nucleusCut(std::vector<float> &values, double need) {
  size_t lo = 0, hi = values.size();
  float smallest = values.empty() ? 0.0f : *std::min_element(values.begin(), values.end());
  while (lo < hi) {
    const size_t mid = lo + (hi - lo) / 2;
    const float a = values[lo], b = values[mid], c = values[hi - 1];
    const float pivot = std::max(std::min(a, b), std::min(std::max(a, b), c)); // median of three
    size_t gt = lo, i = lo, lt = hi; // [lo, gt) > pivot, [gt, lt) == pivot, [lt, hi) < pivot
    while (i < lt) {
      if (values[i] > pivot)
        std::swap(values[gt++], values[i++]);
      else if (values[i] < pivot)
        std::swap(values[i], values[--lt]);
      else
        ++i;
    }
    double above = 0;
    for (size_t k = lo; k < gt; ++k)
      above += values[k];
    if (above >= need) {
      hi = gt; // the cut is among the larger values
      continue;
    }
    const double equal = static_cast<double>(lt - gt) * pivot;
    if (above + equal >= need)
      return pivot;
    need -= above + equal;
    lo = lt;
  }
  return smallest;
}

/// Probabilities bucketed by their float's top bits (sign, exponent, 4 mantissa bits): for x ≥ 0 the bit
/// pattern orders like the value, so a bucket holds values within a factor 17/16 of each other and every
/// value of a higher bucket is larger. Values ≤ 1 use buckets 0 .. (bits of 1.0f) >> 19.
constexpr int kBucketShift = 19;
constexpr uint32_t kBuckets = (0x3F800000u >> kBucketShift) + 1;

inline uint32_t bucketOf(float x) {
  uint32_t bits;
  std::memcpy(&bits, &x, sizeof bits);
  return std::min(bits >> kBucketShift, kBuckets - 1);
}

/// One row's cuts, from the histogram of its probabilities: the values ≥ `lowest` are kept, with total mass
/// `kept`. Per row: one histogram pass, one pass per cut to collect the bucket it falls in, and a selection
/// among that bucket's values.
struct RowCuts {
  float lowest = 0;
  double kept = 0;
};

class CutFinder {
public:
  RowCuts find(const float *p, int64_t vocab, const SamplingOptions &options) {
    std::fill(mass_.begin(), mass_.end(), 0.0);
    std::fill(count_.begin(), count_.end(), 0);
    bucket_.resize(static_cast<size_t>(vocab));
    for (int64_t i = 0; i < vocab; ++i) {
      const uint32_t b = bucketOf(p[i]);
      bucket_[static_cast<size_t>(i)] = static_cast<uint16_t>(b);
      mass_[b] += p[i];
      count_[b] += 1;
    }
    RowCuts cuts;
    for (uint32_t b = 0; b < kBuckets; ++b)
      cuts.kept += mass_[b];
    // Buckets above `partial` count whole; bucket `partial` counts only its values ≥ cuts.lowest, of mass
    // partialMass (none yet: every bucket whole).
    int64_t partial = -1;
    double partialMass = 0;
    if (options.topK > 0 && options.topK < vocab) {
      int64_t above = 0, b = kBuckets - 1;
      for (; b > 0 && above + count_[static_cast<size_t>(b)] < options.topK; --b)
        above += count_[static_cast<size_t>(b)];
      collect(p, vocab, static_cast<uint32_t>(b), 0);
      const size_t rank = static_cast<size_t>(options.topK - above - 1); // the k-th largest, within the bucket
      std::nth_element(values_.begin(), values_.begin() + static_cast<std::ptrdiff_t>(rank), values_.end(),
                       std::greater<float>());
      cuts.lowest = values_[rank];
      partial = b;
      partialMass = 0;
      for (float v : values_)
        if (v >= cuts.lowest)
          partialMass += v;
      cuts.kept = partialMass;
      for (uint32_t c = static_cast<uint32_t>(b) + 1; c < kBuckets; ++c)
        cuts.kept += mass_[c];
    }
    if (options.topP < 1) {
      const double need = options.topP * cuts.kept;
      double above = 0;
      int64_t b = kBuckets - 1;
      auto massOf = [&](int64_t c) { return c > partial ? mass_[static_cast<size_t>(c)] : c == partial ? partialMass : 0.0; };
      for (; b > 0 && above + massOf(b) < need; --b)
        above += massOf(b);
      collect(p, vocab, static_cast<uint32_t>(b), cuts.lowest);
      if (!values_.empty()) {
        // The fewest largest values whose mass reaches `need`; the last of them is the cut (its ties stay too).
        cuts.lowest = std::max(cuts.lowest, nucleusCut(values_, need - above));
        cuts.kept = above;
        for (float v : values_)
          if (v >= cuts.lowest)
            cuts.kept += v;
      }
    }
    return cuts;
  }

private:
  /// values_ = the values of bucket `bucket` that are ≥ `lowest` (branch-free: each value is written, and
  /// the end advances past it when it belongs).
  void collect(const float *p, int64_t vocab, uint32_t bucket, float lowest) {
    values_.resize(static_cast<size_t>(count_[bucket]) + 1);
    float *out = values_.data();
    const uint16_t *buckets = bucket_.data();
    const uint16_t wanted = static_cast<uint16_t>(bucket);
    size_t n = 0;
    for (int64_t i = 0; i < vocab; ++i) {
      out[n] = p[i];
      n += (buckets[i] == wanted) & (p[i] >= lowest);
    }
    values_.resize(n);
  }

  std::vector<double> mass_ = std::vector<double>(kBuckets);
  std::vector<int64_t> count_ = std::vector<int64_t>(kBuckets);
  std::vector<uint16_t> bucket_; // each token's bucket (kBuckets < 2^16)
  std::vector<float> values_;
};

/// Σ of p[i] ≥ lowest over [0, n), four partial sums (one dependent chain would cost 4 cycles per token).
inline double keptSum(const float *p, int64_t n, float lowest) {
  double s[4] = {0, 0, 0, 0};
  int64_t i = 0;
  for (; i + 4 <= n; i += 4)
    for (int k = 0; k < 4; ++k)
      s[k] += p[i + k] >= lowest ? p[i + k] : 0.0f;
  for (; i < n; ++i)
    s[0] += p[i] >= lowest ? p[i] : 0.0f;
  return (s[0] + s[1]) + (s[2] + s[3]);
}

/// The draw: the first kept token (p > 0, p ≥ lowest; vocabulary order) whose cumulative probability exceeds
/// `target`, the cumulative sum taken block by block (blocks the target lies beyond are summed, not walked).
int64_t drawToken(const float *p, int64_t vocab, float lowest, double target) {
  constexpr int64_t kBlock = 256;
  double sum = 0;
  for (int64_t start = 0; start < vocab; start += kBlock) {
    const int64_t n = std::min(kBlock, vocab - start);
    const double block = keptSum(p + start, n, lowest);
    if (sum + block <= target) {
      sum += block;
      continue;
    }
    for (int64_t i = start; i < start + n; ++i)
      if (p[i] > 0 && p[i] >= lowest) {
        sum += p[i];
        if (sum > target)
          return i;
      }
  }
  for (int64_t i = vocab; i-- > 0;) // rounding left the target at the end: the last kept token
    if (p[i] > 0 && p[i] >= lowest)
      return i;
  return 0;
}

/// CpuSelect: each row's cuts from its histogram, then the draw with u × kept mass, rows in parallel.
torch::Tensor sampleRowsCpu(const torch::Tensor &probs, const SamplingOptions &options, const torch::Tensor &uniforms) {
  const int64_t rows = probs.size(0), vocab = probs.size(1);
  torch::Tensor out = torch::empty({rows}, torch::kInt64);
  const float *data = probs.data_ptr<float>();
  const double *u = uniforms.data_ptr<double>();
  int64_t *ids = out.data_ptr<int64_t>();
  const bool cut = options.topP < 1 || (options.topK > 0 && options.topK < vocab);
  at::parallel_for(0, rows, 1, [&](int64_t begin, int64_t end) {
    CutFinder finder;
    for (int64_t r = begin; r < end; ++r) {
      const float *p = data + r * vocab;
      RowCuts cuts;
      if (cut)
        cuts = finder.find(p, vocab, options);
      else
        cuts.kept = keptSum(p, vocab, 0.0f);
      ids[r] = drawToken(p, vocab, cuts.lowest, u[r] * cuts.kept);
    }
  });
  return out;
}

/// Portable: the same cuts and draw with tensor operations on the probabilities' device.
torch::Tensor sampleRowsPortable(torch::Tensor probs, const SamplingOptions &options, const torch::Tensor &uniforms) {
  const int64_t vocab = probs.size(1);
  if (options.topK > 0 && options.topK < vocab) {
    torch::Tensor kth = std::get<0>(probs.topk(options.topK, -1)).narrow(1, options.topK - 1, 1);
    probs = probs.masked_fill(probs < kth, 0);
  }
  if (options.topP < 1) {
    torch::Tensor sorted = std::get<0>(probs.sort(-1, /*descending=*/true));
    torch::Tensor cumulative = sorted.cumsum(-1);
    torch::Tensor need = cumulative.narrow(1, vocab - 1, 1) * options.topP;
    torch::Tensor m = torch::searchsorted(cumulative, need).clamp_max(vocab - 1); // first prefix reaching it
    probs = probs.masked_fill(probs < sorted.gather(1, m), 0);
  }
  torch::Tensor cumulative = probs.cumsum(-1);
  torch::Tensor target = uniforms.to(probs.device(), torch::kFloat32).unsqueeze(1) * cumulative.narrow(1, vocab - 1, 1);
  torch::Tensor ids = torch::searchsorted(cumulative, target, /*out_int32=*/false, /*right=*/true).clamp_max(vocab - 1);
  // Rounding can leave the target at the end, past the last kept token: take the most likely one there.
  ids = torch::where(probs.gather(1, ids) > 0, ids, probs.argmax(-1, /*keepdim=*/true));
  return ids.squeeze(1).to(torch::kCPU);
}

/// One block of rows decoded together. Rows with the same prompt (and soft-token row) share the prompt pass.
struct BlockRows {
  std::vector<const std::vector<int64_t> *> prompts; ///< per row
  std::vector<int64_t> softRow;                      ///< per row: its row of the soft tokens (-1: none)
  std::vector<uint64_t> keys;                        ///< per row: its random stream
};

std::vector<std::vector<int64_t>> decodeBlock(CausalLM &model, const BlockRows &block, const SamplingOptions &options,
                                              int64_t padId, const torch::Tensor &softTokens) {
  const int64_t rows = static_cast<int64_t>(block.prompts.size());
  std::vector<std::vector<int64_t>> out(static_cast<size_t>(rows));
  if (rows == 0 || options.maxNewTokens == 0)
    return out;
  const torch::Device device = model->headWeight().device();
  const int64_t vocab = model->config.vocabSize, maxPositions = model->config.maxPositionEmbeddings;
  const int64_t soft = softTokens.defined() ? softTokens.size(1) : 0;

  // The distinct prompts (with their soft-token row) and which one each row reads.
  std::map<std::pair<int64_t, std::vector<int64_t>>, int64_t> seen;
  std::vector<int64_t> rowPrompt(static_cast<size_t>(rows)), uniqueSoftRow;
  std::vector<const std::vector<int64_t> *> unique;
  for (int64_t r = 0; r < rows; ++r) {
    const auto &prompt = *block.prompts[static_cast<size_t>(r)];
    const int64_t softRow = block.softRow[static_cast<size_t>(r)];
    auto [it, fresh] = seen.emplace(std::make_pair(softRow, prompt), static_cast<int64_t>(unique.size()));
    if (fresh) {
      unique.push_back(&prompt);
      uniqueSoftRow.push_back(softRow);
    }
    rowPrompt[static_cast<size_t>(r)] = it->second;
  }
  const int64_t distinct = static_cast<int64_t>(unique.size());

  // The left-padded block: padding, the first token, the soft tokens, the rest of the prompt.
  int64_t width = 0;
  for (const auto *prompt : unique)
    width = std::max<int64_t>(width, static_cast<int64_t>(prompt->size()) + soft);
  std::vector<int64_t> ids(static_cast<size_t>(distinct * width), padId);
  std::vector<uint8_t> real(ids.size(), 0), softSlot(ids.size(), 0);
  std::vector<int64_t> length(static_cast<size_t>(distinct)); // positions of the prompt pass, per prompt
  for (int64_t u = 0; u < distinct; ++u) {
    const auto &prompt = *unique[static_cast<size_t>(u)];
    length[static_cast<size_t>(u)] = static_cast<int64_t>(prompt.size()) + soft;
    const size_t from = static_cast<size_t>(u * width + width - length[static_cast<size_t>(u)]);
    for (size_t k = 0, col = from; k < prompt.size(); ++k, ++col) {
      if (prompt[k] < 0 || prompt[k] >= vocab)
        throw Error("prompt token id " + std::to_string(prompt[k]) + " is outside the vocabulary of " +
                    std::to_string(vocab));
      if (k == 1)
        col += static_cast<size_t>(soft);
      ids[col] = prompt[k];
    }
    std::fill(real.begin() + static_cast<std::ptrdiff_t>(from),
              real.begin() + static_cast<std::ptrdiff_t>((u + 1) * width), 1);
    std::fill(softSlot.begin() + static_cast<std::ptrdiff_t>(from + 1),
              softSlot.begin() + static_cast<std::ptrdiff_t>(from + 1 + static_cast<size_t>(soft)), 1);
  }
  auto blockTensor = [&](auto &values, torch::ScalarType type) {
    return torch::from_blob(values.data(), {distinct, width}, type).clone().to(device);
  };
  torch::Tensor input = blockTensor(ids, torch::kInt64);
  torch::Tensor realMask = blockTensor(real, torch::kUInt8).to(torch::kBool);
  torch::Tensor positions = (realMask.to(torch::kInt64).cumsum(1) - 1).clamp_min(0);
  torch::Tensor embeddings = model->model->embed_tokens(input);
  if (soft > 0) {
    if (softTokens.size(2) != embeddings.size(2))
      throw Error("soft tokens must be [rows, T, hidden] with the model's hidden size");
    std::vector<int64_t> which(uniqueSoftRow.begin(), uniqueSoftRow.end());
    torch::Tensor mine = softTokens.to(device, embeddings.scalar_type())
                             .index_select(0, torch::tensor(which, torch::kInt64).to(device));
    torch::Tensor slots = blockTensor(softSlot, torch::kUInt8).to(torch::kBool).unsqueeze(-1).expand_as(embeddings);
    embeddings = embeddings.masked_scatter(slots, mine.contiguous());
  }

  // The prompt pass, then its cache and last logits copied out to the rows.
  // The cache holds every position the block can reach (the prompt, then one per token but the last), so
  // decoding writes in place; the key mask lives in a buffer of the same width.
  KVCache cache;
  cache.capacity = width + options.maxNewTokens - 1;
  torch::Tensor maskBuffer = torch::zeros({distinct, std::max(cache.capacity, width)}, realMask.options());
  maskBuffer.narrow(1, 0, width).copy_(realMask);
  cache.keyMask = maskBuffer.narrow(1, 0, width);
  torch::Tensor hidden = model->model->forward(embeddings, positions, &cache);
  torch::Tensor logits = torch::nn::functional::linear(hidden.select(1, width - 1), model->headWeight());
  torch::Tensor nextPosition = positions.select(1, width - 1) + 1; // [batch] where each row's next token goes
  bool identity = distinct == rows;
  for (int64_t r = 0; identity && r < rows; ++r)
    identity = rowPrompt[static_cast<size_t>(r)] == r;
  if (!identity) {
    torch::Tensor expand = torch::tensor(rowPrompt, torch::kInt64).to(device);
    for (size_t l = 0; l < cache.keys.size(); ++l) {
      cache.keys[l] = cache.keys[l].index_select(0, expand);
      cache.values[l] = cache.values[l].index_select(0, expand);
    }
    maskBuffer = maskBuffer.index_select(0, expand);
    logits = logits.index_select(0, expand);
    nextPosition = nextPosition.index_select(0, expand);
  }

  // live[b]: the row in batch slot b; finished rows stay in the batch until compaction drops them.
  std::vector<int64_t> live(static_cast<size_t>(rows));
  std::iota(live.begin(), live.end(), 0);
  std::vector<uint8_t> done(static_cast<size_t>(rows), 0);
  int64_t running = rows, finishedInBatch = 0;
  for (int64_t r = 0; r < rows; ++r)
    if (length[static_cast<size_t>(rowPrompt[static_cast<size_t>(r)])] > maxPositions) // no position for the prompt
      done[static_cast<size_t>(r)] = 1, --running, ++finishedInBatch;
  const bool greedy = options.temperature <= 0;
  for (int64_t step = 0; running > 0; ++step) {
    const int64_t batch = static_cast<int64_t>(live.size());
    torch::Tensor uniforms = torch::zeros({batch}, torch::kFloat64);
    if (!greedy) {
      double *u = uniforms.data_ptr<double>();
      for (int64_t b = 0; b < batch; ++b)
        u[b] = uniformAt(block.keys[static_cast<size_t>(live[static_cast<size_t>(b)])], step);
    }
    torch::Tensor chosen = sampleTokens(logits, options, uniforms);
    const int64_t *picked = chosen.data_ptr<int64_t>();
    for (int64_t b = 0; b < batch; ++b) {
      const size_t r = static_cast<size_t>(live[static_cast<size_t>(b)]);
      if (done[r])
        continue;
      out[r].push_back(picked[b]);
      const int64_t produced = static_cast<int64_t>(out[r].size());
      const int64_t promptLength = length[static_cast<size_t>(rowPrompt[r])];
      if ((options.eosId && picked[b] == *options.eosId) || produced >= options.maxNewTokens ||
          promptLength + produced - 1 >= maxPositions) // its next token would have no position
        done[r] = 1, --running, ++finishedInBatch;
    }
    if (running == 0)
      break;
    // Drop finished rows once they are a tenth of the batch: one copy of the cache (what each step's append
    // costs anyway) against their share of every later step. Measured (bench/README.md): 128 rows whose
    // lengths spread over 1..440 tokens took 7.1 s of CPU without dropping, 3.1 s at a quarter, 2.2–2.4 s at
    // a tenth; the ids do not change.
    if (finishedInBatch > 0 && finishedInBatch * 10 >= batch) {
      std::vector<int64_t> keep;
      std::vector<int64_t> kept;
      for (int64_t b = 0; b < batch; ++b)
        if (!done[static_cast<size_t>(live[static_cast<size_t>(b)])]) {
          keep.push_back(b);
          kept.push_back(live[static_cast<size_t>(b)]);
        }
      torch::Tensor index = torch::tensor(keep, torch::kInt64);
      chosen = chosen.index_select(0, index);
      index = index.to(device);
      for (size_t l = 0; l < cache.keys.size(); ++l) {
        cache.keys[l] = cache.keys[l].index_select(0, index);
        cache.values[l] = cache.values[l].index_select(0, index);
      }
      maskBuffer = maskBuffer.index_select(0, index);
      nextPosition = nextPosition.index_select(0, index);
      live = std::move(kept);
      finishedInBatch = 0;
    }
    const int64_t fed = static_cast<int64_t>(live.size());
    maskBuffer.select(1, cache.length).fill_(true);
    cache.keyMask = maskBuffer.narrow(1, 0, cache.length + 1);
    hidden = model->model->forward(model->model->embed_tokens(chosen.to(device).view({fed, 1})),
                                   nextPosition.view({fed, 1}), &cache);
    logits = torch::nn::functional::linear(hidden.select(1, 0), model->headWeight());
    nextPosition = nextPosition + 1;
  }
  return out;
}

std::vector<int64_t> promptOrder(const std::vector<std::vector<int64_t>> &prompts, const std::vector<SampleSlot> &slots) {
  std::vector<int64_t> order(slots.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) {
    const SampleSlot &x = slots[static_cast<size_t>(a)], &y = slots[static_cast<size_t>(b)];
    const size_t lx = prompts[static_cast<size_t>(x.prompt)].size(), ly = prompts[static_cast<size_t>(y.prompt)].size();
    return std::tie(lx, x.prompt, x.sample) < std::tie(ly, y.prompt, y.sample);
  });
  return order;
}

void checkSoftTokens(const torch::Tensor &softTokens, size_t count, const char *what) {
  if (!softTokens.defined())
    return;
  if (softTokens.dim() != 3 || (softTokens.size(0) != 1 && softTokens.size(0) != static_cast<int64_t>(count)))
    throw Error(std::string("soft tokens must be [1, T, hidden] or [") + what + ", T, hidden]");
}

void checkPrompts(const std::vector<std::vector<int64_t>> &prompts) {
  for (const auto &prompt : prompts)
    if (prompt.empty())
      throw Error("generation needs a prompt of at least one token");
}

} // namespace

double sampleUniform(uint64_t seed, int64_t prompt, int64_t sample, int64_t step) {
  return uniformAt(streamKey(seed, prompt, sample), step);
}

torch::Tensor sampleTokens(const torch::Tensor &logits, const SamplingOptions &options, const torch::Tensor &uniforms,
                           SamplingKernel kernel) {
  torch::NoGradGuard noGrad;
  if (options.temperature <= 0)
    return logits.argmax(-1).to(torch::kCPU);
  torch::Tensor scaled = logits.to(torch::kFloat32);
  if (options.temperature != 1.0)
    scaled = scaled / options.temperature;
  torch::Tensor probs = torch::softmax(scaled, -1).contiguous();
  if (kernel == SamplingKernel::Auto)
    kernel = probs.is_cpu() ? SamplingKernel::CpuSelect : SamplingKernel::Portable;
  if (kernel == SamplingKernel::CpuSelect) {
    if (!probs.is_cpu())
      throw Error("the CpuSelect sampling kernel needs CPU logits");
    return sampleRowsCpu(probs, options, uniforms.to(torch::kFloat64).contiguous());
  }
  return sampleRowsPortable(probs, options, uniforms);
}

std::vector<int64_t> generate(CausalLM &model, const std::vector<int64_t> &prompt, const SamplingOptions &options,
                              const torch::Tensor &softTokens) {
  return generateBatch(model, {prompt}, options, 0, softTokens)[0];
}

std::vector<std::vector<int64_t>> generateBatch(CausalLM &model, const std::vector<std::vector<int64_t>> &prompts,
                                                const SamplingOptions &options, int64_t padId,
                                                const torch::Tensor &softTokens) {
  checkOptions(options);
  checkPrompts(prompts);
  checkSoftTokens(softTokens, prompts.size(), "rows");
  torch::NoGradGuard noGrad;
  BlockRows block;
  for (size_t r = 0; r < prompts.size(); ++r) {
    block.prompts.push_back(&prompts[r]);
    block.softRow.push_back(!softTokens.defined() ? -1 : softTokens.size(0) == 1 ? 0 : static_cast<int64_t>(r));
    block.keys.push_back(streamKey(options.seed, static_cast<int64_t>(r), 0));
  }
  return decodeBlock(model, block, options, padId, softTokens);
}

std::vector<std::vector<int64_t>> generateRows(CausalLM &model, const std::vector<std::vector<int64_t>> &prompts,
                                               const std::vector<SampleSlot> &slots, const SamplingOptions &options,
                                               int64_t padId, int64_t maxRowsPerBatch, const torch::Tensor &softTokens) {
  checkOptions(options);
  checkPrompts(prompts);
  checkSoftTokens(softTokens, prompts.size(), "prompts");
  if (maxRowsPerBatch < 1)
    throw Error("generation needs a batch of at least one row, got " + std::to_string(maxRowsPerBatch));
  for (const SampleSlot &slot : slots)
    if (slot.prompt < 0 || slot.prompt >= static_cast<int64_t>(prompts.size()) || slot.sample < 0)
      throw Error("sample slot (" + std::to_string(slot.prompt) + ", " + std::to_string(slot.sample) +
                  ") names no prompt of " + std::to_string(prompts.size()));
  torch::NoGradGuard noGrad;
  std::vector<std::vector<int64_t>> out(slots.size());
  const std::vector<int64_t> order = promptOrder(prompts, slots);
  for (size_t from = 0; from < order.size(); from += static_cast<size_t>(maxRowsPerBatch)) {
    const size_t to = std::min(order.size(), from + static_cast<size_t>(maxRowsPerBatch));
    BlockRows block;
    for (size_t k = from; k < to; ++k) {
      const SampleSlot &slot = slots[static_cast<size_t>(order[k])];
      block.prompts.push_back(&prompts[static_cast<size_t>(slot.prompt)]);
      block.softRow.push_back(!softTokens.defined() ? -1 : softTokens.size(0) == 1 ? 0 : slot.prompt);
      block.keys.push_back(streamKey(options.seed, slot.prompt, slot.sample));
    }
    std::vector<std::vector<int64_t>> answers = decodeBlock(model, block, options, padId, softTokens);
    for (size_t k = from; k < to; ++k)
      out[static_cast<size_t>(order[k])] = std::move(answers[k - from]);
  }
  return out;
}

std::vector<std::vector<std::vector<int64_t>>> generateSamples(CausalLM &model,
                                                               const std::vector<std::vector<int64_t>> &prompts,
                                                               int64_t samplesPerPrompt, const SamplingOptions &options,
                                                               int64_t padId, int64_t maxRowsPerBatch,
                                                               const torch::Tensor &softTokens) {
  if (samplesPerPrompt < 1)
    throw Error("generation needs at least one sample per prompt, got " + std::to_string(samplesPerPrompt));
  std::vector<SampleSlot> slots;
  for (size_t i = 0; i < prompts.size(); ++i)
    for (int64_t j = 0; j < samplesPerPrompt; ++j)
      slots.push_back({static_cast<int64_t>(i), j});
  std::vector<std::vector<int64_t>> rows = generateRows(model, prompts, slots, options, padId, maxRowsPerBatch, softTokens);
  std::vector<std::vector<std::vector<int64_t>>> out(prompts.size());
  for (size_t k = 0; k < slots.size(); ++k)
    out[static_cast<size_t>(slots[k].prompt)].push_back(std::move(rows[k]));
  return out;
}

} // namespace align::rt
