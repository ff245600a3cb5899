//===- ModelConfigTest.cpp - config.json of Llama/Qwen2/Mistral -----------===//
//
// Real-world config.json shapes (Llama-3.1 with a list of eos ids and llama3 RoPE scaling, Qwen2.5 with
// tied embeddings and an unused sliding window, Mistral with a null window, the transformers 5 spelling),
// every rejection naming file and field, round trips, presets, and the exchange with transformers driven
// by tests/reference/test_safetensors_config_peer.py.
//
//===----------------------------------------------------------------------===//

#include "support/Files.h"
#include "model/ModelConfig.h"

#include "align/rt/Error.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cstdlib>
#include <fstream>
#include <functional>
#include <sstream>

#include <ftw.h>
#include <sys/stat.h>
#include <unistd.h>

using namespace align::rt;
using Json = nlohmann::json;

namespace {

// Directory helpers come from support/Files.h (POSIX): std::filesystem crashes in binaries linked with libtorch.
bool exists(const std::string &path) { return pathExists(path); }

class ModelConfigTest : public ::testing::Test {
protected:
  void SetUp() override {
    const auto *info = ::testing::UnitTest::GetInstance()->current_test_info();
    dir = ::testing::TempDir() + "align-modelconfig-" + info->name() + "-" + std::to_string(::getpid());
    removeTree(dir);
    ::mkdir(dir.c_str(), 0777);
  }
  void TearDown() override { removeTree(dir); }
  std::string file(const std::string &name) const { return dir + "/" + name; }

  /// Writes `json` to <dir>/<name>/config.json and returns the path.
  std::string configFile(const Json &json, const std::string &name = "model") {
    ::mkdir(file(name).c_str(), 0777);
    std::string path = file(name + "/config.json");
    std::ofstream(path) << json.dump(2);
    return path;
  }

  std::string dir;
};

template <typename Action> void expectError(Action action, const std::vector<std::string> &parts) {
  try {
    action();
    ADD_FAILURE() << "expected an align::rt::Error mentioning '" << parts.back() << "'";
  } catch (const Error &e) {
    for (const std::string &part : parts)
      EXPECT_NE(std::string(e.what()).find(part), std::string::npos)
          << "message \"" << e.what() << "\" lacks \"" << part << "\"";
  }
}

/// The fields of meta-llama/Llama-3.1-8B's config.json, scaled down.
Json llama3Json() {
  return Json::parse(R"({
    "architectures": ["LlamaForCausalLM"], "attention_bias": false, "attention_dropout": 0.0,
    "bos_token_id": 128000, "eos_token_id": [128001, 128008, 128009], "hidden_act": "silu",
    "hidden_size": 256, "initializer_range": 0.02, "intermediate_size": 688, "max_position_embeddings": 4096,
    "mlp_bias": false, "model_type": "llama", "num_attention_heads": 8, "num_hidden_layers": 4,
    "num_key_value_heads": 2, "pretraining_tp": 1, "rms_norm_eps": 1e-05,
    "rope_scaling": {"factor": 8.0, "low_freq_factor": 1.0, "high_freq_factor": 4.0,
                     "original_max_position_embeddings": 1024, "rope_type": "llama3"},
    "rope_theta": 500000.0, "tie_word_embeddings": false, "torch_dtype": "bfloat16",
    "transformers_version": "4.43.0.dev0", "use_cache": true, "vocab_size": 128256})");
}

/// The fields of Qwen/Qwen2.5-0.5B's config.json, scaled down.
Json qwen2Json() {
  return Json::parse(R"({
    "architectures": ["Qwen2ForCausalLM"], "attention_dropout": 0.0, "bos_token_id": 151643,
    "eos_token_id": 151643, "hidden_act": "silu", "hidden_size": 128, "initializer_range": 0.02,
    "intermediate_size": 352, "max_position_embeddings": 32768, "max_window_layers": 24,
    "model_type": "qwen2", "num_attention_heads": 14, "num_hidden_layers": 2, "num_key_value_heads": 2,
    "rms_norm_eps": 1e-06, "rope_theta": 1000000.0, "sliding_window": 32768, "tie_word_embeddings": true,
    "torch_dtype": "bfloat16", "use_cache": true, "use_sliding_window": false, "vocab_size": 151936,
    "head_dim": 64})");
}

