//===- EliminateDeadDeclarations.cpp - Drop unused loads and attachments --===//
//
// A trainer loads every declaration the program lists before the first stage. One that nothing reads (a
// model only a removed reference used, data no stage trains or evaluates on) costs load time and memory,
// so it is erased; erasing an attachment can leave its base unused, so the walk repeats to a fixed point.
//
//===----------------------------------------------------------------------===//

#include "Passes.h"

namespace align {
#define GEN_PASS_DEF_ELIMINATEDEADDECLARATIONSPASS
#include "Passes.h.inc"
} // namespace align

using namespace mlir;
using namespace align::train;

namespace align {
namespace {

struct EliminateDeadDeclarationsPass : impl::EliminateDeadDeclarationsPassBase<EliminateDeadDeclarationsPass> {
  void runOnOperation() override {
    getOperation().walk([](ProgramOp program) {
      bool erased = true;
      while (erased) {
        erased = false;
        // Backwards, so an attachment goes before the base it was the last user of.
        for (Operation &op : llvm::make_early_inc_range(llvm::reverse(*program.getBody()))) {
          if (isa<LoadModelOp, LoadDataOp, AttachOp>(op) && op.use_empty()) {
            op.erase();
            erased = true;
          }
        }
      }
    });
  }
};

} // namespace
} // namespace align
