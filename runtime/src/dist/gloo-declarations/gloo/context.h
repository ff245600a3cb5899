// Stand-in for <gloo/context.h>. ProcessGroupGloo.hpp's one use is the body of the inline virtual
// ProcessGroupGloo::setTimeout, which needs the class complete; that body is only emitted with the class's
// vtable, whose key function (the destructor) is out of line in libtorch_cpu.so. No data members, nothing
// defined (runtime/src/dist/gloo-declarations/README.md).
#pragma once
#include <chrono>
namespace gloo {
class Context {
public:
  void setTimeout(std::chrono::milliseconds timeout);
};
} // namespace gloo
