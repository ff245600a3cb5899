//===- TrainPosition.cpp - Where a stage stands: trainer_state.json ------===//

#include "train/TrainPosition.h"

#include "align/rt/Error.h"

#include <nlohmann/json.hpp>

#include <cmath>

namespace align::rt {

std::string trainPositionJson(const TrainPosition &position) {
  nlohmann::json state = {{"stage", position.stage},
                          {"step", position.step},
                          {"total_steps", position.totalSteps},
                          {"epoch", position.epoch},
                          {"batch_in_epoch", position.batchInEpoch},
                          {"elapsed_seconds", position.elapsedSeconds},
                          {"fingerprint", position.fingerprint}};
  return state.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

TrainPosition parseTrainPosition(const std::string &text, const std::string &path) {
  nlohmann::json state;
  try {
    state = nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception &e) {
    throw Error(path + ": not valid JSON: " + e.what());
  }
  if (!state.is_object())
    throw Error(path + ": not a JSON object");
  auto count = [&](const char *field) -> int64_t {
    if (!state.contains(field))
      throw Error(path + ": missing field '" + field + "'");
    const nlohmann::json &value = state[field];
    if (!value.is_number_integer() || (value.is_number_unsigned() && value.get<uint64_t>() > INT64_MAX) ||
        value.get<int64_t>() < 0)
      throw Error(path + ": field '" + field + "' is not a count");
    return value.get<int64_t>();
  };
  auto text_ = [&](const char *field) -> std::string {
    if (!state.contains(field) || !state[field].is_string())
      throw Error(path + ": field '" + field + "' must be a string");
    return state[field].get<std::string>();
  };
  TrainPosition position;
  position.stage = text_("stage");
  position.fingerprint = text_("fingerprint");
  position.step = count("step");
  position.totalSteps = count("total_steps");
  position.epoch = count("epoch");
  position.batchInEpoch = count("batch_in_epoch");
  if (position.step > position.totalSteps)
    throw Error(path + ": field 'step' (" + std::to_string(position.step) + ") is past 'total_steps' (" +
                std::to_string(position.totalSteps) + ")");
  if (state.contains("elapsed_seconds")) {
    const nlohmann::json &elapsed = state["elapsed_seconds"];
    if (!elapsed.is_number() || !std::isfinite(elapsed.get<double>()) || elapsed.get<double>() < 0)
      throw Error(path + ": field 'elapsed_seconds' is not a duration");
    position.elapsedSeconds = elapsed.get<double>();
  }
  return position;
}

} // namespace align::rt
