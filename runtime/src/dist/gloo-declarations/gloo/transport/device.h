// Stand-in for <gloo/transport/device.h>: ProcessGroupGloo.hpp names these only inside shared_ptr/unique_ptr,
// which do not need them complete (runtime/src/dist/gloo-declarations/README.md).
#pragma once
namespace gloo::transport {
class Device;
class UnboundBuffer;
} // namespace gloo::transport
