//===- World.cpp - The processes of one training run, on c10d -------------===//

#include "dist/World.h"

#include "align/rt/Error.h"
#include "dist/GlooBackend.h"
#ifdef ALIGN_HAVE_NCCL
#include "dist/NcclBackend.h"
#endif

#include <torch/csrc/distributed/c10d/PrefixStore.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>
#include <torch/csrc/utils/tensor_flatten.h>

#include <cerrno>
#include <climits>
#include <cstdlib>

namespace align::rt::dist {

namespace {

const char *variable(const char *name) {
  const char *value = std::getenv(name);
  return value && *value ? value : nullptr;
}

/// An integer environment variable in [low, high]; `fallback` when unset.
int integerVariable(const char *name, int fallback, long low, long high) {
  const char *text = variable(name);
  if (!text)
    return fallback;
  errno = 0;
  char *end = nullptr;
  const long value = std::strtol(text, &end, 10);
  if (errno != 0 || end == text || *end != '\0' || value < low || value > high)
    throw Error(std::string(name) + "=" + text + ": expected an integer in [" + std::to_string(low) + ", " +
                std::to_string(high) + "]");
  return static_cast<int>(value);
}

} // namespace

LaunchEnvironment readLaunchEnvironment() {
  LaunchEnvironment env;
  env.worldSize = integerVariable("WORLD_SIZE", 1, 1, INT_MAX);
  if (env.worldSize == 1)
    return env;
  if (!variable("RANK"))
    throw Error("WORLD_SIZE=" + std::to_string(env.worldSize) + " but RANK is not set: start the processes with "
                "torchrun (or set RANK, WORLD_SIZE, MASTER_ADDR and MASTER_PORT for each)");
  env.rank = integerVariable("RANK", 0, 0, env.worldSize - 1);
  env.localRank = integerVariable("LOCAL_RANK", env.rank, 0, INT_MAX);
  if (!variable("MASTER_ADDR"))
    throw Error("WORLD_SIZE=" + std::to_string(env.worldSize) + " but MASTER_ADDR is not set (the host of rank 0)");
  env.masterAddr = variable("MASTER_ADDR");
  env.masterPort = integerVariable("MASTER_PORT", 29500, 1, 65535);
  const char *agent = variable("TORCHELASTIC_USE_AGENT_STORE");
  env.agentStore = agent && std::string(agent) == "True";
  if (const char *restarts = variable("TORCHELASTIC_RESTART_COUNT"))
    env.restartCount = restarts;
  return env;
}

bool isCollectiveFailure(const std::exception &e) {
  if (dynamic_cast<const c10::DistError *>(&e))
    return true;
  // gloo::Exception and its subclasses cannot be named without Gloo's headers (GlooBackend.h says why the
  // runtime has none); their mangled names all start with Gloo's namespace.
  return std::string(typeid(e).name()).rfind("N4gloo", 0) == 0;
}

std::shared_ptr<World> World::single() { return std::make_shared<World>(); }

std::shared_ptr<World> World::join(const LaunchEnvironment &env, torch::Device device,
                                   std::chrono::milliseconds timeout) {
  auto world = std::make_shared<World>();
  world->rank_ = env.rank;
  world->size_ = env.worldSize;
  world->device_ = device;
  if (env.worldSize == 1)
    return world;
  try {
    // Rank 0 serves the store unless torchrun's agent already serves one on MASTER_PORT; keys are namespaced
    // per restart of the job, then per group, as torch.distributed does.
    c10d::TCPStoreOptions options;
    options.port = static_cast<std::uint16_t>(env.masterPort);
    options.isServer = env.rank == 0 && !env.agentStore;
    options.numWorkers = env.worldSize;
    options.waitWorkers = true;
    options.timeout = timeout;
    auto tcp = c10::make_intrusive<c10d::TCPStore>(env.masterAddr, options);
    auto store = c10::make_intrusive<c10d::PrefixStore>("attempt_" + env.restartCount + "/default_pg/0/", tcp);
    auto group = c10::make_intrusive<c10d::ProcessGroup>(store, env.rank, env.worldSize);
    if (device.is_cuda()) {
#ifdef ALIGN_HAVE_NCCL
      group->setDefaultBackend(c10d::ProcessGroup::BackendType::NCCL);
      group->setBackend(c10::DeviceType::CUDA, c10d::ProcessGroup::BackendType::NCCL,
                        makeNcclBackend(store, env.rank, env.worldSize, timeout));
#else
      throw Error("--device cuda with WORLD_SIZE > 1 needs NCCL, which this runtime was built without");
#endif
    } else {
      group->setDefaultBackend(c10d::ProcessGroup::BackendType::GLOO);
      group->setBackend(c10::DeviceType::CPU, c10d::ProcessGroup::BackendType::GLOO,
                        makeGlooBackend(store, env.rank, env.worldSize, timeout));
    }
    group->setGroupName("0");
    world->group_ = group;
  } catch (const Error &) {
    throw;
  } catch (const std::exception &e) {
    throw Error("rank " + std::to_string(env.rank) + " of " + std::to_string(env.worldSize) + ": joining the " +
                "process group at " + env.masterAddr + ":" + std::to_string(env.masterPort) + " failed: " +
                std::string(e.what()).substr(0, 400));
  }
  return world;
}

void World::allReduceSum(torch::Tensor &tensor) const {
  if (!group_)
    return;
  std::vector<torch::Tensor> tensors{tensor};
  group_->allreduce(tensors)->wait();
}

void World::allReduceSum(std::vector<double> &values) const {
  if (!group_ || values.empty())
    return;
  torch::Tensor t = torch::tensor(values, torch::kFloat64).to(device_);
  allReduceSum(t);
  t = t.to(torch::kCPU).contiguous();
  std::copy(t.data_ptr<double>(), t.data_ptr<double>() + t.numel(), values.begin());
}

void World::broadcastFrom(int root, std::vector<torch::Tensor> &tensors) const {
  if (!group_ || tensors.empty())
    return;
  // One flat buffer: a c10d collective's tensor list means one tensor per device, not many of one.
  std::vector<torch::Tensor> flat{torch::utils::flatten_dense_tensors(tensors)};
  c10d::BroadcastOptions options;
  options.rootRank = root;
  group_->broadcast(flat, options)->wait();
  std::vector<torch::Tensor> values = torch::utils::unflatten_dense_tensors(flat[0], tensors);
  for (size_t i = 0; i < tensors.size(); ++i)
    tensors[i].copy_(values[i]);
}

std::string World::streamToWriter(
    int from, const std::function<void(const std::function<void(const void *, size_t)> &)> &produce) const {
  std::string received;
  if (!group_ || (rank_ != from && rank_ != 0) || from == 0)
    return received;
  // Each chunk is its length (an int64; -1 ends the stream), then its bytes; a CUDA group (NCCL) moves
  // device copies.
  const int tag = from;
  auto onWire = [&](const torch::Tensor &host) { return device_.is_cpu() ? host : host.to(device_); };
  if (rank_ == from) {
    auto sendLength = [&](int64_t n) {
      std::vector<torch::Tensor> wire{onWire(torch::full({1}, n, torch::kInt64))};
      group_->send(wire, 0, tag)->wait();
    };
    produce([&](const void *data, size_t size) {
      if (size == 0)
        return;
      sendLength(static_cast<int64_t>(size));
      std::vector<torch::Tensor> wire{onWire(
          torch::from_blob(const_cast<void *>(data), {static_cast<int64_t>(size)}, torch::kUInt8))};
      group_->send(wire, 0, tag)->wait();
    });
    sendLength(-1);
    return received;
  }
  for (;;) {
    std::vector<torch::Tensor> length{onWire(torch::zeros({1}, torch::kInt64))};
    group_->recv(length, from, tag)->wait();
    const int64_t n = length[0].cpu().item<int64_t>();
    if (n < 0)
      return received;
    const size_t at = received.size();
    received.resize(at + static_cast<size_t>(n));
    torch::Tensor view = torch::from_blob(received.data() + at, {n}, torch::kUInt8);
    std::vector<torch::Tensor> wire{onWire(view)};
    group_->recv(wire, from, tag)->wait();
    if (!device_.is_cpu())
      view.copy_(wire[0].cpu());
  }
}

std::vector<double> World::allGather(const std::vector<double> &local) const {
  if (!group_)
    return local;
  // Counts first, then every rank's values padded to the largest count.
  std::vector<double> counts(static_cast<size_t>(size_), 0.0);
  counts[static_cast<size_t>(rank_)] = static_cast<double>(local.size());
  allReduceSum(counts);
  int64_t widest = 0;
  for (double c : counts)
    widest = std::max<int64_t>(widest, static_cast<int64_t>(c));
  std::vector<double> padded(static_cast<size_t>(widest * size_), 0.0);
  std::copy(local.begin(), local.end(), padded.begin() + static_cast<int64_t>(rank_) * widest);
  allReduceSum(padded); // each rank fills only its own block, so the sum is a gather
  std::vector<double> out;
  for (int r = 0; r < size_; ++r)
    out.insert(out.end(), padded.begin() + static_cast<int64_t>(r) * widest,
               padded.begin() + static_cast<int64_t>(r) * widest + static_cast<int64_t>(counts[r]));
  return out;
}

std::map<std::string, double> World::sumMaps(const std::map<std::string, double> &local) const {
  if (!group_)
    return local;
  // Every rank's keys as bytes with a '\n' after each (metric keys hold none), and its values in the same
  // order: gathered in rank order, the i-th key of the gathered text goes with the i-th gathered value.
  std::vector<double> keys, values;
  for (const auto &[key, value] : local) {
    for (unsigned char c : key)
      keys.push_back(static_cast<double>(c));
    keys.push_back('\n');
    values.push_back(value);
  }
  const std::vector<double> allKeys = allGather(keys), allValues = allGather(values);
  std::map<std::string, double> sums;
  std::string key;
  size_t next = 0;
  for (double c : allKeys) {
    if (c != '\n') {
      key += static_cast<char>(static_cast<unsigned char>(c));
      continue;
    }
    sums[key] += allValues.at(next++);
    key.clear();
  }
  return sums;
}

void World::barrier() const {
  if (group_)
    group_->barrier()->wait();
}

std::pair<int64_t, int64_t> sliceOf(int64_t count, int rank, int size) {
  const int64_t base = count / size, extra = count % size;
  const int64_t begin = rank * base + std::min<int64_t>(rank, extra);
  return {begin, begin + base + (rank < extra ? 1 : 0)};
}

} // namespace align::rt::dist
