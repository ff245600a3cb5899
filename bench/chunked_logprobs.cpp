//===- chunked_logprobs.cpp - Chunked vs unfused LM-head log-probs: time and memory ===//
//
// Measures the loss computation −mean log p(target) through the LM head, forward and backward, two ways:
// unfused (logits = hidden @ Wᵀ for every row, log_softmax, gather: tokenLogprobs() in model/Llama.h) and
// chunked (chunkedTokenLogprobs() in objectives/ChunkedLogprobs.h) at several chunk sizes. For each it
// reports the median wall time of a forward+backward after warm-up and the peak memory of one, and the
// ratios chunked / unfused. Every configuration runs in a fresh child process (fork), so one
// configuration's cached or retained memory cannot flatter the next, and an out-of-memory kill loses one
// row rather than the run. The parent never touches torch's thread pools or CUDA before forking, which
// is what makes forking safe. Method details are in bench/README.md.
//
//===----------------------------------------------------------------------===//

#include "support/Files.h"
#include "support/CountingAllocator.h"
#include "objectives/ChunkedLogprobs.h"

#include <ATen/DeviceAccelerator.h>
#include <c10/core/CPUAllocator.h>
#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <sys/wait.h>
#include <unistd.h>
#include <vector>

using namespace align::rt;
using json = nlohmann::json;

namespace {

struct Options {
  std::vector<int64_t> vocabs = {32768, 131072};
  int64_t hidden = 1024;
  int64_t rows = 2048; // batch × sequence
  std::vector<int64_t> chunks = {128, 256, 512};
  std::string dtype = "float32";
  std::string device = "cpu";
  int runs = 5;   // timed forward+backward passes; the median is reported
  int warmup = 1; // untimed passes after the first (memory-measured) one
  int threads = 0; // 0: torch's default
  std::string out = ALIGN_BENCH_DEFAULT_OUT;
};

const char *usage =
    "usage: bench_chunked_logprobs [--vocab 32768,131072] [--hidden 1024] [--rows 2048] [--chunks 128,256,512]\n"
    "                              [--dtype float32|bfloat16] [--device cpu|cuda] [--runs 5] [--warmup 1]\n"
    "                              [--threads N] [--out FILE]\n";

std::vector<int64_t> parseList(const std::string &text) {
  std::vector<int64_t> values;
  std::stringstream stream(text);
  for (std::string item; std::getline(stream, item, ',');)
    values.push_back(std::stoll(item));
  return values;
}

Options parseOptions(int argc, char **argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    std::string flag = argv[i];
    if (flag == "--help" || flag == "-h") {
      std::cout << usage;
      std::exit(0);
    }
    if (i + 1 >= argc)
      throw std::runtime_error("missing value after " + flag + "\n" + usage);
    std::string value = argv[++i];
    if (flag == "--vocab")
      o.vocabs = parseList(value);
    else if (flag == "--hidden")
      o.hidden = std::stoll(value);
    else if (flag == "--rows")
      o.rows = std::stoll(value);
    else if (flag == "--chunks")
      o.chunks = parseList(value);
    else if (flag == "--dtype")
      o.dtype = value;
    else if (flag == "--device")
      o.device = value;
    else if (flag == "--runs")
      o.runs = std::stoi(value);
    else if (flag == "--warmup")
      o.warmup = std::stoi(value);
    else if (flag == "--threads")
      o.threads = std::stoi(value);
    else if (flag == "--out")
      o.out = value;
    else
      throw std::runtime_error("unknown flag " + flag + "\n" + usage);
  }
  if (o.dtype != "float32" && o.dtype != "bfloat16")
    throw std::runtime_error("--dtype must be float32 or bfloat16, got " + o.dtype);
  if (o.device != "cpu" && o.device != "cuda")
    throw std::runtime_error("--device must be cpu or cuda, got " + o.device);
  if (o.runs < 1 || o.hidden < 1 || o.rows < 1 || o.vocabs.empty())
    throw std::runtime_error("--runs, --hidden, --rows must be positive and --vocab non-empty");
  return o;
}

CountingAllocator countingAllocator; // installed in each child before any tensor exists

/// A field of /proc/self/status in bytes (VmRSS, VmHWM), or −1.
int64_t procStatusBytes(const std::string &field) {
  std::ifstream status("/proc/self/status");
  for (std::string line; std::getline(status, line);)
    if (line.compare(0, field.size() + 1, field + ":") == 0)
      return std::stoll(line.substr(field.size() + 1)) * 1024; // the kernel reports kB
  return -1;
}

/// Resets VmHWM to the current RSS (Linux ≥ 4.0), so the next VmHWM is the peak of what follows.
bool resetRssPeak() {
  std::ofstream clearRefs("/proc/self/clear_refs");
  clearRefs << "5";
  return bool(clearRefs.flush());
}

double median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  size_t n = values.size();
  return n % 2 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
}

