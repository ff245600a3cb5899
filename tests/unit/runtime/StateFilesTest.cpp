//===- StateFilesTest.cpp - Manifests, state versions, locks, torn files --===//
//
// What keeps a run's directory trustworthy across kills and bad disks: a manifest finds a flipped, truncated
// or missing file; the state keeps its previous version and a resume falls back to it (and still ends bit
// for bit where an uninterrupted run does); stale temporaries are cleaned; one trainer per --out; a torn last
// metrics line is dropped, a torn middle one is an error.

#include "support/Files.h"
#include "support/Manifest.h"
#include "model/Checkpoint.h"
#include "train/Metrics.h"
#include "train/StageRunner.h"
#include "train/TrainState.h"

#include "TestFiles.h"
#include "TestStages.h"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

using namespace align::rt;

namespace {

std::string tempDir(const std::string &name) {
  static int count = 0;
  return align::rt::testing::scratchDir("state", name + std::to_string(count++));
}

void writeText(const std::string &path, const std::string &text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
}

std::string readText(const std::string &path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

/// Flips one bit of the byte at `offset` from the end of the file.
void flipByte(const std::string &path, long fromEnd) {
  std::fstream file(path, std::ios::in | std::ios::out | std::ios::binary);
  file.seekg(-fromEnd, std::ios::end);
  char byte = 0;
  file.read(&byte, 1);
  byte ^= 0x10;
  file.seekp(-fromEnd, std::ios::end);
  file.write(&byte, 1);
}

bool contains(const std::string &text, const std::string &part) { return text.find(part) != std::string::npos; }

} // namespace

TEST(Manifest, FindsFlippedTruncatedAndMissingFiles) {
  const std::string dir = tempDir("manifest");
  makeDirectories(joinPath(dir, "adapter"));
  writeText(joinPath(dir, "model.safetensors"), std::string(5000, 'w'));
  writeText(joinPath(dir, "adapter/adapter_config.json"), "{}");
  writeText(joinPath(dir, "config.json.tmp-123"), "half"); // an atomic write in progress: not content
  EXPECT_FALSE(hasManifest(dir));
  EXPECT_TRUE(contains(checkManifest(dir), "manifest.json: missing"));
  writeManifest(dir);
  EXPECT_EQ(checkManifest(dir), "");
  EXPECT_FALSE(contains(readText(joinPath(dir, kManifestFile)), "tmp-123"));
  EXPECT_TRUE(contains(readText(joinPath(dir, kManifestFile)), "adapter/adapter_config.json"));

  flipByte(joinPath(dir, "model.safetensors"), 10);
  const std::string flipped = checkManifest(dir);
  EXPECT_TRUE(contains(flipped, "model.safetensors: checksum")) << flipped;
  flipByte(joinPath(dir, "model.safetensors"), 10);
  EXPECT_EQ(checkManifest(dir), "");

  writeText(joinPath(dir, "model.safetensors"), std::string(4000, 'w'));
  const std::string truncated = checkManifest(dir);
  EXPECT_TRUE(contains(truncated, "model.safetensors: 4000 bytes, but manifest.json says 5000")) << truncated;

  ::unlink(joinPath(dir, "adapter/adapter_config.json").c_str());
  writeText(joinPath(dir, "model.safetensors"), std::string(5000, 'w'));
  const std::string missing = checkManifest(dir);
  EXPECT_TRUE(contains(missing, "adapter/adapter_config.json: missing")) << missing;

  writeText(joinPath(dir, kManifestFile), "{\"files\": [{\"path\": \"../x\", \"size\": 1, \"crc32\": \"0\"}]}");
  EXPECT_TRUE(contains(checkManifest(dir), "not a path inside the directory"));
  writeText(joinPath(dir, kManifestFile), "{\"fil");
  EXPECT_TRUE(contains(checkManifest(dir), "damaged"));
}

TEST(Files, RotateKeepsThePreviousVersionAndStaleTemporariesAreRemoved) {
  const std::string dir = tempDir("rotate");
  const std::string target = joinPath(dir, "state");
  for (const char *version : {"one", "two", "three"}) {
    const std::string staged = target + ".tmp-42";
    makeDirectories(staged);
    writeText(joinPath(staged, "v"), version);
    rotateDirectory(staged, target);
  }
  EXPECT_EQ(readText(joinPath(target, "v")), "three");
  EXPECT_EQ(readText(joinPath(target + ".prev", "v")), "two");
  EXPECT_FALSE(pathExists(target + ".tmp-42"));

  makeDirectories(joinPath(dir, "state/x.tmp-77"));
  makeDirectories(joinPath(dir, "checkpoints/sft.tmp"));
  writeText(joinPath(dir, "metrics.jsonl.tmp-9"), "x");
  writeText(joinPath(dir, "notes.tmp"), "a user's file"); // a file named .tmp is not a staged directory
  writeText(joinPath(dir, "a.tmp-x1"), "not a pid");
  makeDirectories(joinPath(dir, "mine/keep.tmp")); // not the trainer's: the top level is cleaned, not recursed
  makeDirectories(joinPath(dir, "yours.tmp"));      // nor a .tmp directory at the top level
  EXPECT_EQ(removeStaleTemporaries(dir, false), 1);
  EXPECT_EQ(removeStaleTemporaries(joinPath(dir, "state"), true) + removeStaleTemporaries(joinPath(dir, "checkpoints"), true), 2);
  EXPECT_TRUE(pathExists(joinPath(dir, "mine/keep.tmp")));
  EXPECT_TRUE(pathExists(joinPath(dir, "yours.tmp")));
  EXPECT_FALSE(pathExists(joinPath(dir, "state/x.tmp-77")));
  EXPECT_FALSE(pathExists(joinPath(dir, "checkpoints/sft.tmp")));
  EXPECT_FALSE(pathExists(joinPath(dir, "metrics.jsonl.tmp-9")));
  EXPECT_TRUE(pathExists(joinPath(dir, "notes.tmp")));
  EXPECT_TRUE(pathExists(joinPath(dir, "a.tmp-x1")));
  EXPECT_TRUE(pathExists(joinPath(target + ".prev", "v")));
}

TEST(Files, OneLockPerDirectory) {
  const std::string dir = tempDir("lock");
  {
    DirectoryLock lock(dir);
    try {
      DirectoryLock second(dir); // a second open file description conflicts, as another process's would
      FAIL() << "expected an error";
    } catch (const Error &e) {
      EXPECT_TRUE(contains(e.what(), "another trainer is writing to this directory")) << e.what();
    }
  }
  DirectoryLock again(dir); // released with the first holder
}

TEST(Metrics, ATornLastLineIsDroppedATornMiddleLineIsAnError) {
  const std::string dir = tempDir("metrics");
  const std::string path = joinPath(dir, "metrics.jsonl");
  writeText(path, "{\"stage\":\"s\",\"split\":\"train\",\"step\":1,\"loss\":2}\n{\"stage\":\"s\",\"spl");
  {
    MetricsLog log(dir);
    ASSERT_EQ(log.records().size(), 1u);
    EXPECT_EQ(log.records()[0].step, 1);
  }
  EXPECT_EQ(readText(path), "{\"loss\":2.0,\"split\":\"train\",\"stage\":\"s\",\"step\":1}\n");
  writeText(path, "{\"stage\":\"s\",\"spl\n{\"stage\":\"s\",\"split\":\"train\",\"step\":1}\n");
  try {
    MetricsLog log(dir);
    FAIL() << "expected an error";
  } catch (const Error &e) {
    EXPECT_TRUE(contains(e.what(), "metrics.jsonl:1: not a metrics record")) << e.what();
  }
}

namespace {

StageInputs dpoStage(const std::string &name) {
  static align::rt::testing::Fixture fixture;
  StageInputs in = fixture.dpoStage(name);
  in.schedule.steps = 6;
  in.schedule.checkpointEverySteps = 1; // a state after every step: the current one and the one before
  return in;
}

std::vector<torch::Tensor> parametersOf(torch::nn::Module &m) {
  std::vector<torch::Tensor> out;
  for (auto &p : m.parameters())
    out.push_back(p.detach().clone());
  return out;
}

} // namespace

TEST(TrainState, ADamagedStateFallsBackToThePreviousOneAndEndsTheSame) {
  StageInputs straight = dpoStage("dpo");
  RunOptions options;
  options.outDir = tempDir("straight");
  {
    MetricsLog metrics(options.outDir);
    runStage(straight, options, metrics);
  }

  StageInputs first = dpoStage("dpo");
  RunOptions interrupted;
  interrupted.outDir = tempDir("damaged");
  interrupted.stopAtStep = 4;
  {
    MetricsLog metrics(interrupted.outDir);
    runStage(first, interrupted, metrics);
  }
  const std::string state = joinPath(interrupted.outDir, "state/dpo");
  ASSERT_TRUE(hasManifest(state));
  ASSERT_TRUE(isDirectory(state + ".prev"));
  EXPECT_EQ(checkManifest(state), "");
  flipByte(joinPath(state, "model.safetensors"), 100);

  StageInputs second = dpoStage("dpo");
  RunOptions resumed = interrupted;
  resumed.stopAtStep = 0;
  resumed.resume = true;
  {
    MetricsLog metrics(resumed.outDir);
    ::testing::internal::CaptureStderr();
    StageResult r = runStage(second, resumed, metrics);
    const std::string warning = ::testing::internal::GetCapturedStderr();
    EXPECT_TRUE(contains(warning, "model.safetensors: checksum")) << warning;
    EXPECT_TRUE(contains(warning, "resuming from the previous one")) << warning;
    EXPECT_EQ(r.steps, 6);
  }
  const auto a = parametersOf(*straight.policy), b = parametersOf(*second.policy);
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i)
    EXPECT_TRUE(torch::equal(a[i], b[i])) << "parameter " << i;
  // The stage's checkpoint carries a manifest, and loading a damaged one is refused.
  const std::string checkpoint = joinPath(resumed.outDir, "checkpoints/dpo");
  EXPECT_EQ(checkManifest(checkpoint), "");
  flipByte(joinPath(checkpoint, "model.safetensors"), 100);
  try {
    loadCausalLM(checkpoint);
    FAIL() << "expected an error";
  } catch (const Error &e) {
    EXPECT_TRUE(contains(e.what(), "is damaged")) << e.what();
  }
}

