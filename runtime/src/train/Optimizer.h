//===- Optimizer.h - Optimizers and learning-rate schedules ----*- C++ -*-===//
//
// The schedule block's `optimizer:` and `lr_schedule:` as LibTorch objects. The optimizers are LibTorch's own
// (AdamW, RMSprop, SGD: the same update rules as torch.optim in Python; AdamW steps through ATen's fused kernel,
// train/FusedAdamW.h); the schedules are the formulas of
// transformers' get_{constant,linear,cosine}_schedule_with_warmup with a floor `final` (a fraction of the peak
// lr), evaluated from the step number alone so that a resumed run needs no scheduler state beyond the step.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "align/rt/Trainer.h"

#include <torch/torch.h>

#include <memory>
#include <string>
#include <vector>

namespace align::rt {

/// Parameters trained at `lrScale` × the schedule's learning rate: the model's at 1, a user model's tables at
/// their own `lr` ÷ the stage's (UserModelSpec::lr).
struct ParameterGroup {
  std::vector<torch::Tensor> parameters;
  double lrScale = 1.0;
};

/// A LibTorch optimizer over `groups` (only parameters that require gradients; groups left empty are dropped)
/// as the schedule says: its optimizer kind, lr, betas, eps, weight decay, alpha and momentum. `lrScales`
/// receives each kept group's scale, in the optimizer's group order, for setLearningRate.
std::unique_ptr<torch::optim::Optimizer> makeOptimizer(const ScheduleSpec &schedule,
                                                       const std::vector<ParameterGroup> &groups,
                                                       std::vector<double> *lrScales = nullptr);
/// One group at the schedule's lr.
std::unique_ptr<torch::optim::Optimizer> makeOptimizer(const ScheduleSpec &schedule,
                                                       const std::vector<torch::Tensor> &parameters);

/// Sets the learning rate of every parameter group: lr × the group's scale (1 where `lrScales` has none).
void setLearningRate(torch::optim::Optimizer &optimizer, double lr, const std::vector<double> &lrScales = {});

/// The learning rate of optimizer step `step` (0-based) of `totalSteps`, as transformers computes it, with the
/// schedule's lr as the peak:
///   warmup (step < warmup): peak · step / warmup — so the very first update has lr 0 when warmup > 0;
///   constant: peak;   linear: peak · (f + (1 − f) · (1 − p));   cosine: peak · (f + (1 − f) · ½(1 + cos πp)),
/// where p = (step − warmup) / (totalSteps − warmup), clamped to [0, 1], and f = lrFinal.
double learningRateAt(const ScheduleSpec &schedule, int64_t step, int64_t totalSteps);

} // namespace align::rt