/// One configuration, in the child process: `chunkRows` 0 is the unfused path.
json measureConfiguration(const Options &o, int64_t vocab, int64_t chunkRows) {
  c10::Allocator *defaultAllocator = c10::GetCPUAllocator();
  countingAllocator.base = defaultAllocator;
  c10::SetCPUAllocator(&countingAllocator);
  if (o.threads > 0)
    torch::set_num_threads(o.threads);
  bool cuda = o.device == "cuda";
  if (cuda && !torch::cuda::is_available())
    throw std::runtime_error("--device cuda, but no CUDA device is available");
  torch::Device device = cuda ? torch::Device(torch::kCUDA, 0) : torch::Device(torch::kCPU);
  auto dtype = o.dtype == "bfloat16" ? torch::kBFloat16 : torch::kFloat32;
  auto options = torch::TensorOptions().dtype(dtype).device(device);

  torch::manual_seed(1);
  torch::Tensor hidden = torch::randn({o.rows, o.hidden}, options).requires_grad_();
  torch::Tensor weight = (torch::randn({vocab, o.hidden}, options) * 0.02).requires_grad_();
  torch::Tensor targets = torch::randint(0, vocab, {o.rows}, torch::TensorOptions().dtype(torch::kInt64).device(device));
  auto sync = [&] {
    if (cuda)
      at::accelerator::synchronizeDevice(0);
  };
  auto step = [&] {
    hidden.mutable_grad().reset();
    weight.mutable_grad().reset();
    torch::Tensor logprobs;
    if (chunkRows == 0) { // tokenLogprobs()' math: float32 logits for every row, log_softmax, gather
      torch::Tensor logits = torch::nn::functional::linear(hidden, weight).to(torch::kFloat32);
      logprobs = torch::log_softmax(logits, -1).gather(-1, targets.unsqueeze(-1)).squeeze(-1);
    } else {
      logprobs = chunkedTokenLogprobs(hidden, weight, targets, chunkRows);
    }
    (-logprobs.mean()).backward();
    sync();
  };

  // The first pass in this fresh process measures memory: everything it allocates beyond the inputs
  // (logits or chunks, the gradients of weight and hidden states, temporaries) counts.
  sync();
  int64_t rssBefore = procStatusBytes("VmRSS");
  bool rssReset = !cuda && resetRssPeak();
  int64_t tensorBefore = 0;
  if (cuda) {
    at::accelerator::resetPeakStats(0);
    tensorBefore = at::accelerator::getDeviceStats(0).allocated_bytes[0].current;
  } else {
    tensorBefore = countingAllocator.current.load();
    countingAllocator.peak = tensorBefore;
  }
  step();
  int64_t peakTensor = cuda ? at::accelerator::getDeviceStats(0).allocated_bytes[0].peak - tensorBefore
                            : countingAllocator.peak.load() - tensorBefore;
  int64_t peakRss = rssReset ? procStatusBytes("VmHWM") - rssBefore : -1;

  for (int i = 0; i < o.warmup; ++i)
    step();
  std::vector<double> seconds;
  for (int i = 0; i < o.runs; ++i) {
    auto start = std::chrono::steady_clock::now();
    step();
    seconds.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  }
  c10::SetCPUAllocator(defaultAllocator);
  return {{"path", chunkRows == 0 ? "unfused" : "chunked"},
          {"vocab", vocab},
          {"chunk_rows", chunkRows == 0 ? json(nullptr) : json(chunkRows)},
          {"seconds", seconds},
          {"median_seconds", median(seconds)},
          {"peak_tensor_bytes", peakTensor},
          {"peak_rss_bytes", peakRss < 0 ? json(nullptr) : json(peakRss)},
          {"threads", torch::get_num_threads()}};
}

