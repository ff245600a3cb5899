//===- Passes.h - Passes from the recipe to the train dialect ---*- C++ -*-===//
//
// Declarations and registration of alignc's passes, generated from Passes.td (CIRCT/Toy style): each pass
// has a `create...Pass()` and, where it has options, a `create...Pass(const ...Options &)`.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "align/Dialect/Recipe/RecipeOps.h"
#include "align/Dialect/Train/TrainOps.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/Builders.h"
#include "mlir/Pass/Pass.h"

#include <memory>

namespace align {

#define GEN_PASS_DECL
#include "Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "Passes.h.inc"

} // namespace align
