// dist::World without a launch: the slices of a global batch, the launch variables' validation, and a world
// of one process whose collectives are the identity. Two real processes are tests/e2e/distributed.py.
#include "align/rt/Error.h"
#include "dist/World.h"

#include <gtest/gtest.h>

#include <cstdlib>

using namespace align::rt;

namespace {

/// Sets the launch variables for one test and restores the environment after it.
class LaunchVariables {
public:
  explicit LaunchVariables(std::initializer_list<std::pair<const char *, const char *>> values) {
    for (const char *name : {"RANK", "WORLD_SIZE", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT",
                             "TORCHELASTIC_USE_AGENT_STORE", "TORCHELASTIC_RESTART_COUNT"})
      ::unsetenv(name);
    for (const auto &[name, value] : values)
      ::setenv(name, value, 1);
  }
  ~LaunchVariables() {
    for (const char *name : {"RANK", "WORLD_SIZE", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT",
                             "TORCHELASTIC_USE_AGENT_STORE", "TORCHELASTIC_RESTART_COUNT"})
      ::unsetenv(name);
  }
};

std::string errorOf(std::initializer_list<std::pair<const char *, const char *>> values) {
  LaunchVariables env(values);
  try {
    dist::readLaunchEnvironment();
  } catch (const Error &e) {
    return e.what();
  }
  return "";
}

} // namespace

TEST(World, SlicesCoverTheBatchInOrderAndDifferByAtMostOne) {
  for (int64_t count : {0, 1, 5, 7, 8, 33})
    for (int size : {1, 2, 3, 8}) {
      int64_t next = 0, smallest = count, largest = 0;
      for (int rank = 0; rank < size; ++rank) {
        const auto [begin, end] = dist::sliceOf(count, rank, size);
        EXPECT_EQ(begin, next) << count << " items, rank " << rank << " of " << size;
        next = end;
        smallest = std::min(smallest, end - begin);
        largest = std::max(largest, end - begin);
      }
      EXPECT_EQ(next, count);
      EXPECT_LE(largest - smallest, 1);
    }
  using Slice = std::pair<int64_t, int64_t>;
  EXPECT_EQ(dist::sliceOf(7, 0, 2), Slice(0, 4));
  EXPECT_EQ(dist::sliceOf(7, 1, 2), Slice(4, 7));
}

TEST(World, ReadsTorchrunsVariables) {
  {
    LaunchVariables env({});
    dist::LaunchEnvironment launch = dist::readLaunchEnvironment();
    EXPECT_EQ(launch.worldSize, 1);
    EXPECT_EQ(launch.rank, 0);
  }
  LaunchVariables env({{"RANK", "3"}, {"WORLD_SIZE", "4"}, {"LOCAL_RANK", "1"}, {"MASTER_ADDR", "node0"},
                       {"MASTER_PORT", "29511"}, {"TORCHELASTIC_USE_AGENT_STORE", "True"},
                       {"TORCHELASTIC_RESTART_COUNT", "2"}});
  dist::LaunchEnvironment launch = dist::readLaunchEnvironment();
  EXPECT_EQ(launch.rank, 3);
  EXPECT_EQ(launch.worldSize, 4);
  EXPECT_EQ(launch.localRank, 1);
  EXPECT_EQ(launch.masterAddr, "node0");
  EXPECT_EQ(launch.masterPort, 29511);
  EXPECT_TRUE(launch.agentStore);
  EXPECT_EQ(launch.restartCount, "2");
}

TEST(World, BadLaunchVariablesAreNamed) {
  EXPECT_NE(errorOf({{"WORLD_SIZE", "two"}}).find("WORLD_SIZE=two: expected an integer"), std::string::npos);
  EXPECT_NE(errorOf({{"WORLD_SIZE", "0"}}).find("WORLD_SIZE=0"), std::string::npos);
  EXPECT_NE(errorOf({{"WORLD_SIZE", "2"}, {"MASTER_ADDR", "h"}}).find("RANK is not set"), std::string::npos);
  EXPECT_NE(errorOf({{"WORLD_SIZE", "2"}, {"RANK", "2"}, {"MASTER_ADDR", "h"}}).find("RANK=2: expected an integer in [0, 1]"),
            std::string::npos);
  EXPECT_NE(errorOf({{"WORLD_SIZE", "2"}, {"RANK", "1"}}).find("MASTER_ADDR is not set"), std::string::npos);
  EXPECT_NE(errorOf({{"WORLD_SIZE", "2"}, {"RANK", "1"}, {"MASTER_ADDR", "h"}, {"MASTER_PORT", "70000"}})
                .find("MASTER_PORT=70000"),
            std::string::npos);
  EXPECT_EQ(errorOf({{"WORLD_SIZE", "1"}, {"RANK", "junk"}}), ""); // one process reads nothing else
}

TEST(World, OneProcessCollectivesAreTheIdentity) {
  auto world = dist::World::single();
  EXPECT_FALSE(world->distributed());
  EXPECT_TRUE(world->isWriter());
  std::vector<double> values{1.5, -2};
  world->allReduceSum(values);
  EXPECT_EQ(values, (std::vector<double>{1.5, -2}));
  EXPECT_EQ(world->allGather(values), values);
  EXPECT_EQ(world->sumMaps({{"loss", 0.5}}).at("loss"), 0.5);
  world->barrier();
}

TEST(World, CollectiveFailuresAreTold) {
  // c10d's own (NCCL, the store) by type; Gloo's by its namespace (e2e.distributed_failure stalls a rank for it).
  const c10::DistBackendError lost({__func__, __FILE__, __LINE__}, "lost a peer");
  EXPECT_TRUE(align::rt::dist::isCollectiveFailure(lost));
  EXPECT_FALSE(align::rt::dist::isCollectiveFailure(std::runtime_error("disk full")));
  EXPECT_FALSE(align::rt::dist::isCollectiveFailure(align::rt::Error("bad row")));
}
