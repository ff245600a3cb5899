//===- Optimizer.cpp - Optimizers and learning-rate schedules -------------===//

#include "train/Optimizer.h"

#include "align/rt/Error.h"
#include "train/FusedAdamW.h"

#include <algorithm>
#include <cmath>

namespace align::rt {

std::unique_ptr<torch::optim::Optimizer> makeOptimizer(const ScheduleSpec &s, const std::vector<ParameterGroup> &groups,
                                                       std::vector<double> *lrScales) {
  std::vector<torch::optim::OptimizerParamGroup> trainable;
  std::vector<double> scales;
  for (const ParameterGroup &group : groups) {
    std::vector<torch::Tensor> params;
    for (const auto &p : group.parameters)
      if (p.requires_grad())
        params.push_back(p);
    if (params.empty())
      continue;
    if (!(group.lrScale > 0) || !std::isfinite(group.lrScale))
      throw Error("optimizer: a parameter group's learning-rate scale must be a finite number > 0");
    trainable.emplace_back(std::move(params));
    scales.push_back(group.lrScale);
  }
  if (trainable.empty())
    throw Error("optimizer: the model has no trainable parameters");
  std::unique_ptr<torch::optim::Optimizer> optimizer;
  switch (s.optimizer) {
  case OptimizerKind::adamw:
    optimizer = std::make_unique<FusedAdamW>(
        trainable,
        torch::optim::AdamWOptions(s.lr).betas({s.beta1, s.beta2}).eps(s.eps).weight_decay(s.weightDecay));
    break;
  case OptimizerKind::rmsprop:
    optimizer = std::make_unique<torch::optim::RMSprop>(
        trainable,
        torch::optim::RMSpropOptions(s.lr).alpha(s.alpha).eps(s.eps).weight_decay(s.weightDecay).momentum(s.momentum));
    break;
  case OptimizerKind::sgd:
    optimizer = std::make_unique<torch::optim::SGD>(
        trainable, torch::optim::SGDOptions(s.lr).momentum(s.momentum).weight_decay(s.weightDecay));
    break;
  }
  if (!optimizer)
    throw Error(std::string("optimizer: '") + spelling(s.optimizer) + "' is not executed by the runtime");
  setLearningRate(*optimizer, s.lr, scales);
  if (lrScales)
    *lrScales = std::move(scales);
  return optimizer;
}

std::unique_ptr<torch::optim::Optimizer> makeOptimizer(const ScheduleSpec &schedule,
                                                       const std::vector<torch::Tensor> &parameters) {
  return makeOptimizer(schedule, std::vector<ParameterGroup>{{parameters, 1.0}});
}

void setLearningRate(torch::optim::Optimizer &optimizer, double lr, const std::vector<double> &lrScales) {
  auto &groups = optimizer.param_groups();
  for (size_t i = 0; i < groups.size(); ++i)
    groups[i].options().set_lr(lr * (i < lrScales.size() ? lrScales[i] : 1.0));
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
