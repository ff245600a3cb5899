//===- TrainerEmitter.h - train.program → the statements of run() -*- C++ -*-===//
//
// Internal to compiler/emit. Walks one train.program in order and writes the runtime calls that do what it
// says: declarations (ProgramEmission.cpp), stages (StageEmission.cpp), evaluations. Every construct the
// runtime cannot execute is reported at its op (RuntimeSupport.h) and the walk goes on, so one run shows
// every such construct; the caller discards the text when anything was reported.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "CppText.h"
#include "TrainerWriter.h"

#include "align/Dialect/Train/TrainOps.h"

#include "llvm/ADT/DenseSet.h"
#include "llvm/ADT/StringSet.h"

#include <optional>
#include <string>
#include <vector>

namespace align::emit {

/// What a model value of the step program is, in the runtime's terms.
struct ResolvedModel {
  std::string declaration;          ///< the train.load_model it starts from ("" for a stage result)
  std::string stageResult;          ///< or: the stage whose final model it is
  train::AttachOp rewardHead;       ///< a reward head on the declaration, if any
  train::AttachOp adapter;          ///< a LoRA adapter on it, if any
  train::AttachOp users;            ///< a P-RLHF users model on it (soft tokens after BOS), if any
  train::AttachOp direction;        ///< a DPA direction it is conditioned on (through the prompt's text), if any
};

class TrainerEmitter {
public:
  explicit TrainerEmitter(TrainerWriter &writer) : w_(writer) {}

  /// Writes the statements of run() for `program`; failure when any construct was reported.
  mlir::LogicalResult emitProgram(train::ProgramOp program);

  const std::vector<std::string> &stageNames() const { return stageNames_; }

private:
  // ProgramEmission.cpp
  void emitTokenizerOnce(train::LoadModelOp load);
  void emitModel(train::LoadModelOp load);
  void emitData(train::LoadDataOp load);
  void checkAttach(train::AttachOp attach);
  /// `inStage`: the stage whose trained model the evaluation measures ("" otherwise).
  void emitEvaluate(train::EvaluateOp evaluate, llvm::StringRef inStage = "");
  /// The split a read of `dataset` means: `split`, or "train" for a source whose only split is train.
  std::optional<std::string> splitOf(mlir::Value dataset, mlir::StringAttr split, mlir::Location loc,
                                     llvm::StringRef what);
  /// The data declaration `dataset` is, or nullopt (reported) when it is not one the runtime reads.
  std::optional<std::string> dataDeclaration(mlir::Value dataset, mlir::Location loc);

  // AggregateEmission.cpp
  void emitAggregate(train::AggregateOp aggregate);

  // RsfEmission.cpp
  void emitDirection(train::AttachOp attach);
  /// The objectives of the regression reward `reward` (a declaration, or a stage training one) names.
  std::optional<std::vector<std::string>> rewardObjectives(train::AttachOp direction, llvm::StringRef reward);
  void emitRsfLoop(train::StageOp stage, train::RsfLoopOp rsf, const std::string &spec);

  // StageEmission.cpp
  void emitStage(train::StageOp stage);
  /// What the passes decided for a step, read from its ops (each decision is recorded on the op it concerns).
  struct StepDecisions {
    std::optional<bool> concatPairs;                   ///< train.forward / train.score concat_pairs
    std::optional<bool> sharedPrefix;                  ///< train.forward / train.score shared_prefix
    std::optional<std::optional<int64_t>> logprobs;    ///< train.sequence_logprobs: fused chunk, or unfused
    std::optional<bool> cachedReference;               ///< train.reference_logprobs cached
    mlir::Location concatLoc, logprobsLoc, referenceLoc;
    explicit StepDecisions(mlir::Location loc) : concatLoc(loc), logprobsLoc(loc), referenceLoc(loc) {}
  };
  /// Emits what the step loop trains on and optimizes; returns the decisions its ops record.
  StepDecisions emitStepLoop(train::StageOp stage, train::StepLoopOp loop, const std::string &spec);
  void emitEmLoop(train::StageOp stage, train::EmLoopOp em, const std::string &spec);
  void emitDecisions(train::StageOp stage, const StepDecisions &decisions, const std::string &schedule);
  void emitObjective(train::StageOp stage, mlir::Value loss, const std::string &spec);
  void emitTerm(train::StageOp stage, train::LossOp loss, std::optional<double> sumWeight,
                const std::string &spec, llvm::StringMap<int> &termCounts);
  void emitSchedule(train::StageOp stage, const std::string &schedule);
  void emitUnionData(train::UnionDataOp unionData, const std::string &spec);
  void emitTrainedModel(const ResolvedModel &model, mlir::Location loc, const std::string &spec);
  void emitUserModel(train::AttachOp users, const std::string &spec);

  /// What `model` is; nullopt when it is something the runtime cannot train or score with (reported once).
  std::optional<ResolvedModel> resolveModel(mlir::Value model, mlir::Location useLoc);
  /// Reports `construct` at `op` unless `op` was reported already; always marks the emission failed.
  void reject(mlir::Operation *op, const llvm::Twine &construct);

  TrainerWriter &w_;
  IdentifierTable ids_;
  llvm::StringSet<> tokenizersDone_;
  llvm::DenseSet<mlir::Operation *> reported_;
  std::vector<std::string> stageNames_;
  bool failed_ = false;
  bool policyAdapter_ = false; ///< the stage being emitted trains a policy with a LoRA adapter
};

} // namespace align::emit
