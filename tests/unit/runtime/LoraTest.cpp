//===- LoraTest.cpp - Low-rank adapters -----------------------------------===//
//
// A fresh adapter leaves the model unchanged (B = 0); an adapter's output equals the merged weights'; only
// adapters train; the stage checkpoint is the merged model; the PEFT file layout.

#include "TestModels.h"
#include "checkpoint/SafeTensors.h"
#include "support/Files.h"
#include "model/Lora.h"
#include "train/StageRunner.h"

#include <gtest/gtest.h>

using namespace align::rt;
using align::rt::testing::randomModel;
using align::rt::testing::tinyConfig;

namespace {

torch::Tensor someIds() { return torch::randint(0, 97, {2, 9}, torch::Generator(at::make_generator<at::CPUGeneratorImpl>(5))); }

void randomizeB(LoraAdapters &adapters) {
  torch::NoGradGuard noGrad;
  for (auto &site : adapters->sites)
    site.adapter->lora_B.normal_(0, 0.05);
}

} // namespace

TEST(Lora, FreshAdapterIsTheIdentity) {
  CausalLM model = randomModel(tinyConfig(), 1);
  torch::Tensor ids = someIds();
  torch::Tensor before = model->logits(ids);
  LoraSpec settings;
  settings.dropout = 0;
  settings.targets = {"q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"};
  LoraAdapters adapters = attachLora(model, settings, 0);
  EXPECT_EQ(adapters->sites.size(), 7u * model->model->layers->size());
  EXPECT_TRUE(torch::equal(before, model->logits(ids)));
  for (auto &p : model->parameters())
    EXPECT_FALSE(p.requires_grad());
  for (auto &p : adapters->parameters())
    EXPECT_TRUE(p.requires_grad());
}

TEST(Lora, AdapterOutputEqualsMergedWeights) {
  CausalLM model = randomModel(tinyConfig(), 2);
  LoraSpec settings;
  settings.dropout = 0;
  settings.rank = 4;
  settings.alpha = 8;
  settings.targets = {"q_proj", "v_proj", "down_proj"};
  LoraAdapters adapters = attachLora(model, settings, 0);
  randomizeB(adapters);
  torch::Tensor ids = someIds();
  torch::Tensor adapted = model->logits(ids).detach();
  // Hand merge: W + (α/r)·B·A on a copy of the base model.
  CausalLM reference = randomModel(tinyConfig(), 2);
  {
    torch::NoGradGuard noGrad;
    auto params = reference->named_parameters();
    for (auto &site : adapters->sites)
      params[site.name + ".weight"].add_(torch::matmul(site.adapter->lora_B, site.adapter->lora_A) * 2.0);
  }
  torch::Tensor merged = reference->logits(ids).detach();
  EXPECT_LT((adapted - merged).abs().max().item<double>(), 1e-4 * merged.abs().max().item<double>());
  EXPECT_FALSE(torch::allclose(adapted, randomModel(tinyConfig(), 2)->logits(ids), 1e-3, 1e-3)); // B ≠ 0 matters
  mergeLora(model, adapters);
  EXPECT_LT((adapted - model->logits(ids)).abs().max().item<double>(), 1e-4 * merged.abs().max().item<double>());
}

TEST(Lora, UnknownTargetIsAnError) {
  CausalLM model = randomModel(tinyConfig(), 3);
  LoraSpec settings;
  settings.targets = {"qproj"};
  try {
    attachLora(model, settings, 0);
    FAIL();
  } catch (const Error &e) {
    EXPECT_NE(std::string(e.what()).find("unknown target module 'qproj'"), std::string::npos);
  }
}

TEST(Lora, StageTrainsOnlyAdaptersAndSavesMergedModel) {
  auto tokenizer = makeByteTokenizer();
  std::vector<data::Example> corpus(6);
  for (auto &e : corpus)
    e.prompt = "Q:", e.responses = {"yes yes yes"};
  StageInputs in;
  in.name = "lora";
  in.terms = {termOf(NllParams{})};
  in.schedule.batch = 3;
  in.schedule.steps = 4;
  in.schedule.lr = 1e-2;
  PrepareOptions prepare;
  prepare.nll = true;
  prepare.tokenize = {32, 16, true, true, true};
  in.train = prepareExamples(corpus, *tokenizer, prepare, nullptr);
  in.padId = 258;
  in.policy = presetCausalLM("tiny", tokenizer->vocabSize(), 4);
  in.fingerprint = "lora";
  LoraSpec settings;
  settings.dropout = 0.1;
  in.lora = attachLora(in.policy, settings, 0);
  std::vector<torch::Tensor> base;
  for (auto &p : in.policy->parameters())
    base.push_back(p.detach().clone());
  char pattern[] = "/tmp/align-lora-XXXXXX";
  RunOptions options;
  options.outDir = ::mkdtemp(pattern);
  MetricsLog metrics(options.outDir);
  // The base must not move during training: check through the state's weights before the merge.
  StageResult result = runStage(in, options, metrics);
  auto state = readSafetensors(joinPath(options.outDir, "state/lora/model.safetensors"));
  size_t i = 0;
  for (auto &item : in.policy->named_parameters())
    EXPECT_TRUE(torch::equal(state.at("model." + item.key()), base[i++])) << item.key();
  EXPECT_TRUE(state.count("lora.model_layers_0_self_attn_q_proj.lora_B"));
  // The checkpoint is the merged model, and the adapter is beside it in PEFT's names.
  CausalLM merged = loadCausalLM(result.checkpointDir);
  EXPECT_FALSE(torch::equal(merged->model->layers[0]->as<DecoderLayerImpl>()->self_attn->q_proj->weight, base[1]));
  auto adapter = readSafetensors(joinPath(result.checkpointDir, "adapter/adapter_model.safetensors"));
  EXPECT_TRUE(adapter.count("base_model.model.model.layers.1.self_attn.v_proj.lora_A.weight"));
  EXPECT_TRUE(pathExists(joinPath(result.checkpointDir, "adapter/adapter_config.json")));
  removeTree(options.outDir);
}