/// The fields of mistralai/Mistral-7B-v0.3's config.json, scaled down.
Json mistralJson() {
  return Json::parse(R"({
    "architectures": ["MistralForCausalLM"], "attention_dropout": 0.0, "bos_token_id": 1, "eos_token_id": 2,
    "hidden_act": "silu", "hidden_size": 128, "initializer_range": 0.02, "intermediate_size": 352,
    "max_position_embeddings": 32768, "model_type": "mistral", "num_attention_heads": 4,
    "num_hidden_layers": 2, "num_key_value_heads": 2, "rms_norm_eps": 1e-05, "rope_theta": 1000000.0,
    "sliding_window": null, "tie_word_embeddings": false, "torch_dtype": "bfloat16", "vocab_size": 32768})");
}

} // namespace

TEST_F(ModelConfigTest, ReadsLlama3Config) {
  ModelConfig c = readModelConfig(configFile(llama3Json()));
  EXPECT_EQ(c.modelType, "llama");
  EXPECT_EQ(c.vocabSize, 128256);
  EXPECT_EQ(c.hiddenSize, 256);
  EXPECT_EQ(c.intermediateSize, 688);
  EXPECT_EQ(c.numHiddenLayers, 4);
  EXPECT_EQ(c.numAttentionHeads, 8);
  EXPECT_EQ(c.numKeyValueHeads, 2);
  EXPECT_EQ(c.headDim, 32);
  EXPECT_EQ(c.maxPositionEmbeddings, 4096);
  EXPECT_DOUBLE_EQ(c.rmsNormEps, 1e-5);
  EXPECT_DOUBLE_EQ(c.ropeTheta, 500000.0);
  EXPECT_FALSE(c.tieWordEmbeddings);
  EXPECT_FALSE(c.attentionBias);
  EXPECT_FALSE(c.mlpBias);
  EXPECT_EQ(c.hiddenAct, "silu");
  ASSERT_TRUE(c.ropeScaling.has_value());
  EXPECT_EQ(c.ropeScaling->type, "llama3");
  EXPECT_DOUBLE_EQ(c.ropeScaling->factor, 8.0);
  EXPECT_DOUBLE_EQ(c.ropeScaling->lowFreqFactor, 1.0);
  EXPECT_DOUBLE_EQ(c.ropeScaling->highFreqFactor, 4.0);
  EXPECT_EQ(c.ropeScaling->originalMaxPositionEmbeddings, 1024);
  EXPECT_EQ(c.bosTokenId, 128000);
  EXPECT_EQ(c.eosTokenId, 128001);
  EXPECT_EQ(c.eosTokenIds, (std::vector<int64_t>{128001, 128008, 128009}));
  EXPECT_FALSE(c.padTokenId.has_value());
  EXPECT_FALSE(c.slidingWindow.has_value());
  EXPECT_EQ(c.torchDtype, "bfloat16");
}

TEST_F(ModelConfigTest, ReadsQwen2ConfigWithBiasesAndTiedEmbeddings) {
  ModelConfig c = readModelConfig(configFile(qwen2Json()));
  EXPECT_EQ(c.modelType, "qwen2");
  EXPECT_TRUE(c.attentionBias);
  EXPECT_FALSE(c.outputProjectionBias());
  EXPECT_FALSE(c.mlpBias);
  EXPECT_TRUE(c.tieWordEmbeddings);
  EXPECT_EQ(c.numAttentionHeads, 14);
  EXPECT_EQ(c.headDim, 64);                  // explicit, although 128 / 14 is not an integer
  EXPECT_FALSE(c.slidingWindow.has_value()); // use_sliding_window is false
  EXPECT_EQ(c.eosTokenIds, (std::vector<int64_t>{151643}));
  EXPECT_FALSE(c.ropeScaling.has_value());

  Json sliding = qwen2Json();
  sliding["use_sliding_window"] = true;
  std::string path = configFile(sliding, "sliding");
  expectError([&] { readModelConfig(path); }, {path, "'use_sliding_window'"});
}

