// safetensors parsing (framework/safetensors.cpp) from memory: any input
// either gives its tensors or throws Error.
#include "framework/safetensors.h"
#include "fuzz/common.h"

#include <mininn/error.h>

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  mininn::fuzz::use_small_limits();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    auto tensors = mininn::parse_safetensors(data, size, "fuzz.safetensors");
    for (const auto& [name, t] : tensors)
      if (!t.defined()) __builtin_trap();
  } catch (const mininn::Error&) {
  }
  return 0;
}
