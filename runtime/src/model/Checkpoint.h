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

#include <functional>
#include <map>
#include <string>

namespace align::rt {

/// Copies `tensors` into the parameters of `module`, strictly: every parameter must be present with its shape,
/// and every other tensor must be one `ignorable` accepts. Errors name `weights` (the file) and the tensor.
void loadParametersStrict(torch::nn::Module &module, const std::map<std::string, torch::Tensor> &tensors,
                          const std::string &weights, const std::function<bool(const std::string &)> &ignorable);
/// Writes the parameters of `module` to `dir`/model.safetensors (atomically).
void saveParameters(torch::nn::Module &module, const std::string &dir);

/// If `dir` has a manifest.json (stage checkpoints written by the trainer do), an Error naming the first file
/// whose size or checksum differs; directories from other tools carry none and pass.
void checkCheckpointManifest(const std::string &dir);

/// Loads `dir` (config.json + safetensors) into a new float32 model on the CPU.
CausalLM loadCausalLM(const std::string &dir);

/// Checks config.json's sizes against the tensors the checkpoint holds before a model of that size is
/// allocated: the embedding's [vocab_size, hidden_size] and the layers model.layers.0..N-1 for
/// num_hidden_layers = N. An Error naming `configPath` and the field otherwise (a config claiming a billion
/// layers must not allocate them first).
void checkConfigAgainstTensors(const ModelConfig &config, const std::map<std::string, torch::Tensor> &tensors,
                               const std::string &configPath);

/// Writes `model` to `dir` (created if needed): config.json and model.safetensors.
void saveCausalLM(CausalLM &model, const std::string &dir);

/// A randomly initialised model of a built-in preset ("tiny", "small", "medium").
CausalLM presetCausalLM(const std::string &preset, int64_t vocabSize, uint64_t seed);

} // namespace align::rt
