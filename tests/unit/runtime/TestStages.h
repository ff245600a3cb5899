//===- TestStages.h - A tiny DPO stage shared by runtime tests -*- C++ -*-===//
//
// Preference pairs over short byte strings, prepared with the byte tokenizer, and a DPO stage on the tiny
// preset that trains them: what the stage-loop and state-file tests run.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "data/Examples.h"
#include "data/PreparedData.h"
#include "model/Checkpoint.h"
#include "tokenizer/Tokenizer.h"
#include "train/StageRunner.h"

#include <memory>
#include <string>
#include <vector>

namespace align::rt::testing {

/// Preference pairs over short byte strings: the chosen response repeats the prompt's letter.
inline std::vector<data::Example> pairExamples(int n) {
  std::vector<data::Example> out;
  for (int i = 0; i < n; ++i) {
    data::Example e;
    const char letter = static_cast<char>('a' + i % 7);
    e.prompt = std::string("say ") + letter + ":";
    e.responses = {std::string(3 + i % 4, letter), std::string(2 + i % 3, 'z')};
    e.scores = {1.0, 0.0};
    e.weight = 1.0 + 0.25 * (i % 3);
    out.push_back(e);
  }
  return out;
}

struct Fixture {
  std::unique_ptr<Tokenizer> tokenizer = makeByteTokenizer();
  data::TokenizeOptions tokenize{48, 24, true, true, true};

  std::vector<PreparedExample> prepare(const std::vector<data::Example> &examples, bool pairs, bool nll) {
    PrepareOptions options;
    options.tokenize = tokenize;
    options.pairs = pairs;
    options.nll = nll;
    int64_t unused = 0;
    return prepareExamples(examples, *tokenizer, options, &unused);
  }

  StageInputs dpoStage(const std::string &name, int examples = 16) {
    StageInputs in;
    in.name = name;
    in.terms = {termOf(DpoParams{0.5, 0.0})};
    in.schedule.batch = 4;
    in.schedule.lr = 3e-3;
    in.schedule.lrSchedule = LRScheduleKind::cosine;
    in.schedule.warmup = 2;
    in.schedule.logEvery = 1;
    in.schedule.seed = 7;
    in.schedule.precision = Precision::fp32; // the equivalence tests compare weights at float32 tolerance
    in.train = prepare(pairExamples(examples), true, false);
    in.padId = 258;
    in.policy = presetCausalLM("tiny", tokenizer->vocabSize(), 3);
    in.reference = presetCausalLM("tiny", tokenizer->vocabSize(), 3);
    in.fingerprint = "test";
    return in;
  }
};

} // namespace align::rt::testing
