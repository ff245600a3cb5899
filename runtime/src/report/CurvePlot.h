//===- CurvePlot.h - Training curves as an SVG picture ---------*- C++ -*-===//
//
// The picture a run leaves at OUT/curves.svg: one panel per metric (loss first, then accuracy, margin, the
// per-term losses, learning rate and gradient norm), steps of consecutive stages laid end to end with the
// stage names at their boundaries, training values as lines and evaluations as dots. SVG because every
// browser opens it and it needs no plotting library in the trainer.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "train/Metrics.h"

#include <string>
#include <vector>

namespace align::rt {

/// An SVG document; an empty plot (no records) is a valid SVG saying so.
std::string renderCurvesSvg(const std::vector<MetricRecord> &records);

} // namespace align::rt
