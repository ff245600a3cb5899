//===- TrainerApiTest.cpp - The public trainer API and its command line ---===//
//
// What a generated trainer does, written by hand: declarations, an SFT stage, a DPO stage from it, the eval
// block; then the command line's errors (unknown --set key, bad values, a torchrun launch without RANK) and resume of a
// finished run.

#include "align/rt/Inference.h"
#include "align/rt/Trainer.h"
#include "support/Files.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

namespace rt = align::rt;

namespace {

std::string g_dir;

void writePairs(const std::string &path) {
  std::ofstream out(path);
  const char *topics[] = {"cats", "dogs", "the sea", "rain"};
  for (int i = 0; i < 40; ++i)
    out << nlohmann::json({{"prompt", std::string("Tell me about ") + topics[i % 4] + "."},
                           {"chosen", "It is lovely and calm, thank you."},
                           {"rejected", "No."},
                           {"user", "u" + std::to_string(i % 2)}})
               .dump()
        << "\n";
}

void body(rt::Trainer &t) {
  t.tokenizer("tok", "bytes");
  rt::ModelSpec lm;
  lm.tokenizer = "tok";
  lm.seed = static_cast<uint64_t>(t.integer("lm.seed", 1));
  t.model("lm", lm);
  rt::DataSpec d;
  d.kind = rt::DataKind::pairwise;
  d.path = t.text("prefs.path", "pairs.jsonl");
  d.columns["user"] = "user";
  rt::SplitRule eval;
  eval.name = "eval";
  eval.fraction = 0.2;
  d.splits.push_back(eval);
  t.data("prefs", d);
  rt::StageSpec sft;
  sft.name = "sft";
  sft.model = "lm";
  sft.train = {"prefs", "train"};
  sft.objective = {rt::TermSpec(rt::NllParams{})};
  sft.schedule.lr = t.number("sft.lr", 3e-3);
  sft.schedule.batch = 8;
  sft.schedule.steps = 3;
  sft.schedule.maxLength = 64;
  t.stage(sft);
  rt::StageSpec dpo = sft;
  dpo.name = "align";
  dpo.initFrom = "sft";
  dpo.reference = "sft";
  rt::DpoParams beta;
  beta.beta = 0.1;
  dpo.objective = {rt::TermSpec(beta)};
  dpo.schedule.microBatch = 4;
  t.stage(dpo);
  rt::EvalSpec acc{rt::AccuracyParams{}};
  acc.on = {"prefs", "eval"};
  t.evaluate(acc);
  acc.by = rt::By::user;
  t.evaluate(acc);
  rt::EvalSpec longer{rt::LengthBaselineParams{}};
  longer.on = {"prefs", "eval"};
  t.evaluate(longer);
}

const rt::RecipeInfo kRecipe{"hand",
                             "TrainerApiTest.cpp",
                             {{"lm.seed", "1", "hand.align:1:1"},
                              {"prefs.path", "pairs.jsonl", "hand.align:2:1"},
                              {"sft.lr", "3e-3", "hand.align:3:1"}},
                             {"sft", "align"}};

int runTrainer(std::vector<std::string> args) {
  args.insert(args.begin(), "trainer");
  std::vector<char *> argv;
  for (auto &a : args)
    argv.push_back(a.data());
  return rt::trainerMain(static_cast<int>(argv.size()), argv.data(), kRecipe, body);
}

class TrainerApi : public ::testing::Test {
protected:
  static void SetUpTestSuite() {
    char pattern[] = "/tmp/align-trainer-XXXXXX";
    g_dir = ::mkdtemp(pattern);
    writePairs(g_dir + "/pairs.jsonl");
  }
  static void TearDownTestSuite() { rt::removeTree(g_dir); }
};

nlohmann::json readJson(const std::string &path) {
  std::ifstream in(path);
  return nlohmann::json::parse(in);
}

} // namespace

