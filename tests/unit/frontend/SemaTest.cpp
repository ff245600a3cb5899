//===- SemaTest.cpp - Sema on small recipes -------------------------------===//

#include "Frontend.h"

#include <gtest/gtest.h>

#include <sstream>

using namespace align;

namespace {

std::string errors(const FrontendResult &r) {
  std::ostringstream os;
  r.diags->printText(os);
  return os.str();
}

const char *kDpo = R"(
recipe dpo {
  tokenizer tok = bytes();
  model base = llama(preset: "tiny", tokenizer: tok);
  data prefs = pairwise("prefs.jsonl") { split eval = 10%; };
  stage align {
    policy pi = base;
    reference ref = frozen(base);
    train pi on prefs.train;
    objective dpo(beta: 0.1);
    schedule { optimizer: adamw(lr: 5e-7); batch: 32; micro_batch: 8; }
  }
}
)";

} // namespace

TEST(Sema, CleanRecipeHasNoDiagnosticsAndDefaultsFilled) {
  FrontendResult r = checkSource("dpo.align", kDpo);
  ASSERT_TRUE(r.ok()) << errors(r);
  const ast::Stage &stage = *r.ast->recipes[0].stages[0];
  // The effective schedule has every schedule parameter that has a value, stage values first.
  bool sawBatch = false, sawSeed = false;
  for (size_t i = 0; i < stage.effectiveSchedule.size(); ++i) {
    if (stage.effectiveSchedule[i].key == "batch") {
      sawBatch = true;
      EXPECT_EQ(stage.scheduleOrigin[i], "stage");
      EXPECT_EQ(stage.effectiveSchedule[i].value->number, 32);
    }
    if (stage.effectiveSchedule[i].key == "seed") {
      sawSeed = true;
      EXPECT_EQ(stage.scheduleOrigin[i], "default");
    }
  }
  EXPECT_TRUE(sawBatch);
  EXPECT_TRUE(sawSeed);
  // Positional `pairwise("prefs.jsonl")` became `path:`; defaults were filled in — except a data column's,
  // which the runtime applies (registry DataColumns.def) so that a declared column stays distinguishable.
  const ast::Decl &prefs = *r.ast->recipes[0].decls[2];
  ASSERT_NE(prefs.param("path"), nullptr);
  EXPECT_EQ(prefs.param("path")->value->text, "prefs.jsonl");
  ASSERT_NE(prefs.param("shuffle_seed"), nullptr);
  EXPECT_TRUE(prefs.param("shuffle_seed")->isDefault);
  EXPECT_EQ(prefs.param("chosen"), nullptr);
}

TEST(Sema, ReportsEveryErrorNotOnlyTheFirst) {
  std::string text = kDpo;
  text.replace(text.find("beta: 0.1"), 9, "beta: 0");
  text.replace(text.find("batch: 32"), 9, "bacth: 32");
  text.replace(text.find("frozen(base)"), 12, "frozen(bsae)");
  FrontendResult r = checkSource("dpo.align", text);
  EXPECT_EQ(r.diags->errorCount(), 3u) << errors(r);
  std::string out = errors(r);
  EXPECT_NE(out.find("'beta' of 'dpo' must be > 0, got 0"), std::string::npos) << out;
  EXPECT_NE(out.find("did you mean 'batch'?"), std::string::npos) << out;
  EXPECT_NE(out.find("did you mean 'base'?"), std::string::npos) << out;
}

TEST(Sema, SyntaxErrorsStopBeforeSemaButAreAllReported) {
  FrontendResult r = checkSource("bad.align", "recipe r {\n  model m = llama(\n  data d = sft(\"x\");\n}\nrecipe ;\n");
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(r.ast, nullptr);
  EXPECT_GE(r.diags->errorCount(), 2u) << errors(r);
}

TEST(Sema, MatrixOfConstants) {
  FrontendResult r = checkSource("c.align", R"(
recipe c {
  tokenizer tok = bytes();
  model base = llama(tokenizer: tok);
  data corpus = sft("c.jsonl");
  stage s {
    train base on corpus;
    objective nll();
    schedule { optimizer: adamw(lr: 2 * 1e-5); warmup: 10 * 15; time_limit: 2h; checkpoint_every: 30min; }
  }
}
)");
  ASSERT_TRUE(r.ok()) << errors(r);
  for (const ast::Field &f : r.ast->recipes[0].stages[0]->effectiveSchedule)
    if (f.key == "warmup")
      EXPECT_EQ(f.value->kind, ast::ExprKind::Binary);
}