TEST(TrainState, EveryVersionDamagedIsAnErrorNamingEach) {
  StageInputs first = dpoStage("dpo");
  RunOptions interrupted;
  interrupted.outDir = tempDir("bothdamaged");
  interrupted.stopAtStep = 3;
  {
    MetricsLog metrics(interrupted.outDir);
    runStage(first, interrupted, metrics);
  }
  const std::string state = joinPath(interrupted.outDir, "state/dpo");
  flipByte(joinPath(state, "optimizer.pt"), 50);
  flipByte(joinPath(state + ".prev", "rng.safetensors"), 5);
  StageInputs second = dpoStage("dpo");
  interrupted.stopAtStep = 0;
  interrupted.resume = true;
  MetricsLog metrics(interrupted.outDir);
  try {
    runStage(second, interrupted, metrics);
    FAIL() << "expected an error";
  } catch (const Error &e) {
    const std::string message = e.what();
    EXPECT_TRUE(contains(message, "every version is damaged")) << message;
    EXPECT_TRUE(contains(message, "state/dpo/optimizer.pt: checksum")) << message;
    EXPECT_TRUE(contains(message, "state/dpo.prev/rng.safetensors: checksum")) << message;
  }
}

// Many processes: rank 0's state records the other ranks' dropout streams ("cpu.rank<R>"); a rank R restores
// its own, and a state saved by fewer processes leaves rank R's seeded stream alone.
TEST(TrainState, EachRankRestoresItsOwnGenerator) {
  const std::string dir = align::rt::testing::scratchDir("state", "rank-generators");
  removeTrainState(dir);
  torch::nn::Linear unit(2, 2);
  torch::optim::SGD optimizer(unit->parameters(), 0.1);
  TrainPosition position;
  position.stage = "s";
  position.fingerprint = "f";
  torch::manual_seed(11);
  const torch::Tensor rankOneState = cpuGeneratorState();
  const torch::Tensor rankOneDraw = torch::rand({4});
  torch::manual_seed(5);
  saveTrainState(dir, *unit, optimizer, position, {{"cpu.rank1", rankOneState}});
  const torch::Tensor rankZeroDraw = torch::rand({4});

  torch::manual_seed(99);
  TrainPosition loaded;
  loaded.fingerprint = "f";
  ASSERT_TRUE(loadTrainState(dir, *unit, optimizer, loaded, 1));
  EXPECT_TRUE(torch::equal(torch::rand({4}), rankOneDraw));
  ASSERT_TRUE(loadTrainState(dir, *unit, optimizer, loaded, 0));
  EXPECT_TRUE(torch::equal(torch::rand({4}), rankZeroDraw));
  torch::manual_seed(99);
  const torch::Tensor seeded = torch::rand({4});
  torch::manual_seed(99);
  ASSERT_TRUE(loadTrainState(dir, *unit, optimizer, loaded, 2)); // no "cpu.rank2": the seeded stream stays
  EXPECT_TRUE(torch::equal(torch::rand({4}), seeded));
  removeTrainState(dir);
}
