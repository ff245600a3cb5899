//===- GlooBackend.cpp - The one translation unit that sees ProcessGroupGloo.hpp -===//
//
// Its <gloo/...> includes resolve to gloo-declarations/ (declarations only). Everything called here is out of
// line in libtorch_cpu.so — ProcessGroupGloo::Options::create_default and ProcessGroupGloo's constructor —
// so no code compiled from those declarations reaches this object file; dist.gloo_backend_object checks
// that with nm (docs/distributed.md). Keep it that way: no inline ProcessGroupGloo members, no GlooStore,
// no typeid/dynamic_cast of Gloo types here, and no -flto for this file.
//
//===----------------------------------------------------------------------===//

#include "dist/GlooBackend.h"

#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>

#ifndef USE_C10D_GLOO
#error "USE_C10D_GLOO must be defined (LibTorch's torch_cpu target defines it)"
#endif

namespace align::rt::dist {

c10::intrusive_ptr<c10d::Backend> makeGlooBackend(const c10::intrusive_ptr<c10d::Store> &store, int rank, int size,
                                                  std::chrono::milliseconds timeout) {
  c10::intrusive_ptr<c10d::ProcessGroupGloo::Options> options =
      c10d::ProcessGroupGloo::Options::create_default(timeout);
  options->timeout = timeout;
  auto group = c10::make_intrusive<c10d::ProcessGroupGloo>(store, rank, size, std::move(options));
  return c10::static_intrusive_pointer_cast<c10d::Backend>(std::move(group));
}

} // namespace align::rt::dist
