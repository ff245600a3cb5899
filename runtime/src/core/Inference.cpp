//===- Inference.cpp - The public inference classes over the runtime ------===//

#include "align/rt/Inference.h"

#include "data/Direction.h"
#include "data/Template.h"

#include "aggregate/MixtureFile.h"
#include "data/Collate.h"
#include "model/Checkpoint.h"
#include "model/Generate.h"
#include "model/RewardModel.h"
#include "model/UserModel.h"
#include "tokenizer/Tokenizer.h"

#include <torch/torch.h>

#include <algorithm>

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
  UserModel users{nullptr};
  int64_t userId = 0; ///< the selected user (0: generic)

  /// The selected user's tokens [1, T, hidden], undefined without a user model.
  torch::Tensor softTokens() {
    if (!users)
      return {};
    torch::NoGradGuard noGrad;
    return users->forward(torch::tensor({userId}, torch::kInt64).to(device));
  }
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
  auto impl = place(loadCausalLM(dir), device);
  impl->users = loadUserModel(dir);
  if (impl->users) {
    impl->users->to(impl->device);
    impl->users->eval();
  }
  return std::unique_ptr<LanguageModel>(new LanguageModel(std::move(impl)));
}

std::vector<std::string> LanguageModel::users() const {
  return impl_->users ? impl_->users->names : std::vector<std::string>{};
}

bool LanguageModel::selectUser(const std::string &user) {
  if (!impl_->users)
    throw Error("this checkpoint has no user model (user_model.json), so it serves no users");
  impl_->userId = user.empty() ? 0 : impl_->users->idOf(user);
  return impl_->userId != 0;
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
  torch::Tensor out =
      align::rt::tokenLogprobs(impl_->model, input, impl_->softTokens()).squeeze(0).to(torch::kCPU, torch::kFloat64);
  return std::vector<double>(out.data_ptr<double>(), out.data_ptr<double>() + out.numel());
}

static SamplingOptions samplingOptions(const GenerationSettings &settings) {
  SamplingOptions options;
  options.maxNewTokens = settings.maxNewTokens;
  options.temperature = settings.temperature;
  options.topP = settings.topP;
  options.topK = settings.topK;
  options.seed = settings.seed;
  if (settings.eosId >= 0)
    options.eosId = settings.eosId;
  return options;
}

std::vector<int64_t> LanguageModel::generate(const std::vector<int64_t> &prompt, int64_t maxNewTokens, double temperature,
                                             double topP, uint64_t seed, int64_t eosId) const {
  GenerationSettings settings;
  settings.maxNewTokens = maxNewTokens;
  settings.temperature = temperature;
  settings.topP = topP;
  settings.seed = seed;
  settings.eosId = eosId;
  return generate(prompt, settings);
}

std::vector<int64_t> LanguageModel::generate(const std::vector<int64_t> &prompt, const GenerationSettings &settings) const {
  for (int64_t id : prompt)
    if (id < 0 || id >= vocabSize())
      throw Error("prompt token id " + std::to_string(id) + " is outside the vocabulary of " + std::to_string(vocabSize()));
  return align::rt::generate(impl_->model, prompt, samplingOptions(settings), impl_->softTokens());
}

std::vector<std::vector<std::vector<int64_t>>>
LanguageModel::generateSamples(const std::vector<std::vector<int64_t>> &prompts, int64_t samplesPerPrompt,
                               const GenerationSettings &settings, int64_t padId, int64_t maxRowsPerBatch,
                               const std::function<bool(size_t, int64_t)> &wanted) const {
  if (samplesPerPrompt < 1)
    throw Error("generation needs at least one sample per prompt, got " + std::to_string(samplesPerPrompt));
  std::vector<SampleSlot> slots;
  for (size_t i = 0; i < prompts.size(); ++i)
    for (int64_t j = 0; j < samplesPerPrompt; ++j)
      if (!wanted || wanted(i, j))
        slots.push_back({static_cast<int64_t>(i), j});
  std::vector<std::vector<int64_t>> rows = generateRows(impl_->model, prompts, slots, samplingOptions(settings),
                                                        std::max<int64_t>(padId, 0), maxRowsPerBatch, impl_->softTokens());
  std::vector<std::vector<std::vector<int64_t>>> out(prompts.size(),
                                                     std::vector<std::vector<int64_t>>(static_cast<size_t>(samplesPerPrompt)));
  for (size_t k = 0; k < slots.size(); ++k)
    out[static_cast<size_t>(slots[k].prompt)][static_cast<size_t>(slots[k].sample)] = std::move(rows[k]);
  return out;
}

int64_t LanguageModel::vocabSize() const { return impl_->model->config.vocabSize; }

struct RewardScorer::Impl {
  RewardModel model{nullptr};
  torch::Device device = torch::kCPU;
  UserModel users{nullptr}; ///< a P-RM's
  int64_t userId = 0;       ///< the selected user (0: generic)
};

RewardScorer::RewardScorer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
RewardScorer::~RewardScorer() = default;

static std::unique_ptr<RewardScorer> placeScorer(RewardModel model, Device device) {
  auto impl = std::make_unique<RewardScorer::Impl>();
  impl->device = torchDevice(device);
  model->to(impl->device);
  model->eval();
  impl->model = std::move(model);
  return std::make_unique<RewardScorer>(std::move(impl));
}