TEST_F(TrainerApi, ResumingFromNothingIsAnError) {
  // A directory without state/ or checkpoints/ has nothing to continue: an error, and nothing is written there.
  const std::string empty = g_dir + "/never-ran";
  rt::makeDirectories(empty);
  testing::internal::CaptureStderr();
  EXPECT_EQ(runTrainer({"--resume", empty, "--data-root", g_dir, "--threads", "1"}), 1);
  EXPECT_NE(testing::internal::GetCapturedStderr().find("holds no training state to continue"), std::string::npos);
  EXPECT_FALSE(rt::pathExists(empty + "/metrics.jsonl"));
  EXPECT_FALSE(rt::pathExists(empty + "/checkpoints"));
}

TEST_F(TrainerApi, RunsStagesAndWritesEvalJson) {
  const std::string out = g_dir + "/out";
  ASSERT_EQ(runTrainer({"--out", out, "--data-root", g_dir, "--set", "sft.lr=2e-3", "--threads", "1"}), 0);
  nlohmann::json eval = readJson(out + "/eval.json");
  for (const char *stage : {"sft", "align"}) {
    ASSERT_TRUE(eval.contains(stage)) << eval.dump();
    EXPECT_TRUE(eval[stage]["accuracy"].is_number());
    EXPECT_TRUE(eval[stage]["accuracy_by_user"].contains("u0"));
    EXPECT_DOUBLE_EQ(eval[stage]["length_baseline"].get<double>(), 1.0); // chosen is always longer here
  }
  EXPECT_TRUE(rt::pathExists(out + "/checkpoints/align/model.safetensors"));
  EXPECT_TRUE(rt::pathExists(out + "/metrics.csv"));
  EXPECT_TRUE(rt::pathExists(out + "/curves.svg"));
  // Resuming with other settings is refused, naming both…
  testing::internal::CaptureStderr();
  EXPECT_EQ(runTrainer({"--resume", out, "--data-root", g_dir}), 1);
  EXPECT_NE(testing::internal::GetCapturedStderr().find("different settings"), std::string::npos);
  // …and resuming a finished run with its settings trains nothing more and gives the same evaluation.
  ASSERT_EQ(runTrainer({"--resume", out, "--data-root", g_dir, "--set", "sft.lr=2e-3"}), 0);
  nlohmann::json again = readJson(out + "/eval.json");
  EXPECT_EQ(eval["align"]["accuracy"], again["align"]["accuracy"]);
}

