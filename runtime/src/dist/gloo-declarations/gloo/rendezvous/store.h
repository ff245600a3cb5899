// Stand-in for <gloo/rendezvous/store.h>. ProcessGroupGloo.hpp defines the nested class GlooStore deriving
// from this with `override`s, so the base must be complete and declare them: torch 2.11's GlooStore vtable
// has the store-v2 functions, hence GLOO_STORE_HAS_STORE_V2 as the real header defines it. GlooBackend.cpp
// never constructs a GlooStore (ProcessGroupGloo's constructor in libtorch_cpu.so does), which the
// dist.gloo_backend_object test checks (runtime/src/dist/gloo-declarations/README.md).
#pragma once
#include <chrono>
#include <cstdint>
#include <string>
#include <vector>
#define GLOO_STORE_HAS_STORE_V2 1
namespace gloo::rendezvous {
class Store {
public:
  virtual ~Store() = default;
  virtual void set(const std::string &key, const std::vector<char> &data) = 0;
  virtual std::vector<char> get(const std::string &key) = 0;
  virtual void wait(const std::vector<std::string> &keys) = 0;
  virtual void wait(const std::vector<std::string> &keys, const std::chrono::milliseconds &timeout) = 0;
  virtual bool has_v2_support() = 0;
  virtual std::vector<std::vector<char>> multi_get(const std::vector<std::string> &keys) = 0;
  virtual void multi_set(const std::vector<std::string> &keys, const std::vector<std::vector<char>> &values) = 0;
  virtual void append(const std::string &key, const std::vector<char> &value) = 0;
  virtual int64_t add(const std::string &key, int64_t value) = 0;
};
} // namespace gloo::rendezvous
