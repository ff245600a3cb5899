//===- Checkpoint.h - Hugging Face checkpoint directories ------*- C++ -*-===//
//
// A model on disk is a Hugging Face checkpoint directory: config.json plus model.safetensors (or shards with
// an index). Loading is strict — every parameter must be present with its shape, and no unknown tensor may
// be left over — because a silently half-loaded model trains and evaluates as garbage. Saving writes what
// transformers loads unchanged; each file is written atomically.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "model/Llama.h"

#include <string>

namespace align::rt {

/// Loads `dir` (config.json + safetensors) into a new float32 model on the CPU.
CausalLM loadCausalLM(const std::string &dir);

/// Writes `model` to `dir` (created if needed): config.json and model.safetensors.
void saveCausalLM(CausalLM &model, const std::string &dir);

/// A randomly initialised model of a built-in preset ("tiny", "small", "medium").
CausalLM presetCausalLM(const std::string &preset, int64_t vocabSize, uint64_t seed);

} // namespace align::rt