std::unique_ptr<RewardScorer> RewardScorer::load(const std::string &dir, Device device) {
  std::unique_ptr<RewardScorer> scorer = placeScorer(loadRewardModel(dir), device);
  scorer->impl_->users = loadUserModel(dir);
  if (scorer->impl_->users) {
    scorer->impl_->users->to(scorer->impl_->device);
    scorer->impl_->users->eval();
  }
  return scorer;
}

std::vector<std::string> RewardScorer::users() const {
  return impl_->users ? impl_->users->names : std::vector<std::string>{};
}

bool RewardScorer::selectUser(const std::string &user) {
  if (!impl_->users)
    throw Error("this reward model has no user model (user_model.json), so it serves no users");
  impl_->userId = user.empty() ? 0 : impl_->users->idOf(user);
  return impl_->userId != 0;
}

std::unique_ptr<RewardScorer> RewardScorer::fromLanguageModel(const std::string &lmDir, int64_t outputs,
                                                              const std::string &pooling, uint64_t seed) {
  CausalLM lm = loadCausalLM(lmDir);
  return placeScorer(rewardModelFrom(lm, outputs, parsePooling(pooling), seed), Device::CPU);
}

void RewardScorer::save(const std::string &dir) const { saveRewardModel(impl_->model, dir); }
int64_t RewardScorer::outputs() const { return impl_->model->outputs; }
int64_t RewardScorer::vocabSize() const { return impl_->model->config.vocabSize; }

std::vector<std::vector<double>> RewardScorer::score(const std::vector<std::vector<int64_t>> &sequences,
                                                     int64_t padId, int64_t batch) const {
  torch::NoGradGuard noGrad;
  if (batch < 0)
    throw Error("RewardScorer::score: batch must be 0 (automatic) or positive, got " + std::to_string(batch));
  std::vector<std::vector<double>> out(sequences.size());
  // Automatic: batches of similar length (sorted), right-padded, so padding costs little.
  std::vector<size_t> order(sequences.size());
  for (size_t i = 0; i < order.size(); ++i)
    order[i] = i;
  if (batch == 0)
    std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return sequences[a].size() < sequences[b].size(); });
  const size_t kBatch = batch == 0 ? 16 : static_cast<size_t>(batch);
  for (size_t start = 0; start < order.size(); start += kBatch) {
    size_t end = std::min(order.size(), start + kBatch);
    size_t longest = 1;
    for (size_t k = start; k < end; ++k)
      longest = std::max(longest, sequences[order[k]].size());
    torch::Tensor ids = torch::full({int64_t(end - start), int64_t(longest)}, std::max<int64_t>(padId, 0), torch::kInt64);
    torch::Tensor mask = torch::zeros_like(ids);
    for (size_t k = start; k < end; ++k) {
      const auto &seq = sequences[order[k]];
      if (seq.empty())
        throw Error("cannot score an empty sequence");
      ids[k - start].slice(0, 0, seq.size()).copy_(torch::tensor(seq, torch::kInt64));
      mask[k - start].slice(0, 0, seq.size()).fill_(1);
    }
    torch::Tensor softTokens; // a P-RM reads the selected user's tokens after BOS
    if (impl_->users)
      softTokens = impl_->users->forward(torch::full({ids.size(0)}, impl_->userId, torch::kInt64).to(impl_->device));
    torch::Tensor rewards =
        impl_->model(ids.to(impl_->device), mask.to(impl_->device), softTokens).to(torch::kCPU, torch::kFloat64);
    for (size_t k = start; k < end; ++k)
      out[order[k]] = std::vector<double>(rewards[k - start].data_ptr<double>(),
                                          rewards[k - start].data_ptr<double>() + rewards.size(1));
  }
  return out;
}

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
int64_t TextTokenizer::bosId() const { return impl_->tokenizer->bosId().value_or(-1); }
int64_t TextTokenizer::eosId() const { return impl_->tokenizer->eosId().value_or(-1); }
int64_t TextTokenizer::padId() const { return impl_->tokenizer->padId().value_or(-1); }

std::vector<std::vector<int64_t>> TextTokenizer::encodePromptResponses(const std::string &prompt,
                                                                       const std::vector<std::string> &responses,
                                                                       const PromptTruncation &truncation) const {
  data::TokenizeOptions options;
  options.maxLength = truncation.maxLength;
  options.maxPromptLength = truncation.maxPromptLength;
  options.truncateLeft = truncation.truncateLeft;
  std::vector<std::vector<int64_t>> out;
  for (data::TokenizedText &text : data::tokenizePromptResponses(*impl_->tokenizer, prompt, responses, options))
    out.push_back(std::move(text.ids));
  return out;
}

PolicyMixture PolicyMixture::load(const std::string &dir) {
  MixtureFile file = readMixture(dir);
  return {file.policies, file.weights};
}

size_t PolicyMixture::pick(uint64_t seed, uint64_t index) const {
  return pickPolicy(MixtureFile{policies, weights}, seed, index);
}

std::string directionPrompt(const std::string &modelDir, const std::string &direction, const std::string &prompt) {
  const SavedDirection saved = readDirectionFile(modelDir);
  const std::string system = renderDirection(saved.spec, parseDirectionArgument(direction, saved.spec));
  const std::string rendered =
      saved.promptTemplate.empty() ? prompt : data::Template::parse(saved.promptTemplate).renderPrompt(prompt);
  return conditionedPrompt(system, rendered);
}

} // namespace align::rt
