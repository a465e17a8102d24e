// .npy parsing (framework/npy.cpp) from memory, as each element type a
// caller may ask for: any input either gives a tensor or throws Error.
#include "framework/npy.h"
#include "fuzz/common.h"

#include <mininn/error.h>

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  mininn::fuzz::use_small_limits();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using mininn::DType;
  for (std::optional<DType> want : {std::optional<DType>(), std::optional(DType::Float32), std::optional(DType::Int64)}) {
    try {
      mininn::Tensor t = mininn::parse_npy(data, size, "fuzz.npy", want);
      if (want && t.dtype() != *want) __builtin_trap();
    } catch (const mininn::Error&) {
    }
  }
  return 0;
}
