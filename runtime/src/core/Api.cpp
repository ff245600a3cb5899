//===- Api.cpp - The public interface over the internal runtime -----------===//

#include "align/rt/api.h"

#include "model/Checkpoint.h"
#include "tokenizer/Tokenizer.h"

#include <torch/torch.h>

namespace align::rt {

Device parseDevice(const std::string &name) {
  if (name == "cpu")
    return Device::CPU;
  if (name == "cuda") {
    if (!torch::cuda::is_available())
      throw Error("--device cuda: no CUDA device is available on this machine");
    return Device::CUDA;
  }
  throw Error("unknown device '" + name + "' (expected cpu or cuda)");
}

void setThreads(int threads) {
  if (threads > 0)
    torch::set_num_threads(threads);
}

static torch::Device torchDevice(Device device) { return device == Device::CUDA ? torch::kCUDA : torch::kCPU; }

struct LanguageModel::Impl {
  CausalLM model{nullptr};
  torch::Device device = torch::kCPU;
};

LanguageModel::LanguageModel(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
LanguageModel::~LanguageModel() = default;

static std::unique_ptr<LanguageModel::Impl> place(CausalLM model, Device device) {
  auto impl = std::make_unique<LanguageModel::Impl>();
  impl->device = torchDevice(device);
  model->to(impl->device);
  model->eval();
  impl->model = std::move(model);
  return impl;
}

std::unique_ptr<LanguageModel> LanguageModel::load(const std::string &dir, Device device) {
  return std::unique_ptr<LanguageModel>(new LanguageModel(place(loadCausalLM(dir), device)));
}

std::unique_ptr<LanguageModel> LanguageModel::preset(const std::string &name, int64_t vocabSize, uint64_t seed,
                                                     Device device) {
  return std::unique_ptr<LanguageModel>(new LanguageModel(place(presetCausalLM(name, vocabSize, seed), device)));
}

void LanguageModel::save(const std::string &dir) const { saveCausalLM(impl_->model, dir); }

std::vector<double> LanguageModel::tokenLogprobs(const std::vector<int64_t> &ids) const {
  if (ids.size() < 2)
    return {};
  torch::NoGradGuard noGrad;
  torch::Tensor input = torch::tensor(ids, torch::kInt64).unsqueeze(0).to(impl_->device);
  torch::Tensor out = align::rt::tokenLogprobs(impl_->model, input).squeeze(0).to(torch::kCPU, torch::kFloat64);
  return std::vector<double>(out.data_ptr<double>(), out.data_ptr<double>() + out.numel());
}

int64_t LanguageModel::vocabSize() const { return impl_->model->config.vocabSize; }

struct TextTokenizer::Impl {
  std::unique_ptr<Tokenizer> tokenizer;
};

TextTokenizer::TextTokenizer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
TextTokenizer::~TextTokenizer() = default;

std::unique_ptr<TextTokenizer> TextTokenizer::open(const std::string &spec) {
  auto impl = std::make_unique<Impl>();
  impl->tokenizer = spec == "bytes" ? makeByteTokenizer() : loadHfTokenizer(spec);
  return std::unique_ptr<TextTokenizer>(new TextTokenizer(std::move(impl)));
}

std::vector<int64_t> TextTokenizer::encode(const std::string &text) const { return impl_->tokenizer->encode(text); }
std::string TextTokenizer::decode(const std::vector<int64_t> &ids) const { return impl_->tokenizer->decode(ids); }
int64_t TextTokenizer::vocabSize() const { return impl_->tokenizer->vocabSize(); }

} // namespace align::rt
