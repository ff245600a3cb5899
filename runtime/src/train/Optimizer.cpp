//===- Optimizer.cpp - Optimizers and learning-rate schedules -------------===//

#include "train/Optimizer.h"

#include "align/rt/Error.h"

#include <algorithm>
#include <cmath>

namespace align::rt {

std::unique_ptr<torch::optim::Optimizer> makeOptimizer(const ScheduleSpec &s,
                                                       const std::vector<torch::Tensor> &parameters) {
  std::vector<torch::Tensor> trainable;
  for (const auto &p : parameters)
    if (p.requires_grad())
      trainable.push_back(p);
  if (trainable.empty())
    throw Error("optimizer: the model has no trainable parameters");
  switch (s.optimizer) {
  case OptimizerKind::adamw:
    return std::make_unique<torch::optim::AdamW>(
        trainable,
        torch::optim::AdamWOptions(s.lr).betas({s.beta1, s.beta2}).eps(s.eps).weight_decay(s.weightDecay));
  case OptimizerKind::rmsprop:
    return std::make_unique<torch::optim::RMSprop>(
        trainable,
        torch::optim::RMSpropOptions(s.lr).alpha(s.alpha).eps(s.eps).weight_decay(s.weightDecay).momentum(s.momentum));
  case OptimizerKind::sgd:
    return std::make_unique<torch::optim::SGD>(
        trainable, torch::optim::SGDOptions(s.lr).momentum(s.momentum).weight_decay(s.weightDecay));
  }
  throw Error(std::string("optimizer: '") + spelling(s.optimizer) + "' is not executed by the runtime");
}

void setLearningRate(torch::optim::Optimizer &optimizer, double lr) {
  for (auto &group : optimizer.param_groups())
    group.options().set_lr(lr);
}

double learningRateAt(const ScheduleSpec &schedule, int64_t step, int64_t totalSteps) {
  const double peak = schedule.lr;
  if (step < schedule.warmup)
    return peak * static_cast<double>(step) / static_cast<double>(std::max<int64_t>(1, schedule.warmup));
  if (schedule.lrSchedule == LRScheduleKind::constant)
    return peak;
  const double span = static_cast<double>(std::max<int64_t>(1, totalSteps - schedule.warmup));
  const double progress = std::clamp(static_cast<double>(step - schedule.warmup) / span, 0.0, 1.0);
  const double f = schedule.lrFinal;
  if (schedule.lrSchedule == LRScheduleKind::linear)
    return peak * (f + (1.0 - f) * (1.0 - progress));
  return peak * (f + (1.0 - f) * 0.5 * (1.0 + std::cos(M_PI * progress))); // cosine
}

} // namespace align::rt
