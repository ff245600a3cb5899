//===- DuplicateGenericRows.cpp - Every user row also trains user 0 -------===//
//
// The P-RLHF losses (pdpo, pipo, psimpo, pbt) mix two means: α over rows of seen users i != 0 with their
// embedding e_i, and (1 − α) over rows of the generic user 0 with e_0. The authors get the generic rows by
// duplicating every training comparison with user id 0 in their data script (docs/methods.md §1.3). Here the
// duplication is a compiler decision written into the IR, so the data files stay as collected and the
// trainer cannot forget it: the batch_fetch feeding such a loss reads `with_generic_duplicates`.
//
//===----------------------------------------------------------------------===//

#include "Passes.h"

#include "llvm/ADT/SetVector.h"

namespace align {
#define GEN_PASS_DEF_DUPLICATEGENERICROWSPASS
#include "Passes.h.inc"
} // namespace align

using namespace mlir;
using namespace align::train;

namespace align {
namespace {

/// The batch fetches of `loop` that `loss` reads, through log-probs, scores, forwards and references.
llvm::SetVector<BatchFetchOp> fetchesFeeding(LossOp loss, StepLoopOp loop) {
  llvm::SetVector<BatchFetchOp> fetches;
  llvm::SetVector<Operation *> visited;
  SmallVector<Operation *> worklist{loss};
  while (!worklist.empty()) {
    Operation *op = worklist.pop_back_val();
    if (!visited.insert(op))
      continue;
    if (auto fetch = dyn_cast<BatchFetchOp>(op)) {
      fetches.insert(fetch);
      continue;
    }
    for (Value operand : op->getOperands())
      if (Operation *def = operand.getDefiningOp(); def && def->getParentOp() == loop)
        worklist.push_back(def);
  }
  return fetches;
}

struct DuplicateGenericRowsPass : impl::DuplicateGenericRowsPassBase<DuplicateGenericRowsPass> {
  void runOnOperation() override {
    getOperation().walk([](StepLoopOp loop) {
      for (LossOp loss : loop.getBody()->getOps<LossOp>()) {
        if (!LossOp::mixesUsers(loss.getKind()))
          continue;
        for (BatchFetchOp fetch : fetchesFeeding(loss, loop))
          fetch.setGenericDuplicates(true);
      }
    });
  }
};

} // namespace
} // namespace align