TEST_F(ModelConfigTest, ReadsMistralSlidingWindowNullOrSet) {
  ModelConfig c = readModelConfig(configFile(mistralJson()));
  EXPECT_EQ(c.modelType, "mistral");
  EXPECT_FALSE(c.slidingWindow.has_value());
  EXPECT_FALSE(c.attentionBias);
  EXPECT_TRUE(c.outputProjectionBias() == false);
  EXPECT_EQ(c.headDim, 32);
  Json windowed = mistralJson();
  windowed["sliding_window"] = 4096;
  EXPECT_EQ(readModelConfig(configFile(windowed, "windowed")).slidingWindow, 4096);
}

TEST_F(ModelConfigTest, ReadsTransformers5RopeParametersAndDefaults) {
  Json v5 = llama3Json();
  v5.erase("rope_theta");
  v5.erase("rope_scaling");
  v5.erase("torch_dtype");
  v5["dtype"] = "float32";
  v5["rope_parameters"] = {{"rope_theta", 250000.0}, {"rope_type", "linear"}, {"factor", 2.0}};
  ModelConfig c = readModelConfig(configFile(v5));
  EXPECT_DOUBLE_EQ(c.ropeTheta, 250000.0);
  ASSERT_TRUE(c.ropeScaling.has_value());
  EXPECT_EQ(c.ropeScaling->type, "linear");
  EXPECT_DOUBLE_EQ(c.ropeScaling->factor, 2.0);
  EXPECT_EQ(c.torchDtype, "float32");

  v5["rope_parameters"] = {{"rope_theta", 10000.0}, {"rope_type", "default"}};
  EXPECT_FALSE(readModelConfig(configFile(v5, "default")).ropeScaling.has_value());

  // Only the required fields: everything else takes transformers' LlamaConfig defaults.
  Json minimal = {{"model_type", "llama"},    {"vocab_size", 100},      {"hidden_size", 64},
                  {"intermediate_size", 176}, {"num_hidden_layers", 2}, {"num_attention_heads", 4},
                  {"rope_scaling", nullptr},  {"pad_token_id", nullptr}};
  ModelConfig d = readModelConfig(configFile(minimal, "minimal"));
  EXPECT_EQ(d.numKeyValueHeads, 4);
  EXPECT_EQ(d.headDim, 16);
  EXPECT_EQ(d.maxPositionEmbeddings, 2048);
  EXPECT_DOUBLE_EQ(d.rmsNormEps, 1e-6);
  EXPECT_DOUBLE_EQ(d.ropeTheta, 10000.0);
  EXPECT_FALSE(d.ropeScaling.has_value());
  EXPECT_FALSE(d.tieWordEmbeddings);
  EXPECT_FALSE(d.bosTokenId.has_value());
  EXPECT_FALSE(d.eosTokenId.has_value());
  EXPECT_TRUE(d.eosTokenIds.empty());
  EXPECT_EQ(d.torchDtype, "float32");

  Json oldStyle = minimal;
  oldStyle["rope_scaling"] = {{"type", "linear"}, {"factor", 4}};
  ModelConfig e = readModelConfig(configFile(oldStyle, "old"));
  ASSERT_TRUE(e.ropeScaling.has_value());
  EXPECT_DOUBLE_EQ(e.ropeScaling->factor, 4.0);
}

