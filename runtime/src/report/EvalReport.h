//===- EvalReport.h - The end-of-run table and charts of eval.json -*- C++ -*-===//
//
// What a trainer shows when it finishes: the eval block's numbers as one table with a column per stage (so
// vanilla and personalized, or general and customized, sit side by side), and for every metric broken down
// by a key (accuracy_by_group, generated_length_by_group, ...) a grouped bar chart OUT/<metric>.svg with one
// bar per stage.
//
//===----------------------------------------------------------------------===//
#pragma once

#include <map>
#include <string>
#include <vector>

namespace align::rt {

/// stage → metric key → group ("" when not broken down) → value, as Trainer::Impl::evaluateAll gives it.
using Evaluation = std::map<std::string, std::map<std::string, std::map<std::string, double>>>;

/// The table as text: a row per metric[group], a column per stage in `stageOrder` (stages without a value
/// show "-").
std::string formatEvalTable(const Evaluation &evaluation, const std::vector<std::string> &stageOrder);

/// Writes OUT/<metric>.svg for each broken-down metric; returns the paths written.
std::vector<std::string> writeEvalCharts(const std::string &outDir, const Evaluation &evaluation,
                                         const std::vector<std::string> &stageOrder);

} // namespace align::rt