TEST_F(TrainerApi, CommandLineErrors) {
  testing::internal::CaptureStderr();
  EXPECT_EQ(runTrainer({"--set", "sft.learning_rate=1"}), 1);
  std::string err = testing::internal::GetCapturedStderr();
  EXPECT_NE(err.find("has no setting 'sft.learning_rate'"), std::string::npos) << err;
  EXPECT_NE(err.find("sft.lr (recipe: 3e-3)"), std::string::npos) << err;

  testing::internal::CaptureStderr();
  EXPECT_EQ(runTrainer({"--out", g_dir + "/bad", "--data-root", g_dir, "--set", "sft.lr=fast"}), 1);
  err = testing::internal::GetCapturedStderr();
  EXPECT_NE(err.find("--set sft.lr=fast: expected a number"), std::string::npos) << err;

  // A recipe cannot write nan or inf, nor an integer past 64 bits; neither can an override.
  for (const char *bad : {"sft.lr=nan", "sft.lr=inf", "sft.lr=-inf"}) {
    testing::internal::CaptureStderr();
    EXPECT_EQ(runTrainer({"--out", g_dir + "/bad", "--data-root", g_dir, "--set", bad}), 1) << bad;
    err = testing::internal::GetCapturedStderr();
    EXPECT_NE(err.find(std::string("--set ") + bad + ": expected a finite number"), std::string::npos) << err;
  }
  testing::internal::CaptureStderr();
  EXPECT_EQ(runTrainer({"--out", g_dir + "/bad", "--data-root", g_dir, "--set", "lm.seed=99999999999999999999"}), 1);
  err = testing::internal::GetCapturedStderr();
  EXPECT_NE(err.find("--set lm.seed=99999999999999999999: out of range for a 64-bit integer"), std::string::npos) << err;
  // LibTorch's own refusal (AdamW and a negative lr) is its message, without a C++ stack of frames.
  testing::internal::CaptureStderr();
  EXPECT_EQ(runTrainer({"--out", g_dir + "/negative", "--data-root", g_dir, "--set", "sft.lr=-1"}), 1);
  err = testing::internal::GetCapturedStderr();
  EXPECT_NE(err.find("error: "), std::string::npos) << err;
  EXPECT_EQ(err.find("frame #"), std::string::npos) << err;
  EXPECT_EQ(err.find("Exception raised from"), std::string::npos) << err;

  testing::internal::CaptureStderr();
  EXPECT_EQ(runTrainer({"--steps", "0"}), 1);
  EXPECT_NE(testing::internal::GetCapturedStderr().find("expected a positive integer"), std::string::npos);
  testing::internal::CaptureStderr();
  EXPECT_EQ(runTrainer({"--collective-timeout", "5s"}), 1);
  EXPECT_NE(testing::internal::GetCapturedStderr().find("--collective-timeout 5s: expected a positive integer"),
            std::string::npos);

  testing::internal::CaptureStderr();
  EXPECT_EQ(runTrainer({"--out", g_dir + "/missing", "--data-root", g_dir + "/nowhere"}), 1);
  err = testing::internal::GetCapturedStderr();
  EXPECT_NE(err.find("nowhere/pairs.jsonl"), std::string::npos) << err;

  // A torchrun variable missing or malformed is named before anything runs (dist/World.h).
  ::setenv("WORLD_SIZE", "2", 1);
  testing::internal::CaptureStderr();
  EXPECT_EQ(runTrainer({"--out", g_dir + "/ws"}), 1);
  EXPECT_NE(testing::internal::GetCapturedStderr().find("WORLD_SIZE=2 but RANK is not set"), std::string::npos);
  ::unsetenv("WORLD_SIZE");

  testing::internal::CaptureStdout();
  EXPECT_EQ(runTrainer({"--help"}), 0);
  EXPECT_NE(testing::internal::GetCapturedStdout().find("prefs.path"), std::string::npos);
}

// RewardScorer::score in the trainer's order (batch N) and in sorted batches (batch 0) gives every sequence
// its own reward: padding is masked, so only float rounding may differ between paddings.
TEST_F(TrainerApi, RewardScorerBatchingChangesOnlyRounding) {
  auto lm = rt::LanguageModel::preset("tiny", 40, 5);
  lm->save(g_dir + "/scorer-lm");
  auto scorer = rt::RewardScorer::fromLanguageModel(g_dir + "/scorer-lm", 1, "last", 3);
  std::vector<std::vector<int64_t>> sequences;
  for (int64_t n : {7, 2, 12, 5, 9, 3, 11})
    sequences.push_back([n] {
      std::vector<int64_t> ids;
      for (int64_t i = 0; i < n; ++i)
        ids.push_back(3 + (i * 7 + n) % 30);
      return ids;
    }());
  const auto sorted = scorer->score(sequences, 0);
  const auto inOrder = scorer->score(sequences, 0, 2);
  ASSERT_EQ(sorted.size(), sequences.size());
  ASSERT_EQ(inOrder.size(), sequences.size());
  for (size_t i = 0; i < sequences.size(); ++i) {
    const auto alone = scorer->score({sequences[i]}, 0, 1);
    EXPECT_NEAR(sorted[i][0], alone[0][0], 1e-5) << "sequence " << i;
    EXPECT_NEAR(inOrder[i][0], alone[0][0], 1e-5) << "sequence " << i;
  }
  EXPECT_NE(sorted[0][0], sorted[2][0]); // the rewards are not all one number
  EXPECT_THROW(scorer->score(sequences, 0, -1), rt::Error);
}