TEST_F(ModelConfigTest, EveryRejectionNamesFileAndField) {
  for (const char *field :
       {"model_type", "vocab_size", "hidden_size", "intermediate_size", "num_hidden_layers", "num_attention_heads"}) {
    Json json = llama3Json();
    json.erase(field);
    std::string path = configFile(json, std::string("drop-") + field);
    expectError([&] { readModelConfig(path); }, {path, "missing field '" + std::string(field) + "'"});
  }
  struct Case {
    const char *name;
    std::function<void(Json &)> edit;
    std::vector<std::string> parts;
  };
  std::vector<Case> cases = {
      {"string-int", [](Json &j) { j["hidden_size"] = "256"; }, {"'hidden_size'", "integer"}},
      {"float-int", [](Json &j) { j["num_hidden_layers"] = 4.5; }, {"'num_hidden_layers'", "integer"}},
      {"bool-type", [](Json &j) { j["tie_word_embeddings"] = 1; }, {"'tie_word_embeddings'", "true or false"}},
      {"eps-type", [](Json &j) { j["rms_norm_eps"] = "small"; }, {"'rms_norm_eps'", "number"}},
      {"model-type", [](Json &j) { j["model_type"] = "gpt2"; }, {"'model_type'", "'gpt2'"}},
      {"act", [](Json &j) { j["hidden_act"] = "gelu"; }, {"'hidden_act'", "'gelu'"}},
      {"rope-yarn", [](Json &j) { j["rope_scaling"]["rope_type"] = "yarn"; }, {"'rope_scaling.rope_type'", "'yarn'"}},
      {"rope-factor", [](Json &j) { j["rope_scaling"].erase("factor"); }, {"missing field 'rope_scaling.factor'"}},
      {"rope-orig",
       [](Json &j) { j["rope_scaling"]["original_max_position_embeddings"] = 1.5; },
       {"'rope_scaling.original_max_position_embeddings'"}},
      {"rope-object", [](Json &j) { j["rope_scaling"] = "llama3"; }, {"'rope_scaling'", "object"}},
      {"kv-divides", [](Json &j) { j["num_key_value_heads"] = 3; }, {"'num_key_value_heads'", "divide"}},
      {"kv-negative", [](Json &j) { j["num_key_value_heads"] = -1; }, {"'num_key_value_heads'", "positive"}},
      {"heads-zero", [](Json &j) { j["num_attention_heads"] = 0; }, {"'num_attention_heads'", "positive"}},
      {"vocab-zero", [](Json &j) { j["vocab_size"] = 0; }, {"'vocab_size'", "positive"}},
      {"head-split", [](Json &j) { j["num_attention_heads"] = 7, j["num_key_value_heads"] = 7; }, {"'hidden_size'"}},
      {"eos-list",
       [](Json &j) {
         j["eos_token_id"] = {1, "two"};
       },
       {"'eos_token_id'", "integer"}},
      {"bos-type", [](Json &j) { j["bos_token_id"] = true; }, {"'bos_token_id'"}},
      {"theta", [](Json &j) { j["rope_theta"] = -1; }, {"'rope_theta'", "positive"}},
  };
  for (const Case &c : cases) {
    Json json = llama3Json();
    c.edit(json);
    std::string path = configFile(json, c.name);
    std::vector<std::string> parts = c.parts;
    parts.insert(parts.begin(), path);
    SCOPED_TRACE(c.name);
    expectError([&] { readModelConfig(path); }, parts);
  }
  std::string notJson = file("broken.json");
  std::ofstream(notJson) << "{\"model_type\": ";
  expectError([&] { readModelConfig(notJson); }, {notJson, "JSON"});
  std::string array = file("array.json");
  std::ofstream(array) << "[1]";
  expectError([&] { readModelConfig(array); }, {array, "object"});
  expectError([&] { readModelConfig(file("absent.json")); }, {file("absent.json"), "open"});
}

