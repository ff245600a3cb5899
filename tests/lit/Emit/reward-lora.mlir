// Hand-written train IR for what the shipped recipes do not (yet) reach: an hf checkpoint with an hf
// tokenizer, rated data with ratings, a `where` and a `file` split and a row limit, a LoRA adapter on a
// policy trained for a fixed number of steps with RMSprop against a declared reference model, a weighted
// term, and a reward stage whose objective is a sum with two terms of one kind (keys `rank_loss`,
// `rank_loss_2`) followed by a stage-level evaluation.
// RUN: alignc --emit=cpp %s | FileCheck %s
// RUN: alignc --emit=cpp %s | FileCheck %s --check-prefix=INFO
// The emitted C++ compiles against the runtime's header alone.
// RUN: alignc --emit=cpp %s > %t.cpp && c++ -std=c++17 -fsyntax-only -Wall -Wextra -Werror -I%S/../../../runtime/include -I%S/../../../registry/include %t.cpp

// CHECK: // Trainer for recipe `personal`: generated from {{.*}}reward-lora.mlir by alignc; do not edit.
// CHECK: #include "align/rt/Trainer.h"
// CHECK-NOT: #include

// CHECK-LABEL: static void run(align::rt::Trainer &t) {
// CHECK-NEXT: t.tokenizer("tk", t.text("tk.path", "tok/tokenizer.json"));{{ +}}// {{.*}}reward-lora.mlir:[[@LINE+7]]:11
// CHECK-NEXT: align::rt::ModelSpec base_model;
// CHECK-NEXT: base_model.family = align::rt::ModelFamily::hf;
// CHECK-NEXT: base_model.checkpoint = t.text("base.path", "models/base");
// CHECK-NEXT: base_model.tokenizer = "tk";
// CHECK-NEXT: base_model.seed = static_cast<std::uint64_t>(t.integer("base.seed", 7));
train.program @personal {
  %base = train.load_model "base" from "hf" {checkpoint = "models/base", seed = 7 : i64, tokenizer = "tk", tokenizer_kind = "hf", tokenizer_spec = "tok/tokenizer.json"}
  // CHECK-NEXT: t.model("base", base_model);
  // A second load of the same declaration under the reference's name (a frozen(base) reference).
  // CHECK: ModelSpec ref_model;
  %ref = train.load_model "ref" from "hf" {checkpoint = "models/base", seed = 7 : i64, tokenizer = "tk", tokenizer_kind = "hf", tokenizer_spec = "tok/tokenizer.json"}
  // CHECK: align::rt::DataSpec ratings_data;
  // CHECK-NEXT: ratings_data.kind = align::rt::DataKind::rated;
  // CHECK-NEXT: ratings_data.path = t.text("ratings.path", "r.jsonl");
  // CHECK-NEXT: ratings_data.columns["prompt"] = t.text("ratings.prompt", "q");
  // CHECK-NEXT: ratings_data.ratings = {"helpful", "brief"};
  // CHECK-NEXT: ratings_data.limit = t.integer("ratings.limit", 1000);
  // CHECK-NEXT: align::rt::SplitRule ratings_held_split;
  // CHECK-NEXT: ratings_held_split.name = "held";
  // CHECK-NEXT: ratings_held_split.kind = align::rt::SplitKind::where;
  // CHECK-NEXT: ratings_held_split.column = "seen";
  // CHECK-NEXT: ratings_held_split.equalsJson = "false";
  // CHECK-NEXT: ratings_data.splits.push_back(ratings_held_split);
  // CHECK-NEXT: align::rt::SplitRule ratings_test_split;
  // CHECK-NEXT: ratings_test_split.name = "test";
  // CHECK-NEXT: ratings_test_split.kind = align::rt::SplitKind::file;
  // CHECK-NEXT: ratings_test_split.path = t.text("ratings.split.test", "r_test.jsonl");
  // CHECK-NEXT: ratings_data.splits.push_back(ratings_test_split);
  // CHECK-NEXT: align::rt::SplitRule ratings_eval_split;
  // CHECK-NEXT: ratings_eval_split.name = "eval";
  // CHECK-NEXT: ratings_eval_split.kind = align::rt::SplitKind::percent;
  // CHECK-NEXT: ratings_eval_split.fraction = t.number("ratings.split.eval", 0.1);
  // CHECK-NEXT: ratings_eval_split.by = "user";
  // CHECK-NEXT: ratings_data.splits.push_back(ratings_eval_split);
  // CHECK-NEXT: t.data("ratings", ratings_data);
  %data = train.load_data "ratings" from "rated" {path = "r.jsonl", columns = {prompt = "q"}, ratings = ["helpful", "brief"], limit = 1000 : i64, split_rules = [{kind = "where", name = "held", column = "seen", equals = "false"}, {kind = "file", name = "test", path = "r_test.jsonl"}, {kind = "percent", name = "eval", fraction = 0.1, by = "user"}, {kind = "remainder", name = "train"}]} splits ["eval", "held", "test", "train"]
  %pairs = train.load_data "pairs" from "pairwise" {path = "p.jsonl"} splits ["train"]
  %tuned = train.attach "adapter" "lora" to %base {r = 4 : i64, alpha = 8 : i64, dropout = 0.0, targets = ["q_proj", "k_proj"]} attributes {name = "small"}
  %rm = train.attach "reward_head" "scalar" to %base {bias = false, outputs = 1 : i64, pooling = "mean"} attributes {name = "judge"}

  // CHECK-LABEL: // stage tune
  // CHECK: tune_stage.model = "base";{{ +}}// {{.*}}reward-lora.mlir:{{[0-9]+}}:7
  // CHECK-NEXT: tune_stage.lora.enabled = true;
  // CHECK-NEXT: tune_stage.lora.rank = t.integer("small.r", 4);
  // CHECK-NEXT: tune_stage.lora.alpha = t.number("small.alpha", 8.0);
  // CHECK-NEXT: tune_stage.lora.dropout = t.number("small.dropout", 0.0);
  // CHECK-NEXT: tune_stage.lora.targets = {"q_proj", "k_proj"};
  // CHECK-NEXT: // frozen reference: model ref as declared
  // CHECK-NEXT: tune_stage.reference = "ref";
  // CHECK-NEXT: tune_stage.train = {"pairs", "train"};
  // CHECK-NEXT: align::rt::IpoParams tune_ipo;
  // CHECK-NEXT: tune_ipo.beta = t.number("tune.objective.ipo.beta", 0.25);
  // CHECK-NEXT: tune_stage.objective.push_back(align::rt::TermSpec(tune_ipo, 1.0, true, t.choice("tune.objective.ipo.weight_norm", align::rt::WeightNorm::mean)));
  train.stage @tune attributes {optimizer = #train.optimizer<rmsprop>, lr = 5.0e-7, optimizer_params = {alpha = 0.95, eps = 1.0e-6, momentum = 0.5, weight_decay = 0.0},
      lr_schedule = #train.lr_schedule<constant>, lr_final = 0.0, warmup = 0 : i64, batch = 8 : i64, micro_batch = 4 : i64, 
      steps = 300 : i64, precision = #train.precision<bf16>, max_length = 128 : i64, max_prompt_length = 64 : i64, truncation = #train.truncation<right>,
      clip = 10.0, seed = 3 : i64, reference = #train.reference<online>, 
      log_every = 5 : i64, eval_every_seconds = 90.0} {
    train.step_loop attributes {steps = 300 : i64} {
      %b = train.batch_fetch %pairs split "train"
      %h = train.forward %tuned, %b
      %lp = train.sequence_logprobs %tuned, %h, %b
      %r = train.reference_logprobs %ref, %b
      %l = train.loss ipo %lp against %r {beta = 0.25 : f64} weighted weight_norm <mean> : !train.logprobs
      train.backward %l
      train.optimizer_step %tuned
    }
  }
  // CHECK: align::rt::ScheduleSpec &tune_schedule = tune_stage.schedule;
  // CHECK-NEXT: tune_schedule.optimizer = t.choice("tune.schedule.optimizer", align::rt::OptimizerKind::rmsprop);
  // CHECK-NEXT: tune_schedule.lr = t.number("tune.schedule.lr", 5e-07);
  // CHECK-NEXT: tune_schedule.alpha = t.number("tune.schedule.alpha", 0.95);
  // CHECK-NEXT: tune_schedule.eps = t.number("tune.schedule.eps", 1e-06);
  // CHECK-NEXT: tune_schedule.momentum = t.number("tune.schedule.momentum", 0.5);
  // CHECK-NEXT: tune_schedule.weightDecay = t.number("tune.schedule.weight_decay", 0.0);
  // CHECK-NEXT: tune_schedule.lrSchedule = t.choice("tune.schedule.lr_schedule", align::rt::LRScheduleKind::constant);
  // CHECK: tune_schedule.microBatch = t.integer("tune.schedule.micro_batch", 4);
  // CHECK-NEXT: tune_schedule.activations = t.choice("tune.schedule.activations", align::rt::Activations::keep);
  // CHECK-NEXT: tune_schedule.steps = t.integer("tune.schedule.steps", 300);
  // CHECK-NEXT: tune_schedule.precision = t.choice("tune.schedule.precision", align::rt::Precision::bf16);
  // CHECK: tune_schedule.evalEverySeconds = t.number("tune.schedule.eval_every_seconds", 90.0);
  // CHECK-NEXT: // the step's decisions, as its ops record them (concat-pairs, share-prefix, fuse-logprobs, hoist-reference-logprobs)
  // CHECK-NEXT: tune_schedule.concatPairs = false;
  // CHECK-NEXT: tune_schedule.sharedPrefix = false;
  // CHECK-NEXT: tune_schedule.fusedLogprobs = false;
  // CHECK-NEXT: // reference log-probs: online (the recipe asked for online)
  // CHECK-NEXT: tune_schedule.reference = t.choice("tune.schedule.reference", align::rt::ReferenceStrategy::online);
  // CHECK-NEXT: t.stage(tune_stage);

  // CHECK-LABEL: // stage judge
  // CHECK: judge_stage.initFrom = "tune";
  // CHECK-NEXT: judge_stage.model = "base";
  // CHECK-NEXT: judge_stage.rewardModel = true;
  // CHECK-NEXT: judge_stage.pooling = t.choice("judge.pooling", align::rt::Pooling::mean);
  // CHECK-NEXT: judge_stage.rewardOutputs = 1;
  // CHECK-NEXT: judge_stage.train = {"ratings", "train"};
  // CHECK-NEXT: align::rt::RankLossParams judge_rank_loss;
  // CHECK-NEXT: judge_stage.objective.push_back(align::rt::TermSpec(judge_rank_loss, t.number("judge.objective.rank_loss.weight", 1.0)));
  // CHECK-NEXT: align::rt::RankLossParams judge_rank_loss_2;
  // CHECK-NEXT: judge_stage.objective.push_back(align::rt::TermSpec(judge_rank_loss_2, t.number("judge.objective.rank_loss_2.weight", 0.5)));
  // CHECK-NEXT: align::rt::NllParams judge_nll;
  // CHECK-NEXT: judge_nll.prompt_loss = t.flag("judge.objective.nll.prompt_loss", true);
  // CHECK-NEXT: judge_stage.objective.push_back(align::rt::TermSpec(judge_nll, t.number("judge.objective.nll.weight", 0.1)));
  train.stage @judge init_from @tune attributes {optimizer = #train.optimizer<sgd>, lr = 1.0e-2, optimizer_params = {momentum = 0.9},
      lr_schedule = #train.lr_schedule<linear>, lr_final = 0.5, warmup = 3 : i64, batch = 4 : i64, micro_batch = 4 : i64, 
      epochs = 0.5, precision = #train.precision<fp32>, max_length = 64 : i64, max_prompt_length = 32 : i64, truncation = #train.truncation<left>,
      clip = 1.0, seed = 0 : i64, 
      log_every = 1 : i64, time_limit = 60.0} {
    %start = train.stage_result @tune
    train.load_weights %rm from %start
    train.step_loop attributes {epochs = 0.5} {
      %b = train.batch_fetch %data split "train"
      %s = train.score %rm, %b : !train.batch
      %r1 = train.loss rank_loss %s {} : !train.scores
      %r2 = train.loss rank_loss %s {} : !train.scores
      %h = train.forward %rm, %b
      %lp = train.sequence_logprobs %rm, %h, %b fused chunk 256
      %n = train.loss nll %lp {prompt_loss = true} : !train.logprobs
      %sum = train.loss_sum %r1, %r2, %n weights [1.0, 0.5, 0.1]
      train.backward %sum
      train.optimizer_step %rm
    }
    train.evaluate "accuracy" by "user" %rm on %data split "held" {}
    train.save_checkpoint %rm every_steps 50
  }
  // CHECK: judge_schedule.optimizer = t.choice("judge.schedule.optimizer", align::rt::OptimizerKind::sgd);
  // CHECK-NEXT: judge_schedule.lr = t.number("judge.schedule.lr", 0.01);
  // CHECK-NEXT: judge_schedule.momentum = t.number("judge.schedule.momentum", 0.9);
  // CHECK-NEXT: judge_schedule.lrSchedule = t.choice("judge.schedule.lr_schedule", align::rt::LRScheduleKind::linear);
  // CHECK-NEXT: judge_schedule.lrFinal = t.number("judge.schedule.lr_final", 0.5);
  // CHECK: judge_schedule.epochs = t.number("judge.schedule.epochs", 0.5);
  // CHECK: judge_schedule.timeLimitSeconds = t.number("judge.schedule.time_limit", 60.0);
  // CHECK-NEXT: // the step's decisions, as its ops record them (concat-pairs, share-prefix, fuse-logprobs, hoist-reference-logprobs)
  // CHECK-NEXT: judge_schedule.concatPairs = false;
  // CHECK-NEXT: judge_schedule.sharedPrefix = false;
  // CHECK-NEXT: judge_schedule.fusedLogprobs = true;
  // CHECK-NEXT: judge_schedule.logprobChunk = 256;
  // CHECK-NEXT: judge_schedule.checkpointEverySteps = t.integer("judge.schedule.checkpoint_every_steps", 50);
  // CHECK-NEXT: t.stage(judge_stage);
  // The stage's own evaluation follows it.
  // CHECK-NEXT: // eval: accuracy on ratings.held, of the model stage judge trains
  // CHECK-NEXT: align::rt::EvalSpec accuracy_ratings_held{align::rt::AccuracyParams{}};
  // CHECK-NEXT: accuracy_ratings_held.by = align::rt::By::user;
  // CHECK-NEXT: accuracy_ratings_held.on = {"ratings", "held"};
  // CHECK: t.evaluate(accuracy_ratings_held);
}
// CHECK: int main(int argc, char **argv) { return align::rt::trainerMain(argc, argv, recipe, run); }

// The RecipeInfo lists the keys run() reads, at their locations.
// INFO-LABEL: static const align::rt::RecipeInfo recipe = {
// INFO-NEXT:     "personal",
// INFO-NEXT:     "{{.*}}reward-lora.mlir",
// INFO-NEXT:     {
// INFO-NEXT:         {"tk.path", "tok/tokenizer.json", "{{.*}}reward-lora.mlir:23:11", align::rt::SettingKind::text},
// INFO:         {"judge.objective.rank_loss_2.weight", "0.5", "{{.*}}reward-lora.mlir:{{[0-9]+}}:13", align::rt::SettingKind::number},
// INFO:     {"tune", "judge"},
// INFO-NEXT: };
