//===- Precision.h - Which precision a stage computes in, and the scope that applies it -*- C++ -*-===//
//
// `precision: auto` (the schedule's default) is decided here, where the device is known: bf16 autocast on a
// GPU, and on a CPU that multiplies bf16 natively (AMX-BF16 or AVX512-BF16: oneDNN's bf16 matrix products
// ran at 1.3–1.5 TFLOP/s on two cores of the development machine against 0.21–0.27 for float32); float32
// elsewhere. bf16 means autocast: matrix products and attention in bf16 over float32 master weights,
// gradients and optimizer state; norms, softmaxes, log-prob sums and losses in float32.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "align/rt/Trainer.h"

#include <torch/torch.h>

#include <string>

namespace align::rt {

struct PrecisionChoice {
  bool bf16 = false;
  std::string reason; ///< one line for the stage's log: what was asked and why this
};

/// What `requested` means on `device`. fp16 is refused (no loss scaling).
PrecisionChoice choosePrecision(Precision requested, torch::Device device);

/// Whether this CPU has native bf16 matrix instructions (amx_bf16 or avx512_bf16 in /proc/cpuinfo's flags).
bool cpuHasNativeBf16();

/// Autocast to bf16 for the forward passes inside it when the choice says bf16. Scopes nest (the online
/// reference pass runs inside the policy's): each restores what it found, the outermost clears the cast cache.
class PrecisionScope {
public:
  PrecisionScope(Precision precision, torch::Device device);
  ~PrecisionScope();
  PrecisionScope(const PrecisionScope &) = delete;
  PrecisionScope &operator=(const PrecisionScope &) = delete;

private:
  bool active_ = false, wasEnabled_ = false;
  at::DeviceType type_ = at::kCPU;
  at::ScalarType wasType_ = at::kBFloat16;
};

} // namespace align::rt