TEST_F(ModelConfigTest, RoundTripsEveryArchitecture) {
  for (Json source : {llama3Json(), qwen2Json(), mistralJson()}) {
    ModelConfig original = readModelConfig(configFile(source, "source"));
    original.torchDtype = "float32"; // what writeModelConfig always records
    original.padTokenId = 7;
    if (original.modelType == "mistral")
      original.slidingWindow = 64;
    if (original.modelType == "llama")
      original.attentionBias = original.mlpBias = true;
    std::string path = file("written-" + original.modelType + ".json");
    writeModelConfig(original, path);
    ModelConfig reread = readModelConfig(path);
    EXPECT_TRUE(reread == original) << original.modelType;

    Json written;
    std::ifstream(path) >> written;
    EXPECT_EQ(written["model_type"], original.modelType);
    EXPECT_EQ(written["torch_dtype"], "float32");
    EXPECT_EQ(written["architectures"].size(), 1u);
  }
  // A single eos id is written as a number, several as a list; unset ids as null.
  ModelConfig tiny = presetConfig("tiny", 300);
  tiny.eosTokenId = 5;
  tiny.eosTokenIds = {5};
  std::string path = file("tiny.json");
  writeModelConfig(tiny, path);
  Json written;
  std::ifstream(path) >> written;
  EXPECT_EQ(written["architectures"], Json::array({"LlamaForCausalLM"}));
  EXPECT_EQ(written["eos_token_id"], 5);
  EXPECT_TRUE(written["bos_token_id"].is_null());
  EXPECT_TRUE(written["rope_scaling"].is_null());
  EXPECT_TRUE(readModelConfig(path) == tiny);
}

TEST_F(ModelConfigTest, WriteIsAtomicAndRejectsInvalidConfigs) {
  std::string path = file("config.json");
  ModelConfig tiny = presetConfig("tiny", 100);
  writeModelConfig(tiny, path);
  ModelConfig broken = tiny;
  broken.hiddenAct = "gelu";
  expectError([&] { writeModelConfig(broken, path); }, {path, "'hidden_act'"});
  broken = tiny;
  broken.numKeyValueHeads = 3;
  expectError([&] { writeModelConfig(broken, path); }, {path, "'num_key_value_heads'"});
  expectError([&] { writeModelConfig(tiny, file("missing/config.json")); }, {"config.json"});
  EXPECT_TRUE(readModelConfig(path) == tiny);
  EXPECT_FALSE(exists(path + ".tmp-" + std::to_string(::getpid())));
}

TEST(ModelConfigPresets, SizesAndErrors) {
  struct Expected {
    const char *name;
    int64_t hidden, layers, heads, kvHeads, intermediate, maxPositions;
  };
  for (const Expected &e : {Expected{"tiny", 64, 2, 4, 2, 176, 512}, Expected{"small", 256, 4, 8, 4, 688, 1024},
                            Expected{"medium", 512, 8, 8, 4, 1376, 2048}}) {
    ModelConfig c = presetConfig(e.name, 32000);
    SCOPED_TRACE(e.name);
    EXPECT_EQ(c.modelType, "llama");
    EXPECT_EQ(c.vocabSize, 32000);
    EXPECT_EQ(c.hiddenSize, e.hidden);
    EXPECT_EQ(c.numHiddenLayers, e.layers);
    EXPECT_EQ(c.numAttentionHeads, e.heads);
    EXPECT_EQ(c.numKeyValueHeads, e.kvHeads);
    EXPECT_EQ(c.intermediateSize, e.intermediate);
    EXPECT_EQ(c.maxPositionEmbeddings, e.maxPositions);
    EXPECT_EQ(c.headDim, e.hidden / e.heads);
    EXPECT_DOUBLE_EQ(c.rmsNormEps, 1e-5);
    EXPECT_DOUBLE_EQ(c.ropeTheta, 10000.0);
    EXPECT_FALSE(c.tieWordEmbeddings);
    EXPECT_FALSE(c.ropeScaling.has_value());
    EXPECT_EQ(c.hiddenAct, "silu");
  }
  expectError([] { presetConfig("huge", 100); }, {"'huge'", "tiny", "small", "medium"});
  expectError([] { presetConfig("tiny", 0); }, {"'tiny'", "vocabulary"});
}

