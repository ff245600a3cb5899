# LLVM's compile flags and include paths, for the directories that build with them (compiler tools,
# dialects). Debian's LLVM 16 is built without exceptions, so these targets get -fno-exceptions; the
# ANTLR front end and the LibTorch runtime must not include this file.
include(HandleLLVMOptions)
include_directories(SYSTEM ${LLVM_INCLUDE_DIRS} ${MLIR_INCLUDE_DIRS})
separate_arguments(ALIGN_LLVM_DEFINITIONS NATIVE_COMMAND ${LLVM_DEFINITIONS})
add_definitions(${ALIGN_LLVM_DEFINITIONS})
