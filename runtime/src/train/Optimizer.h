//===- Optimizer.h - Optimizers and learning-rate schedules ----*- C++ -*-===//
//
// The schedule block's `optimizer:` and `lr_schedule:` as LibTorch objects. The optimizers are LibTorch's own
// (AdamW, RMSprop, SGD: the same update rules as torch.optim in Python); the schedules are the formulas of
// transformers' get_{constant,linear,cosine}_schedule_with_warmup with a floor `final` (a fraction of the peak
// lr), evaluated from the step number alone so that a resumed run needs no scheduler state beyond the step.
//
//===----------------------------------------------------------------------===//
#pragma once

#include <torch/torch.h>

#include <memory>
#include <string>
#include <vector>

namespace align::rt {

struct OptimizerSettings {
  std::string kind = "adamw"; ///< adamw, rmsprop or sgd
  double lr = 1e-5;
  double beta1 = 0.9, beta2 = 0.999; ///< adamw
  double eps = 1e-8;                  ///< adamw, rmsprop
  double weightDecay = 0.0;
  double alpha = 0.99;    ///< rmsprop smoothing
  double momentum = 0.0;  ///< rmsprop, sgd
};

/// A LibTorch optimizer over `parameters` (only those that require gradients). An unknown kind is an Error.
std::unique_ptr<torch::optim::Optimizer> makeOptimizer(const OptimizerSettings &settings,
                                                       const std::vector<torch::Tensor> &parameters);

/// Sets the learning rate of every parameter group.
void setLearningRate(torch::optim::Optimizer &optimizer, double lr);

struct LrScheduleSettings {
  std::string kind = "cosine"; ///< constant, linear or cosine
  int64_t warmup = 0;          ///< linear warmup steps from 0 to the peak
  double final = 0.0;          ///< the lr after decay, as a fraction of the peak (linear, cosine)
};

/// The learning rate of optimizer step `step` (0-based) of `totalSteps`, as transformers computes it:
///   warmup (step < warmup): peak · step / warmup — so the very first update has lr 0 when warmup > 0;
///   constant: peak;   linear: peak · (f + (1 − f) · (1 − p));   cosine: peak · (f + (1 − f) · ½(1 + cos πp)),
/// where p = (step − warmup) / (totalSteps − warmup), clamped to [0, 1], and f = `final`.
double learningRateAt(const LrScheduleSettings &schedule, double peak, int64_t step, int64_t totalSteps);

} // namespace align::rt
