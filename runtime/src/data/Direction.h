//===- Direction.h - A DPA direction: angles, rendering, direction.json --*- C++ -*-===//
//
// A user's preference in DPA (docs/methods.md §4) is a unit vector v = (cos θ, sin θ) over two objectives of
// a regression reward, written into the system prompt through the recipe's `render` template, where
// `{weight.NAME}` becomes the integer round(scale · v_NAME) — negative weights literally ("verbosity*-26"),
// as the authors' README renders θ = −15°. The conditioned prompt is that system text, a newline, then the
// prompt as its data source renders it.
//
// A policy trained by `loop rsf` keeps its direction beside its weights (direction.json), so `align-lm
// generate --direction` renders any direction, not only the training grid, exactly as training did.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "align/rt/Trainer.h"

#include <cstdint>
#include <string>
#include <vector>

namespace align::rt {

/// v = (cos θ, sin θ) for θ in degrees.
std::vector<double> directionVector(double angleDeg);

/// `n` angles evenly spaced over [low, high], ends included (n ≥ 2; n = 1 gives the middle).
std::vector<double> gridAngles(double low, double high, int64_t n);

/// The integer a weight renders as: round(scale · value), halves away from zero.
int64_t renderedWeight(double value, int64_t scale);

/// The system prompt for `v` (one value per objective of `spec`). The template's escapes \\ \{ \} become the
/// character; a placeholder other than {weight.NAME} for an objective of the direction is an Error.
std::string renderDirection(const DirectionSpec &spec, const std::vector<double> &v);

/// What a conditioned policy reads: the system text, a newline, then the (rendered) prompt.
std::string conditionedPrompt(const std::string &system, const std::string &prompt);

/// direction.json beside a checkpoint: the direction's objectives, range, template and scale, and the
/// template of the prompts it was trained on ("" for none), so a later renderer conditions prompts the same way.
struct SavedDirection {
  DirectionSpec spec;
  std::string promptTemplate;
};
void writeDirectionFile(const std::string &dir, const SavedDirection &saved);
/// Reads DIR/direction.json; an Error naming the file when it is missing or malformed.
SavedDirection readDirectionFile(const std::string &dir);
/// The same on the text of a direction.json; `path` names it in messages.
SavedDirection parseDirectionFile(const std::string &text, const std::string &path);
/// "0.8,-0.6" or "-15deg" → v over the direction's objectives (normalised to unit length; an angle is
/// (cos θ, sin θ)); an Error for a malformed list, the wrong count, or the zero vector.
std::vector<double> parseDirectionArgument(const std::string &text, const DirectionSpec &spec);

} // namespace align::rt