// Exchange with transformers (tests/reference/test_safetensors_config_peer.py sets ALIGN_PEER_DIR).
TEST(ModelConfigPeer, WritesConfigForTransformers) {
  const char *peerDir = std::getenv("ALIGN_PEER_DIR");
  if (!peerDir)
    GTEST_SKIP() << "ALIGN_PEER_DIR is not set (tests/reference/test_safetensors_config_peer.py sets it)";
  ModelConfig tiny = presetConfig("tiny", 320);
  tiny.bosTokenId = 1;
  tiny.eosTokenId = 2;
  tiny.eosTokenIds = {2, 3};
  tiny.ropeScaling = RopeScaling{"llama3", 8.0, 1.0, 4.0, 256};
  writeModelConfig(tiny, std::string(peerDir) + "/config.json");

  // The other two architectures, so the peer also checks what we write for their fixed biases and windows.
  ModelConfig qwen2 = presetConfig("tiny", 320);
  qwen2.modelType = "qwen2";
  qwen2.attentionBias = true;
  qwen2.tieWordEmbeddings = true;
  qwen2.ropeTheta = 1000000.0;
  ::mkdir((std::string(peerDir) + "/ours-qwen2").c_str(), 0777);
  writeModelConfig(qwen2, std::string(peerDir) + "/ours-qwen2/config.json");
  ModelConfig mistral = presetConfig("tiny", 320);
  mistral.modelType = "mistral";
  mistral.headDim = 32;
  mistral.slidingWindow = 128;
  ::mkdir((std::string(peerDir) + "/ours-mistral").c_str(), 0777);
  writeModelConfig(mistral, std::string(peerDir) + "/ours-mistral/config.json");
}

TEST(ModelConfigPeer, ReadsConfigsFromTransformers) {
  const char *peerDir = std::getenv("ALIGN_PEER_DIR");
  if (!peerDir || !exists(std::string(peerDir) + "/py-llama/config.json"))
    GTEST_SKIP() << "no py-*/config.json from the Python peer";
  std::string base = peerDir;
  ModelConfig llama = readModelConfig(base + "/py-llama/config.json");
  EXPECT_EQ(llama.modelType, "llama");
  EXPECT_EQ(llama.vocabSize, 128);
  EXPECT_EQ(llama.hiddenSize, 64);
  EXPECT_EQ(llama.numKeyValueHeads, 2);
  EXPECT_EQ(llama.maxPositionEmbeddings, 512);
  EXPECT_DOUBLE_EQ(llama.ropeTheta, 500000.0);
  ASSERT_TRUE(llama.ropeScaling.has_value());
  EXPECT_EQ(llama.ropeScaling->type, "llama3");
  EXPECT_DOUBLE_EQ(llama.ropeScaling->factor, 8.0);
  EXPECT_DOUBLE_EQ(llama.ropeScaling->lowFreqFactor, 1.0);
  EXPECT_DOUBLE_EQ(llama.ropeScaling->highFreqFactor, 4.0);
  EXPECT_EQ(llama.ropeScaling->originalMaxPositionEmbeddings, 256);
  EXPECT_EQ(llama.eosTokenIds, (std::vector<int64_t>{2, 3}));
  EXPECT_EQ(llama.eosTokenId, 2);
  EXPECT_EQ(llama.bosTokenId, 1);

  ModelConfig qwen = readModelConfig(base + "/py-qwen2/config.json");
  EXPECT_EQ(qwen.modelType, "qwen2");
  EXPECT_TRUE(qwen.tieWordEmbeddings);
  EXPECT_TRUE(qwen.attentionBias);
  EXPECT_FALSE(qwen.slidingWindow.has_value());
  EXPECT_DOUBLE_EQ(qwen.ropeTheta, 1000000.0);
  EXPECT_EQ(qwen.headDim, 16);

  ModelConfig mistral = readModelConfig(base + "/py-mistral/config.json");
  EXPECT_EQ(mistral.modelType, "mistral");
  EXPECT_EQ(mistral.slidingWindow, 64);
  EXPECT_EQ(mistral.headDim, 32); // explicit head_dim, not hidden / heads
  EXPECT_FALSE(mistral.tieWordEmbeddings);
}