/// Runs measureConfiguration in a forked child and returns its JSON, or {"error": …}.
json measureInChild(const Options &o, int64_t vocab, int64_t chunkRows) {
  int fds[2];
  if (pipe(fds) != 0)
    throw std::runtime_error(std::string("pipe: ") + std::strerror(errno));
  std::cout.flush();
  pid_t pid = fork();
  if (pid < 0)
    throw std::runtime_error(std::string("fork: ") + std::strerror(errno));
  if (pid == 0) {
    close(fds[0]);
    std::string text;
    try {
      text = measureConfiguration(o, vocab, chunkRows).dump();
    } catch (const std::exception &e) {
      text = json{{"error", e.what()}}.dump();
    }
    for (size_t done = 0; done < text.size();) {
      ssize_t n = write(fds[1], text.data() + done, text.size() - done);
      if (n <= 0)
        break;
      done += size_t(n);
    }
    close(fds[1]);
    _exit(0); // no static destructors: they belong to the parent
  }
  close(fds[1]);
  std::string text;
  char buffer[4096];
  for (ssize_t n; (n = read(fds[0], buffer, sizeof buffer)) > 0;)
    text.append(buffer, size_t(n));
  close(fds[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  json result = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (WIFSIGNALED(status))
    result = json{{"error", "killed by signal " + std::to_string(WTERMSIG(status)) +
                                (WTERMSIG(status) == SIGKILL ? " (out of memory?)" : "")}};
  else if (result.is_discarded())
    result = json{{"error", "no result from the child process"}};
  result["vocab"] = vocab;
  result["path"] = chunkRows == 0 ? "unfused" : "chunked";
  result["chunk_rows"] = chunkRows == 0 ? json(nullptr) : json(chunkRows);
  return result;
}

std::string mib(const json &bytes) {
  if (!bytes.is_number())
    return "-";
  char text[32];
  std::snprintf(text, sizeof text, "%.1f", bytes.get<double>() / (1 << 20));
  return text;
}

std::string fixed(const json &value, const char *format) {
  if (!value.is_number())
    return "-";
  char text[32];
  std::snprintf(text, sizeof text, format, value.get<double>());
  return text;
}

json ratio(const json &chunked, const json &unfused, const char *field) {
  if (!chunked.contains(field) || !unfused.contains(field) || !chunked[field].is_number() ||
      !unfused[field].is_number() || unfused[field].get<double>() <= 0)
    return nullptr;
  return chunked[field].get<double>() / unfused[field].get<double>();
}

std::string cpuModel() {
  std::ifstream cpuinfo("/proc/cpuinfo");
  for (std::string line; std::getline(cpuinfo, line);)
    if (line.compare(0, 10, "model name") == 0)
      return line.substr(line.find(':') + 2);
  return "unknown";
}

} // namespace

int main(int argc, char **argv) {
  try {
    Options o = parseOptions(argc, argv);
    std::vector<json> measurements, ratios;
    std::printf("rows %lld, hidden %lld, %s on %s, median of %d runs after %d warm-up\n\n", (long long)o.rows,
                (long long)o.hidden, o.dtype.c_str(), o.device.c_str(), o.runs, o.warmup + 1);
    std::printf("%8s %-8s %6s %10s %7s %13s %7s %11s %7s\n", "vocab", "path", "chunk", "median s", "time x",
                "peak tensors", "mem x", "peak RSS", "RSS x");
    for (int64_t vocab : o.vocabs) {
      json unfused = measureInChild(o, vocab, 0);
      measurements.push_back(unfused);
      auto row = [&](const json &m, const json &timeRatio, const json &memRatio, const json &rssRatio) {
        std::string chunk = m["chunk_rows"].is_number() ? std::to_string(m["chunk_rows"].get<int64_t>()) : "-";
        std::printf("%8lld %-8s %6s %10s %7s %9s MiB %7s %7s MiB %7s%s\n", (long long)vocab,
                    m["path"].get<std::string>().c_str(), chunk.c_str(), fixed(m.value("median_seconds", json()), "%.3f").c_str(),
                    fixed(timeRatio, "%.2f").c_str(), mib(m.value("peak_tensor_bytes", json())).c_str(),
                    fixed(memRatio, "%.3f").c_str(), mib(m.value("peak_rss_bytes", json())).c_str(),
                    fixed(rssRatio, "%.3f").c_str(),
                    m.contains("error") ? ("  error: " + m["error"].get<std::string>()).c_str() : "");
        std::fflush(stdout);
      };
      row(unfused, 1.0, 1.0, unfused.value("peak_rss_bytes", json()).is_number() ? json(1.0) : json());
      for (int64_t chunkRows : o.chunks) {
        json chunked = measureInChild(o, vocab, chunkRows);
        measurements.push_back(chunked);
        json r = {{"vocab", vocab},
                  {"chunk_rows", chunkRows},
                  {"time", ratio(chunked, unfused, "median_seconds")},
                  {"peak_tensor_bytes", ratio(chunked, unfused, "peak_tensor_bytes")},
                  {"peak_rss_bytes", ratio(chunked, unfused, "peak_rss_bytes")}};
        ratios.push_back(r);
        row(chunked, r["time"], r["peak_tensor_bytes"], r["peak_rss_bytes"]);
      }
    }

    json threads = nullptr;
    for (const json &m : measurements)
      if (m.contains("threads"))
        threads = m["threads"];
    json report = {
        {"benchmark", "chunked_logprobs"},
        {"machine",
         {{"nproc", sysconf(_SC_NPROCESSORS_ONLN)}, {"cpu", cpuModel()}, {"torch_version", TORCH_VERSION},
          {"torch_threads", threads}, {"device", o.device}}},
        {"config",
         {{"rows", o.rows}, {"hidden", o.hidden}, {"vocabs", o.vocabs}, {"chunks", o.chunks}, {"dtype", o.dtype},
          {"runs", o.runs}, {"warmup", o.warmup + 1}}},
        {"goal", {{"memory_ratio_at_most", 0.25}, {"time_ratio_at_most", 1.0}, {"at_vocab", 131072}}},
        {"measurements", measurements},
        {"ratios", ratios}};
    std::string::size_type slash = o.out.rfind('/');
    if (slash != std::string::npos && slash > 0)
      makeDirectories(o.out.substr(0, slash));
    std::ofstream file(o.out);
    file << report.dump(2) << "\n";
    if (!file.flush())
      throw std::runtime_error("cannot write " + o.out);
    std::printf("\nwrote %s\n", o.out.c_str());
    return 0;
  } catch (const std::exception &e) {
    std::fprintf(stderr, "bench_chunked_logprobs: %s\n", e.what());
    return 1;
  }
}
