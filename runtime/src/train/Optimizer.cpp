//===- Optimizer.cpp - Optimizers and learning-rate schedules -------------===//

#include "train/Optimizer.h"

#include "align/rt/Error.h"

#include <algorithm>
#include <cmath>

namespace align::rt {

std::unique_ptr<torch::optim::Optimizer> makeOptimizer(const OptimizerSettings &settings,
                                                       const std::vector<torch::Tensor> &parameters) {
  std::vector<torch::Tensor> trainable;
  for (const auto &p : parameters)
    if (p.requires_grad())
      trainable.push_back(p);
  if (trainable.empty())
    throw Error("optimizer: the model has no trainable parameters");
  if (settings.kind == "adamw")
    return std::make_unique<torch::optim::AdamW>(
        trainable, torch::optim::AdamWOptions(settings.lr)
                       .betas({settings.beta1, settings.beta2})
                       .eps(settings.eps)
                       .weight_decay(settings.weightDecay));
  if (settings.kind == "rmsprop")
    return std::make_unique<torch::optim::RMSprop>(trainable, torch::optim::RMSpropOptions(settings.lr)
                                                                  .alpha(settings.alpha)
                                                                  .eps(settings.eps)
                                                                  .weight_decay(settings.weightDecay)
                                                                  .momentum(settings.momentum));
  if (settings.kind == "sgd")
    return std::make_unique<torch::optim::SGD>(
        trainable,
        torch::optim::SGDOptions(settings.lr).momentum(settings.momentum).weight_decay(settings.weightDecay));
  throw Error("optimizer: unknown kind '" + settings.kind + "'; expected adamw, rmsprop or sgd");
}

void setLearningRate(torch::optim::Optimizer &optimizer, double lr) {
  for (auto &group : optimizer.param_groups())
    group.options().set_lr(lr);
}

double learningRateAt(const LrScheduleSettings &schedule, double peak, int64_t step, int64_t totalSteps) {
  if (step < schedule.warmup)
    return peak * static_cast<double>(step) / static_cast<double>(std::max<int64_t>(1, schedule.warmup));
  if (schedule.kind == "constant")
    return peak;
  const double span = static_cast<double>(std::max<int64_t>(1, totalSteps - schedule.warmup));
  const double progress = std::clamp(static_cast<double>(step - schedule.warmup) / span, 0.0, 1.0);
  const double f = schedule.final;
  if (schedule.kind == "linear")
    return peak * (f + (1.0 - f) * (1.0 - progress));
  if (schedule.kind == "cosine")
    return peak * (f + (1.0 - f) * 0.5 * (1.0 + std::cos(M_PI * progress)));
  throw Error("lr_schedule: unknown kind '" + schedule.kind + "'; expected constant, linear or cosine");
}

} // namespace align::rt
