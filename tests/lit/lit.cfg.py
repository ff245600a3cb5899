# lit configuration for the compiler's surfaces: .align sources (syntax, Sema, AST, MLIRGen), .mlir files
# (dialect round trips and verifiers, passes, emission) and .test scripts (driver, pipelines, the recipe
# library, building trainers). Inputs/ folders hold files that tests read, not tests.
import os

import lit.formats
from lit.llvm import llvm_config

config.name = "alignc"
config.test_format = lit.formats.ShTest(not llvm_config.use_lit_shell)
config.suffixes = [".align", ".test", ".mlir"]
config.excludes = ["Inputs", "lit.cfg.py", "lit.site.cfg.py"]
config.test_source_root = os.path.dirname(__file__)
config.test_exec_root = os.path.join(config.align_obj_root, "tests", "lit")

llvm_config.use_default_substitutions()
llvm_config.with_environment("PATH", config.llvm_tools_dir, append_path=True)
llvm_config.with_environment("NO_COLOR", "1")
config.substitutions.append(("%recipes", os.path.join(config.align_src_root, "recipes")))
config.substitutions.append(("%docs", os.path.join(config.align_src_root, "docs")))
llvm_config.add_tool_substitutions(["alignc", "align-opt"], [config.align_tools_dir])

# `alignc build` links trainers against the shared runtime; tests that link or run a trainer need it built.
if os.path.exists(os.path.join(config.align_obj_root, "lib", "libalign_rt.so")):
    config.available_features.add("align-runtime")
