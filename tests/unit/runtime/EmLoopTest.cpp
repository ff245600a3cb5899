//===- EmLoopTest.cpp - EM over latent types through the trainer API ------===//
//
// The loop a generated trainer runs for `loop em` (compiler/emit/StageEmission.cpp writes it), written by
// hand: K = 1 EM is plain DPO (γ ≡ 1); a run killed after an M-step and resumed ends with the same γ, η and
// policies, bit for bit, as an uninterrupted one; eval.json gets η, η per iteration and type recovery; and
// the calls refuse what cannot work.

#include "align/rt/Trainer.h"
#include "support/Files.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

namespace rt = align::rt;

namespace {

std::string g_dir;

/// Two kinds of annotators who disagree: a* prefer " yes", b* prefer " no"; their true type is named.
void writeVotes(const std::string &path) {
  std::ofstream out(path);
  for (int annotator = 0; annotator < 8; ++annotator) {
    const bool yes = annotator < 4;
    for (int i = 0; i < 6; ++i)
      out << nlohmann::json({{"prompt", "Pick " + std::to_string(i % 3) + ":"},
                             {"chosen", yes ? " yes" : " no"},
                             {"rejected", yes ? " no" : " yes"},
                             {"rater", std::string(yes ? "a" : "b") + std::to_string(annotator)},
                             {"kind", yes ? "yes" : "no"}})
                 .dump()
          << "\n";
  }
}

struct Settings {
  int64_t types = 2, iterations = 2;
  int64_t stopAfterMaximizing = -1; ///< ≥ 0: return after the M-step of type 0 of this iteration (a kill)
  bool plainDpoToo = false;         ///< also train the M-step's objective as a plain DPO stage
  bool warm = false;                ///< restart: false, and no `init from` (the declared preset starts)
  /// Full copies by default here, so K = 1 can be compared with a plain (full-weight) DPO stage.
  rt::TypePolicies policies = rt::TypePolicies::full;
  bool adapterOnPolicy = false;     ///< the stage's policy declares a LoRA adapter
  std::string clusters;             ///< init: clusters(column) when set
  bool aggregate = false;           ///< an MMRA aggregate `fair` after the stage, single-policy baseline `sft`
};
Settings g_settings;

rt::StageSpec baseStage() {
  rt::StageSpec s;
  s.model = "lm";
  s.train = {"votes", "train"};
  s.schedule.lr = 5e-3;
  s.schedule.batch = 8;
  s.schedule.epochs = 1;
  s.schedule.maxLength = 32;
  s.schedule.seed = 3;
  return s;
}

void body(rt::Trainer &t) {
  t.tokenizer("tok", "bytes");
  rt::ModelSpec lm;
  lm.tokenizer = "tok";
  lm.seed = 2;
  t.model("lm", lm);
  rt::DataSpec d;
  d.kind = rt::DataKind::pairwise;
  d.path = "votes.jsonl";
  d.columns["annotator"] = "rater";
  d.columns["true_type"] = "kind";
  t.data("votes", d);
  rt::StageSpec sft = baseStage();
  sft.name = "sft";
  sft.objective = {rt::TermSpec(rt::NllParams{})};
  sft.schedule.steps = 2;
  t.stage(sft);

  rt::StageSpec mix = baseStage();
  mix.name = "mix";
  mix.initFrom = g_settings.warm ? "" : "sft";
  mix.reference = "sft";
  rt::EmDpoParams em;
  em.beta = 0.5;
  mix.objective = {rt::TermSpec(em, 1.0, false, rt::WeightNorm::sum)};
  rt::LatentSpec latent;
  latent.types = g_settings.types;
  latent.iterations = g_settings.iterations;
  latent.seed = 4;
  latent.restart = !g_settings.warm;
  if (!g_settings.clusters.empty())
    latent.init = rt::LatentInit::clusters, latent.column = g_settings.clusters;
  latent.policies = g_settings.policies;
  mix.lora.enabled = g_settings.adapterOnPolicy;
  mix.lora.rank = g_settings.adapterOnPolicy ? 4 : 8;
  for (int64_t i = t.emBegin(mix, latent); i < latent.iterations; ++i) {
    for (int64_t k = 0; k < latent.types; ++k) {
      t.emMaximize("mix", i, k);
      if (i == g_settings.stopAfterMaximizing)
        return;
    }
    t.emExpect("mix", i);
  }
  t.emEnd("mix");
  if (g_settings.aggregate) {
    rt::AggregateSpec fair;
    fair.name = "fair";
    fair.policies = "mix";
    fair.prompts = {"votes", "train"};
    fair.samples = 3;
    fair.answers = 2;
    fair.maxNewTokens = 4;
    fair.steps = 500;
    fair.baseline = "sft";
    fair.location = "EmLoopTest.cpp";
    t.mixture(fair, t.regretTable(fair));
  }

  if (g_settings.plainDpoToo) {
    rt::StageSpec dpo = baseStage();
    dpo.name = "plain";
    dpo.initFrom = "sft";
    dpo.reference = "sft";
    dpo.schedule.reference = rt::ReferenceStrategy::precompute;
    dpo.objective = {rt::TermSpec(rt::DpoParams{0.5, 0.0})};
    t.stage(dpo);
  }
}

const rt::RecipeInfo kRecipe{"em", "EmLoopTest.cpp", {}, {"sft", "mix", "plain"}};

int runTrainer(std::vector<std::string> args) {
  args.insert(args.begin(), "trainer");
  std::vector<char *> argv;
  for (auto &a : args)
    argv.push_back(a.data());
  return rt::trainerMain(static_cast<int>(argv.size()), argv.data(), kRecipe, body);
}

std::string readFile(const std::string &path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

class EmLoop : public ::testing::Test {
protected:
  static void SetUpTestSuite() {
    char pattern[] = "/tmp/align-em-XXXXXX";
    g_dir = ::mkdtemp(pattern);
    writeVotes(g_dir + "/votes.jsonl");
  }
  static void TearDownTestSuite() { rt::removeTree(g_dir); }
  void SetUp() override { g_settings = Settings{}; }
};

} // namespace

TEST_F(EmLoop, OneTypeIsPlainDpo) {
  g_settings.types = 1;
  g_settings.iterations = 1;
  g_settings.plainDpoToo = true;
  const std::string out = g_dir + "/one";
  ASSERT_EQ(runTrainer({"--out", out, "--data-root", g_dir, "--threads", "1"}), 0);
  // γ ≡ 1 with weight_norm sum is the unweighted DPO loss: the same weights, bit for bit.
  EXPECT_EQ(readFile(out + "/checkpoints/mix.type0/model.safetensors"),
            readFile(out + "/checkpoints/plain/model.safetensors"));
  EXPECT_NE(readFile(out + "/checkpoints/plain/model.safetensors"), readFile(out + "/checkpoints/sft/model.safetensors"))
      << "the DPO stage did not train";
  nlohmann::json eval = nlohmann::json::parse(readFile(out + "/eval.json"));
  EXPECT_EQ(eval["mix"]["eta"], nlohmann::json::array({1.0}));
}

TEST_F(EmLoop, ResumeAfterAKillEndsWithTheSameNumbers) {
  const std::string straight = g_dir + "/straight", killed = g_dir + "/killed";
  ASSERT_EQ(runTrainer({"--out", straight, "--data-root", g_dir, "--threads", "1"}), 0);
  g_settings.stopAfterMaximizing = 1; // iteration 0 done, then the M-step of type 0 of iteration 1
  ASSERT_EQ(runTrainer({"--out", killed, "--data-root", g_dir, "--threads", "1"}), 0);
  g_settings.stopAfterMaximizing = -1;
  testing::internal::CaptureStderr();
  ASSERT_EQ(runTrainer({"--resume", killed, "--data-root", g_dir, "--threads", "1"}), 0);
  const std::string log = testing::internal::GetCapturedStderr();
  EXPECT_NE(log.find("resuming at iteration 1"), std::string::npos) << log;
  EXPECT_EQ(log.find("iteration 1, M-step of type 0"), std::string::npos) << "a finished M-step ran again";
  EXPECT_EQ(readFile(straight + "/state/mix/posterior.json"), readFile(killed + "/state/mix/posterior.json"));
  for (const char *type : {"mix.type0", "mix.type1"})
    EXPECT_EQ(readFile(straight + "/checkpoints/" + type + "/model.safetensors"),
              readFile(killed + "/checkpoints/" + type + "/model.safetensors"))
        << type;

  nlohmann::json eval = nlohmann::json::parse(readFile(straight + "/eval.json"));
  ASSERT_EQ(eval["mix"]["eta"].size(), 2u);
  EXPECT_NEAR(eval["mix"]["eta"][0].get<double>() + eval["mix"]["eta"][1].get<double>(), 1.0, 1e-12);
  EXPECT_EQ(eval["mix"]["eta_by_iteration"].size(), 2u);
  EXPECT_EQ(eval["mix"]["type_recovery"]["annotators"], 8);
  const double accuracy = eval["mix"]["type_recovery"]["accuracy"].get<double>();
  EXPECT_TRUE(accuracy >= 0.5 && accuracy <= 1.0) << accuracy; // 2 types, 8 annotators: at least half match
}

TEST_F(EmLoop, WarmStartsFromTheDeclaredModelAndThenEachTypesLastPolicy) {
  g_settings.warm = true;
  const std::string out = g_dir + "/warm";
  testing::internal::CaptureStderr();
  ASSERT_EQ(runTrainer({"--out", out, "--data-root", g_dir, "--threads", "1"}), 0);
  const std::string log = testing::internal::GetCapturedStderr();
  EXPECT_NE(log.find("iteration 1, M-step of type 0: 48 rows"), std::string::npos) << log;
  EXPECT_NE(log.find("warm start"), std::string::npos) << log;
  EXPECT_TRUE(rt::pathExists(out + "/state/mix/start/model.safetensors")); // the preset every type starts from
}

TEST_F(EmLoop, RefusesWhatCannotWork) {
  g_settings.types = 9; // more types than the 8 annotators
  testing::internal::CaptureStderr();
  EXPECT_EQ(runTrainer({"--out", g_dir + "/nine", "--data-root", g_dir, "--threads", "1"}), 1);
  const std::string err = testing::internal::GetCapturedStderr();
  EXPECT_NE(err.find("k = 9 latent types, but the data has only 8 annotators"), std::string::npos) << err;
}

TEST_F(EmLoop, LoraTypesAreAdaptersOnTheSharedStart) {
  g_settings.policies = rt::TypePolicies::lora; // with the stage's lora settings; the policy declares no adapter
  g_settings.iterations = 1;
  const std::string out = g_dir + "/lora";
  ASSERT_EQ(runTrainer({"--out", out, "--data-root", g_dir, "--threads", "1"}), 0);
  for (int k = 0; k < 2; ++k) {
    const std::string type = out + "/checkpoints/mix.type" + std::to_string(k);
    EXPECT_TRUE(rt::pathExists(type + "/adapter/adapter_model.safetensors")) << type;
    EXPECT_TRUE(rt::pathExists(type + "/model.safetensors")) << type; // merged, as any LoRA stage's
  }
  EXPECT_NE(readFile(out + "/checkpoints/mix.type0/adapter/adapter_model.safetensors"),
            readFile(out + "/checkpoints/mix.type1/adapter/adapter_model.safetensors"));
  nlohmann::json config = nlohmann::json::parse(readFile(out + "/checkpoints/mix.type0/adapter/adapter_config.json"));
  EXPECT_EQ(config["r"], 8) << config.dump();

  // A declared adapter gives every type its settings; full copies with an adapter on the policy cannot be.
  g_settings.adapterOnPolicy = true;
  ASSERT_EQ(runTrainer({"--out", out + "-declared", "--data-root", g_dir, "--threads", "1"}), 0);
  config = nlohmann::json::parse(readFile(out + "-declared/checkpoints/mix.type1/adapter/adapter_config.json"));
  EXPECT_EQ(config["r"], 4) << config.dump();
  g_settings.policies = rt::TypePolicies::full;
  testing::internal::CaptureStderr();
  EXPECT_EQ(runTrainer({"--out", out + "-full", "--data-root", g_dir, "--threads", "1"}), 1);
  EXPECT_NE(testing::internal::GetCapturedStderr().find("`policies: full` trains full copies"), std::string::npos);
  EXPECT_FALSE(rt::pathExists(out + "-full/checkpoints/mix.type0"));
}

TEST_F(EmLoop, ClustersStartFromAColumnOfTheData) {
  g_settings.clusters = "kind";
  g_settings.iterations = 1;
  const std::string out = g_dir + "/clusters";
  ASSERT_EQ(runTrainer({"--out", out, "--data-root", g_dir, "--threads", "1"}), 0);
  nlohmann::json eval = nlohmann::json::parse(readFile(out + "/eval.json"));
  EXPECT_EQ(eval["mix"]["type_recovery"]["accuracy"], 1.0) << eval["mix"].dump();
  // A column the data lacks is an error naming the file and line, before anything trains.
  g_settings.clusters = "missing";
  testing::internal::CaptureStderr();
  EXPECT_EQ(runTrainer({"--out", g_dir + "/clusters-missing", "--data-root", g_dir, "--threads", "1"}), 1);
  EXPECT_NE(testing::internal::GetCapturedStderr().find("votes.jsonl:1: field 'missing' is missing"), std::string::npos);
  EXPECT_FALSE(rt::pathExists(g_dir + "/clusters-missing/checkpoints/mix.type0"));
}

TEST_F(EmLoop, MinmaxRegretMixesTheTypePoliciesAndWritesTheMixture) {
  g_settings.aggregate = true;
  g_settings.iterations = 1;
  const std::string out = g_dir + "/fair";
  ASSERT_EQ(runTrainer({"--out", out, "--data-root", g_dir, "--threads", "1"}), 0);
  nlohmann::json fair = nlohmann::json::parse(readFile(out + "/eval.json"))["fair"];
  ASSERT_EQ(fair["weights"].size(), 2u) << fair.dump();
  EXPECT_NEAR(fair["weights"][0].get<double>() + fair["weights"][1].get<double>(), 1.0, 1e-9);
  EXPECT_EQ(fair["regret_matrix"][0][0], 0.0);
  EXPECT_EQ(fair["regret_matrix"][1][1], 0.0);
  EXPECT_EQ(fair["baseline"]["regret_by_type"].size(), 2u);
  EXPECT_EQ(fair["prompts"], 3);
  // The mixture's regrets are the weighted columns of R, and its worst is no worse than the better policy's.
  for (int i = 0; i < 2; ++i) {
    double expected = 0;
    for (int j = 0; j < 2; ++j)
      expected += fair["weights"][j].get<double>() * fair["regret_matrix"][i][j].get<double>();
    EXPECT_NEAR(fair["regret_by_type"][i].get<double>(), expected, 1e-9);
  }
  const double bestPolicy = std::min(fair["policy_worst_regret"][0].get<double>(), fair["policy_worst_regret"][1].get<double>());
  EXPECT_LE(fair["worst_regret"].get<double>(), std::max(bestPolicy, 0.0) + 0.05);
  nlohmann::json mixture = nlohmann::json::parse(readFile(out + "/checkpoints/fair/mixture.json"));
  EXPECT_EQ(mixture["policies"][1], "../mix.type1");
  // 3 prompts × 2 answers × (2 types + the baseline)
  std::ifstream answers(out + "/checkpoints/fair/answers.jsonl");
  int lines = 0;
  for (std::string line; std::getline(answers, line);)
    ++lines;
  EXPECT_EQ(lines, 18);
}
