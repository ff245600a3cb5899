//===- Schema.cpp - The table of constructors, blocks and defaults --------===//
//
// Models, data, users, preferences, schedules and loops are declared here; objectives and metrics, and every
// closed set of names, come from the registry (registry/include/align/registry/*.def), the one table the
// dialects, the emitter and the runtime share. Defaults follow the source papers where they fix one
// (docs/methods.md): P-DPO β = α = 0.5, T_u = 1, K = 5, vocab init with seed 123; DSP pooling `last`,
// imitation threshold 0.85; EM-DPO 5 EM steps; MMRA optimistic Hedge with T = 100000 and η = 5/√T; DPA angles
// [-45deg, 45deg] rendered ×100.
//
//===----------------------------------------------------------------------===//

#include "Schema.h"

#include "align/registry/Registry.h"

#include <map>
#include <sstream>

namespace align::schema {
namespace {

Param P(std::string name, Ty type, std::string detail = "") {
  Param p;
  p.name = std::move(name);
  p.type = type;
  p.detail = std::move(detail);
  return p;
}
Param L(std::string name, Ty element, std::string detail = "") {
  Param p = P(std::move(name), Ty::List, std::move(detail));
  p.element = element;
  return p;
}

Constructor C(std::string family, std::string name, std::string doc, std::vector<Param> params) {
  Constructor c;
  c.family = std::move(family);
  c.name = std::move(name);
  c.doc = std::move(doc);
  c.params = std::move(params);
  return c;
}

// Parameters shared by model constructors.
std::vector<Param> modelParams(bool needsPath) {
  std::vector<Param> ps;
  if (needsPath)
    ps.push_back(P("path", Ty::String).req().d("Hugging Face checkpoint directory (safetensors + config.json)"));
  else {
    ps.push_back(P("preset", Ty::Enum, registry::spellings("Preset")).def("tiny").d("built-in size, randomly initialised"));
    ps.push_back(P("checkpoint", Ty::String).d("Hugging Face checkpoint directory; replaces the preset"));
  }
  ps.push_back(P("tokenizer", Ty::Ref, "tokenizer").req().d("the tokenizer the model reads"));
  ps.push_back(P("seed", Ty::Int).ge(0).def("0").d("random initialisation seed"));
  return ps;
}

// Parameters shared by every data source: where it is and which optional columns carry ids.
std::vector<Param> dataParams(std::vector<Param> specific) {
  std::vector<Param> ps{P("path", Ty::String).req().d("file, relative to --data-root; .jsonl or .json")};
  for (Param &p : specific)
    ps.push_back(std::move(p));
  for (const registry::Column &column : registry::commonColumns())
    ps.push_back(P(column.field, Ty::String).d(column.doc));
  for (Param p : {P("template", Ty::Ref, "template").d("how prompt and response are rendered into text"),
                  P("on_error", Ty::Enum, registry::spellings("OnError")).def("error").d("malformed rows: stop, or skip and count"),
                  P("limit", Ty::Int).gt(0).d("read at most this many rows"),
                  P("shuffle_seed", Ty::Int).ge(0).def("0").d("seed of the deterministic shuffle before splitting")})
    ps.push_back(std::move(p));
  return ps;
}

/// A data constructor: its column fields from the registry (registry/include/align/registry/DataColumns.def),
/// then `specific`. A column's default is the runtime's to apply (Param::implicitDefault): Sema does not write
/// it into the recipe, so the trainer can tell a declared column from a default one.
Constructor data(std::string name, std::string doc, std::vector<Param> specific) {
  std::vector<Param> columns;
  for (const registry::Column &column : registry::columns())
    if (name == column.kind) {
      Param p = P(column.field, Ty::String).d(column.doc);
      if (*column.defaultColumn)
        p.implicitDefault = "\"" + std::string(column.defaultColumn) + "\"";
      columns.push_back(p);
    }
  for (Param &p : specific)
    columns.push_back(std::move(p));
  Constructor c = C("data", std::move(name), std::move(doc), dataParams(std::move(columns)));
  c.takesBlock = true;
  return c;
}

Constructor objective(std::string name, std::string doc, std::vector<Param> params, ObjectiveRule rule) {
  params.push_back(P("example_weights", Ty::Bool).def("false").d("multiply each example's loss by the data's `weight` column"));
  params.push_back(P("weight_norm", Ty::Enum, registry::spellings("WeightNorm"))
                       .def("sum")
                       .d("a weighted term's Σ w·ℓ over the batch is divided by Σ w (`sum`) or by the number of units (`mean`)"));
  Constructor c = C("objective", std::move(name), std::move(doc), std::move(params));
  c.objective = std::move(rule);
  return c;
}

Constructor metric(std::string name, std::string doc, std::vector<std::string> by, std::vector<Param> params) {
  Constructor c = C("metric", std::move(name), std::move(doc), std::move(params));
  c.byKeys = std::move(by);
  c.takesBlock = true;
  return c;
}

/// "a|b|c" → {"a", "b", "c"}.
std::vector<std::string> split(const std::string &list) {
  std::vector<std::string> out;
  for (size_t start = 0; start < list.size();) {
    size_t bar = list.find('|', start);
    if (bar == std::string::npos)
      bar = list.size();
    out.push_back(list.substr(start, bar - start));
    start = bar + 1;
  }
  return out;
}

/// Schema parameters of a registry entry.
std::vector<Param> params(const std::vector<registry::Param> &in) {
  std::vector<Param> out;
  for (const registry::Param &r : in) {
    Ty type = r.type == registry::ParamType::Int    ? Ty::Int
              : r.type == registry::ParamType::Bool ? Ty::Bool
              : r.type == registry::ParamType::Ref  ? Ty::Ref
                                                    : Ty::Number;
    Param p = P(r.name, type, r.detail);
    if (r.presence == registry::Presence::Default)
      p.def(r.defaultText);
    if (r.presence == registry::Presence::Required)
      p.req();
    if (r.range.hasMin())
      p.min = r.range.min, p.minOpen = r.range.minOpen;
    if (r.range.hasMax())
      p.max = r.range.max, p.maxOpen = r.range.maxOpen;
    out.push_back(p.d(r.doc));
  }
  return out;
}

std::vector<Constructor> build() {
  using T = ObjectiveRule;
  std::vector<Constructor> t;

  // --- tokenizer ----------------------------------------------------------------------------------------
  t.push_back(C("tokenizer", "bytes", "built-in byte-level tokenizer: 256 byte ids plus BOS, EOS and PAD", {}));
  t.push_back(C("tokenizer", "hf", "Hugging Face tokenizer.json (BPE, byte-level pre-tokenisation)",
                {P("path", Ty::String).req().d("path of tokenizer.json")}));

  // --- model --------------------------------------------------------------------------------------------
  t.push_back(C("model", "llama", "Llama-family decoder (RMSNorm, RoPE, GQA, SwiGLU)", modelParams(false)));
  t.push_back(C("model", "qwen2", "Qwen2-shaped decoder (attention biases on q/k/v)", modelParams(false)));
  t.push_back(C("model", "mistral", "Mistral-shaped decoder", modelParams(false)));
  t.push_back(C("model", "hf", "any supported Hugging Face checkpoint directory", modelParams(true)));

  // --- data ---------------------------------------------------------------------------------------------
  t.push_back(data("pairwise", "TRL-style {prompt, chosen, rejected} rows", {}));
  t.push_back(data("ranking", "a prompt with several responses and their order, best first", {}));
  t.push_back(data("scored", "listwise texts with scores (the DSP {text, score} format)", {}));
  t.push_back(data("rated", "a prompt and response with a rating per objective; missing ratings are masked",
                   {L("ratings", Ty::Name).req().d("objective names; each is read from the column of that name")}));
  t.push_back(data("sft", "text for supervised fine-tuning: `text`, or a prompt/response pair", {}));
  t.push_back(data("prompts", "prompts only, for generation (RSF, evaluation)", {}));
  t.push_back(data("domain_pairs",
                   "one query with responses per domain; the preferred domain's response wins against each other one",
                   {P("preferred", Ty::String).req().d("the domain whose response is preferred"),
                    L("against", Ty::String).d("the domains it is compared with; default all others")}));

  // --- splits -------------------------------------------------------------------------------------------
  t.push_back(C("split", "where", "the rows whose column equals a value",
                {P("column", Ty::String).req(), P("equals", Ty::Scalar).req()}));
  t.push_back(C("split", "file", "rows from another file of the same format", {P("path", Ty::String).req()}));

  // --- users (P-RLHF user models) -----------------------------------------------------------------------
  t.push_back(C("users", "individual", "per-user soft tokens: e_i = e_0 + o_i (or o_i alone)",
                {P("tokens", Ty::Int).ge(1).def("1").d("T_u, soft tokens inserted after BOS"),
                 P("generic", Ty::Bool).def("true").d("add the generic embedding e_0 to every user's offset"),
                 P("unseen", Ty::Enum, registry::spellings("Unseen")).def("generic").d("users not seen in training"),
                 P("init", Ty::Call, "users_init").def("vocab").d("initialisation of the embedding rows"),
                 P("text", Ty::String).d("column with explicit user information, added as text")}));
  t.push_back(C("users", "cluster", "K cluster embeddings mixed by a per-user softmax weight",
                {P("k", Ty::Int).ge(1).def("5").d("number of clusters"),
                 P("tokens", Ty::Int).ge(1).def("1").d("T_u, soft tokens inserted after BOS"),
                 P("weight_lr", Ty::Number).gt(0)
                     .d("peak lr of the per-user cluster weights W (logits, N(0, weight_std²) at the start) on the stage's schedule; default: the stage's lr"),
                 P("weight_std", Ty::Number).gt(0)
                     .d("standard deviation of W's normal start; default 1 (the authors' nn.Embedding); small: every user starts undecided between the clusters"),
                 P("unseen", Ty::Enum, registry::spellings("Unseen")).def("generic"),
                 P("init", Ty::Call, "users_init").def("vocab"),
                 P("text", Ty::String).d("column with explicit user information, added as text")}));
  t.push_back(C("users_init", "vocab", "copy rows of the word embedding chosen without replacement",
                {P("seed", Ty::Int).ge(0).def("123"),
                 P("common", Ty::Int).gt(0).d("draw only from the N most common tokens")}));
  t.push_back(C("users_init", "uniform", "draw from U(-range, range)",
                {P("range", Ty::Number).gt(0).def("0.5"), P("seed", Ty::Int).ge(0).def("123")}));

  // --- preference structure -----------------------------------------------------------------------------
  t.push_back(C("preference", "bradley_terry", "pairwise choice: P(a > b) = σ(r_a − r_b)", {}));
  t.push_back(C("preference", "plackett_luce", "ranking choice over three or more responses", {}));
  t.push_back(C("preference", "latent", "K latent annotator types (EM-DPO)",
                {P("k", Ty::Int).ge(1).req().d("number of types"),
                 P("likelihood", Ty::Enum, registry::spellings("RankingLikelihood")).def("pairwise").d("how a ranking is scored"),
                 P("init", Ty::Call, "latent_init").def("dirichlet").d("initial posterior γ")}));
  t.push_back(C("preference", "direction", "a unit vector over named reward objectives (DPA)",
                {P("reward", Ty::Ref, "reward|stage").req().d("the multi-objective reward producing the objectives"),
                 L("objectives", Ty::Name).req().d("the objectives spanning the direction"),
                 L("angle", Ty::Angle).def("[-45deg, 45deg]").gt(-90).lt(90).len(2).d("range of θ from the first objective"),
                 P("sample", Ty::Enum, registry::spellings("DirectionSampling")).def("uniform").d("how directions are drawn in training"),
                 P("grid", Ty::Int).ge(2).def("9").d("`sample: grid`: evenly spaced angles over the range, ends included"),
                 P("render", Ty::Ref, "template").d("the system prompt; `{weight.NAME}` is round(scale·v_NAME)"),
                 P("scale", Ty::Int).gt(0).def("100").d("integer scale of rendered weights")}));
  t.push_back(C("latent_init", "dirichlet", "γ rows drawn from a Dirichlet",
                {P("alpha", Ty::Number).gt(0).def("1"), P("seed", Ty::Int).ge(0).def("0")}));
  t.push_back(C("latent_init", "clusters", "a hard start from a label per annotator",
                {P("column", Ty::String).req().d("column whose value is each annotator's starting type (sorted values become types 0, 1, ...)")}));
  t.push_back(C("latent_init", "agreement", "spectral clustering of annotator agreement", {P("seed", Ty::Int).ge(0).def("0")}));

  // --- reward models ------------------------------------------------------------------------------------
  t.push_back(C("reward", "scalar", "a scalar reward head on a decoder",
                {P("base", Ty::Ref, "model|stage").req(),
                 P("pooling", Ty::Enum, registry::spellings("Pooling")).def("last").d("`last` is the token before EOS"),
                 P("bias", Ty::Bool).def("false").d("bias in the reward head")}));
  t.push_back(C("reward", "regression", "a multi-objective regression head (one output per objective)",
                {P("base", Ty::Ref, "model|stage").req(), L("objectives", Ty::Name).req(),
                 P("pooling", Ty::Enum, registry::spellings("Pooling")).def("last")}));

  // --- adapters -----------------------------------------------------------------------------------------
  t.push_back(C("adapter", "lora", "low-rank adapters; mergeable",
                {P("r", Ty::Int).ge(1).def("8"), P("alpha", Ty::Number).gt(0).def("16"),
                 P("dropout", Ty::Number).ge(0).lt(1).def("0.05"),
                 L("targets", Ty::String).def("[\"q_proj\", \"v_proj\"]").d("module names")}));

  // --- reference models ---------------------------------------------------------------------------------
  t.push_back(C("reference", "frozen", "a frozen copy of a model or of a stage's result",
                {P("model", Ty::Ref, "model|stage").req()}));

  // --- aggregation --------------------------------------------------------------------------------------
  t.push_back(C("aggregate", "minmax_regret", "one mixture policy minimising the worst type's regret (MMRA)",
                {P("policies", Ty::Ref, "stage").req().d("a stage trained with latent types"),
                 P("prompts", Ty::Ref, "data").req().d("prompts for the regret estimate"),
                 P("solver", Ty::Call, "solver").def("optimistic_hedge"),
                 P("samples", Ty::Int).ge(1).def("128").d("prompts used"),
                 P("answers", Ty::Int).ge(1).def("1").d("answers sampled per prompt and policy"),
                 P("max_new_tokens", Ty::Int).ge(1).def("100"),
                 P("regret", Ty::Enum, registry::spellings("RegretEstimator")).def("implicit")
                     .d("implicit: the authors' implicit-reward estimator; kl: β·KL(π_j ‖ π_i)"),
                 P("dummy", Ty::Bool).def("true").d("add a zero-regret dummy type row"),
                 L("regret_weights", Ty::Number).gt(0).d("c_k per type; default all 1"),
                 P("baseline", Ty::Ref, "stage").d("a stage whose policy's per-type regrets are reported beside the mixture's")}));
  t.push_back(C("aggregate", "mean", "uniform mixture of the type policies", {P("policies", Ty::Ref, "stage").req()}));
  t.push_back(C("aggregate", "weighted", "fixed mixture weights",
                {P("policies", Ty::Ref, "stage").req(), L("weights", Ty::Number).ge(0).req().d("mixture weights; not all zero")}));
  t.push_back(C("aggregate", "conditioned", "one policy conditioned on the user's preference",
                {P("policies", Ty::Ref, "stage").req(), P("preference", Ty::Ref, "preference").req()}));
  t.push_back(C("solver", "optimistic_hedge", "optimistic multiplicative weights; output the time-average",
                {P("steps", Ty::Int).ge(1).def("100000"),
                 P("eta", Ty::Number).gt(0).d("step size; default 5/sqrt(steps)")}));

  // --- objectives: one row per registry entry (registry/include/align/registry/Objectives.def) ----------
  for (const registry::Objective &o : registry::objectives()) {
    ObjectiveRule rule;
    rule.sources = split(o.sources);
    rule.needsReference = o.has(registry::NeedsReference);
    rule.needsUsers = o.has(registry::NeedsUsers);
    rule.needsAnnotators = o.has(registry::NeedsAnnotators);
    rule.needsScores = o.has(registry::NeedsResponseScores);
    rule.target = o.target == registry::Target::LanguageModel ? T::LanguageModel
                  : o.target == registry::Target::Reward      ? T::Reward
                                                              : T::Any;
    t.push_back(objective(o.name, o.doc, params(o.params), std::move(rule)));
  }

  // --- schedule ----------------------------------------------------------------------------------------
  t.push_back(C("schedule", "schedule", "how a stage trains; the recipe's schedule is every stage's default",
                {P("optimizer", Ty::Call, "optimizer").def("adamw"),
                 P("lr_schedule", Ty::Call, "lr_schedule").def("cosine"),
                 P("warmup", Ty::Int).ge(0).def("0").d("linear warmup steps"),
                 P("batch", Ty::Int).ge(1).def("8").d("examples per optimizer step"),
                 P("micro_batch", Ty::Int).ge(1).d("examples per forward; accumulation = batch / micro_batch"),
                 P("epochs", Ty::Number).gt(0).def("1"),
                 P("steps", Ty::Int).ge(1).d("optimizer steps; replaces epochs"),
                 P("precision", Ty::Enum, registry::spellings("Precision")).def("auto").d("auto: alignc's cost model: fp32 below hidden size " + std::to_string(registry::kBf16MinHidden) + ", else bf16 on a GPU or a CPU with native bf16 (AMX-BF16, AVX512-BF16), else fp32"),
                 P("activations", Ty::Enum, registry::spellings("Activations")).def("auto")
                     .d("keep: the backward keeps every layer's intermediate states; recompute: each layer keeps its input and runs again in backward (about 1/3 more compute, memory that no longer grows with depth); auto: alignc's cost model, from the memory budget"),
                 P("memory", Ty::Size).gt(0).d("the memory a step may use (8GiB); default: the compiling machine's; alignc's cost model fits micro_batch and activations to it"),
                 P("max_length", Ty::Int).ge(1).def("512").d("tokens per sequence"),
                 P("max_prompt_length", Ty::Int).ge(1).d("tokens kept of the prompt; default: half of max_length"),
                 P("truncation", Ty::Enum, registry::spellings("Truncation")).def("right").d("which end of the prompt is cut"),
                 P("reference", Ty::Enum, registry::spellings("ReferenceStrategy", "none")).def("auto").d("reference log-prob strategy"),
                 P("shard", Ty::Enum, registry::spellings("ShardStrategy")).def("none")
                     .d("optimizer: under torchrun each process keeps the optimizer state of its share (ZeRO-1)"),
                 P("clip", Ty::Number).gt(0).def("1").d("max gradient norm"),
                 P("shuffle", Ty::Bool).def("true")
                     .d("reshuffle the training rows every epoch (a function of seed and epoch); false: data order"),
                 P("seed", Ty::Int).ge(0).def("42"),
                 P("log_every", Ty::Int).ge(1).def("10").d("steps between metric lines"),
                 P("eval_every", Ty::Interval).ge(0).def("0").d("steps or time between evaluations; 0: at the end"),
                 P("checkpoint_every", Ty::Interval).ge(0).def("0").d("steps or time between checkpoints; 0: at the end"),
                 P("time_limit", Ty::Duration).gt(0).d("stop the stage (with a checkpoint) after this long")}));
  t.push_back(C("optimizer", "adamw", "AdamW",
                {P("lr", Ty::Number).gt(0).def("1e-5"), L("betas", Ty::Number).ge(0).lt(1).len(2).def("[0.9, 0.999]"),
                 P("eps", Ty::Number).gt(0).def("1e-8"), P("weight_decay", Ty::Number).ge(0).def("0")}));
  t.push_back(C("optimizer", "rmsprop", "RMSprop (EM-DPO's default)",
                {P("lr", Ty::Number).gt(0).def("1e-5"), P("alpha", Ty::Number).gt(0).lt(1).def("0.99"),
                 P("eps", Ty::Number).gt(0).def("1e-8"), P("weight_decay", Ty::Number).ge(0).def("0"),
                 P("momentum", Ty::Number).ge(0).lt(1).def("0")}));
  t.push_back(C("optimizer", "sgd", "plain SGD",
                {P("lr", Ty::Number).gt(0).def("1e-2"), P("momentum", Ty::Number).ge(0).lt(1).def("0")}));
  t.push_back(C("lr_schedule", "constant", "constant after warmup", {}));
  t.push_back(C("lr_schedule", "linear", "linear decay after warmup",
                {P("final", Ty::Number).ge(0).le(1).def("0").d("final lr as a fraction of lr")}));
  t.push_back(C("lr_schedule", "cosine", "cosine decay after warmup", {P("final", Ty::Number).ge(0).le(1).def("0")}));

  // --- loops -------------------------------------------------------------------------------------------
  t.push_back(C("loop", "em", "EM over latent types: M-step per type, then E-step posterior update",
                {P("iterations", Ty::Int).ge(1).def("5"),
                 P("restart", Ty::Bool).def("true").d("each M-step restarts from the stage's `init from` (EM-DPO); false: continue"),
                 P("e_step", Ty::Enum, registry::spellings("EStepKind")).def("full").d("cross_fit scores each annotator on held-out votes"),
                 P("folds", Ty::Int).ge(2).def("2").d("cross-fit folds"),
                 P("policies", Ty::Enum, registry::spellings("TypePolicies")).def("lora")
                     .d("lora: each type a LoRA adapter on one shared base (the policy's adapter, or the lora defaults); full: K full copies")}));
  t.push_back(C("loop", "rsf", "preference-conditioned rejection-sampling fine-tuning (DPA)",
                {P("iterations", Ty::Int).ge(1).def("4"), P("samples", Ty::Int).ge(1).def("8").d("n responses per prompt"),
                 P("prompts", Ty::Ref, "data").req(),
                 P("prompts_per_iteration", Ty::Int).ge(1).d("default: all"),
                 P("directions", Ty::Ref, "preference").req().d("a `direction` preference"),
                 P("scorer", Ty::Ref, "reward|stage").req().d("the multi-objective reward that ranks samples"),
                 P("temperature", Ty::Number).gt(0).def("0.7"),
                 P("max_new_tokens", Ty::Int).ge(1).def("256")}));

  // --- evaluation metrics: one row per registry entry (registry/include/align/registry/Metrics.def) ------
  for (const registry::Metric &m : registry::metrics())
    t.push_back(metric(m.name, m.doc, split(m.by), params(m.params)));
  return t;
}

} // namespace

const std::vector<Constructor> &constructors() {
  static const std::vector<Constructor> table = build();
  return table;
}

const Constructor *find(const std::string &family, const std::string &name) {
  for (const Constructor &c : constructors())
    if (c.family == family && c.name == name)
      return &c;
  return nullptr;
}

const Param *findParam(const std::string &family, const std::string &name, const std::string &param) {
  if (const Constructor *c = find(family, name))
    for (const Param &p : c->params)
      if (p.name == param)
        return &p;
  return nullptr;
}

std::vector<std::string> names(const std::string &family) {
  std::vector<std::string> out;
  for (const Constructor &c : constructors())
    if (c.family == family)
      out.push_back(c.name);
  return out;
}

std::string bounds(const Param &p) {
  std::string out;
  auto num = [](double v) {
    std::ostringstream os;
    os << v;
    return os.str();
  };
  if (p.min && p.max)
    out = std::string(p.minOpen ? "(" : "[") + num(*p.min) + ", " + num(*p.max) + (p.maxOpen ? ")" : "]");
  else if (p.min)
    out = std::string(p.minOpen ? "> " : "≥ ") + num(*p.min);
  else if (p.max)
    out = std::string(p.maxOpen ? "< " : "≤ ") + num(*p.max);
  return out;
}

std::string withArticle(const std::string &word) {
  if (word == "users")
    return "a users model";
  if (word.rfind("users", 0) == 0) // "a users_init": said as "you"
    return "a " + word;
  if (word.rfind("lr", 0) == 0) // "an lr_schedule": said as "el"
    return "an " + word;
  return (std::string("aeiou").find(word.empty() ? 'x' : word[0]) != std::string::npos ? "an " : "a ") + word;
}

static std::string typeWords(Ty type, const std::string &detail) {
  auto spaced = [](std::string s) {
    for (size_t i = 0; (i = s.find('|', i)) != std::string::npos;)
      s.replace(i, 1, ", "), i += 2;
    return s;
  };
  switch (type) {
  case Ty::Int:
    return "an integer";
  case Ty::Number:
    return "a number";
  case Ty::Percent:
    return "a percentage";
  case Ty::Angle:
    return "an angle";
  case Ty::Duration:
    return "a duration";
  case Ty::Size:
    return "a size (8GiB, 512MB)";
  case Ty::Interval:
    return "a step count or a duration";
  case Ty::String:
    return "a string";
  case Ty::Bool:
    return "true or false";
  case Ty::Scalar:
    return "a string, number or bool";
  case Ty::Enum:
    return "one of: " + spaced(detail);
  case Ty::Name:
    return "a name";
  case Ty::Ref:
    return "the name of a " + [&] {
      std::string s = detail;
      for (size_t i = 0; (i = s.find('|', i)) != std::string::npos;)
        s.replace(i, 1, " or "), i += 4;
      return s;
    }();
  case Ty::Call:
    return withArticle(detail) + " (" + [&] {
      std::string s;
      for (const std::string &n : names(detail))
        s += (s.empty() ? "" : ", ") + n;
      return s;
    }() + ")";
  case Ty::List:
    return "a list";
  }
  return "a value";
}

std::string describe(const Param &p) {
  std::string out = p.type == Ty::List ? "a list of " + [&] {
    std::string e = typeWords(p.element, p.detail);
    size_t space = e.find(' ');
    return (space != std::string::npos && (e.rfind("a ", 0) == 0 || e.rfind("an ", 0) == 0)) ? e.substr(space + 1) + "s" : e;
  }() : typeWords(p.type, p.detail);
  std::string b = bounds(p);
  if (!b.empty())
    out += (b[0] == '[' || b[0] == '(' ? " in " : " ") + b;
  if (p.length)
    out += ", exactly " + std::to_string(*p.length) + " items";
  return out;
}

void printMarkdown(std::ostream &os) {
  os << "<!-- Generated by `alignc --print-schema`; do not edit. The table lives in "
        "compiler/frontend/Schema.cpp. -->\n\n";
  os << "# The constructor and defaults table\n\n"
        "Every constructor a recipe can call, and every block it can write, with its parameters. A parameter "
        "marked *required* has no default; one with neither a default nor *required* is optional and absent "
        "unless given. Arguments may be positional (in the order below) or named.\n";
  std::string family;
  for (const Constructor &c : constructors()) {
    if (c.family != family) {
      family = c.family;
      os << "\n## " << family << "\n";
    }
    os << "\n### `" << c.name << "`\n\n" << c.doc << ".";
    if (c.objective) {
      const ObjectiveRule &r = *c.objective;
      os << " Reads ";
      for (size_t i = 0; i < r.sources.size(); ++i)
        os << (i ? ", " : "") << '`' << r.sources[i] << '`';
      os << " data; trains "
         << (r.target == ObjectiveRule::LanguageModel ? "a policy" : r.target == ObjectiveRule::Reward ? "a reward model" : "a policy or reward model");
      if (r.needsReference)
        os << "; needs a `reference`";
      if (r.needsUsers)
        os << "; needs a users model on the policy and a `user` column";
      if (r.needsAnnotators)
        os << "; needs an `annotator` or `user` column";
      os << ".";
    }
    if (!c.byKeys.empty()) {
      os << " `by`: ";
      for (size_t i = 0; i < c.byKeys.size(); ++i)
        os << (i ? ", " : "") << '`' << c.byKeys[i] << '`';
      os << ".";
    }
    os << "\n";
    if (c.params.empty()) {
      os << "\nNo parameters.\n";
      continue;
    }
    os << "\n| parameter | type | default | meaning |\n|---|---|---|---|\n";
    for (const Param &p : c.params) {
      std::string def = p.required           ? "*required*"
                        : p.defaultValue     ? "`" + *p.defaultValue + "`"
                        : p.implicitDefault ? "`" + *p.implicitDefault + "` if the file has it"
                                             : "—";
      os << "| `" << p.name << "` | " << describe(p) << " | " << def << " | " << p.doc << " |\n";
    }
  }
}

} // namespace align::schema
