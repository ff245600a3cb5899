//===- FuzzModelConfig.cpp - libFuzzer target: a checkpoint's config.json ===//
//
// A Hugging Face config.json as runtime/src/model/ModelConfig.h reads it. A config that is accepted must be
// one the decoder can be built from: positive sizes, heads that divide, an even head_dim.
//
//===----------------------------------------------------------------------===//

#include "FuzzHarness.h"

#include "model/ModelConfig.h"

using namespace align::rt;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  const std::string path = "fuzz/config.json";
  ModelConfig c;
  if (!align::fuzz::parsedOrRefused(path, [&] { c = parseModelConfig(align::fuzz::bytes(data, size), path); }))
    return 0;
  if (c.vocabSize <= 0 || c.hiddenSize <= 0 || c.intermediateSize <= 0 || c.numHiddenLayers <= 0 ||
      c.numAttentionHeads <= 0 || c.numKeyValueHeads <= 0 || c.headDim <= 0 || c.headDim % 2 != 0 ||
      c.numAttentionHeads % c.numKeyValueHeads != 0 || c.maxPositionEmbeddings <= 0 || !(c.rmsNormEps > 0) ||
      !(c.ropeTheta > 0))
    std::abort();
  return 0;
}
