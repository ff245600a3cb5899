//===- Precision.cpp - Which precision a stage computes in ----------------===//

#include "train/Precision.h"

#include "align/rt/Error.h"

#include <ATen/autocast_mode.h>

#include <fstream>
#include <sstream>

namespace align::rt {

bool cpuHasNativeBf16() {
  static const bool has = [] {
    std::ifstream cpuinfo("/proc/cpuinfo");
    for (std::string line; std::getline(cpuinfo, line);) {
      if (line.rfind("flags", 0) != 0)
        continue;
      std::istringstream words(line);
      for (std::string word; words >> word;)
        if (word == "amx_bf16" || word == "avx512_bf16")
          return true;
      return false; // every core lists the same flags
    }
    return false;
  }();
  return has;
}

PrecisionChoice choosePrecision(Precision requested, torch::Device device) {
  switch (requested) {
  case Precision::fp16:
    throw Error("precision fp16 needs loss scaling, which the runtime does not implement yet; use bf16");
  case Precision::fp32:
    return {false, "precision fp32 (the recipe's)"};
  case Precision::bf16:
    return {true, "precision bf16 autocast, fp32 master weights (the recipe's)"};
  case Precision::automatic:
    break;
  }
  if (device.is_cuda())
    return {true, "precision bf16 autocast, fp32 master weights (auto: a GPU)"};
  if (cpuHasNativeBf16())
    return {true, "precision bf16 autocast, fp32 master weights (auto: this CPU multiplies bf16 natively; "
                  "`precision: fp32` to keep float32)"};
  return {false, "precision fp32 (auto: this CPU has no native bf16 matrix instructions)"};
}

PrecisionScope::PrecisionScope(Precision precision, torch::Device device) {
  if (!choosePrecision(precision, device).bf16)
    return;
  type_ = device.type();
  wasEnabled_ = at::autocast::is_autocast_enabled(type_);
  wasType_ = at::autocast::get_autocast_dtype(type_);
  at::autocast::set_autocast_dtype(type_, at::kBFloat16);
  at::autocast::set_autocast_enabled(type_, true);
  active_ = true;
}

PrecisionScope::~PrecisionScope() {
  if (!active_)
    return;
  at::autocast::set_autocast_dtype(type_, wasType_);
  at::autocast::set_autocast_enabled(type_, wasEnabled_);
  if (!wasEnabled_)
    at::autocast::clear_cache();
}

} // namespace align::rt
