// read_idx (framework/idx.cpp): IDX files, plain or gzipped, as images
// (float32) and as labels (int64). Any input either gives a tensor or throws
// Error.
#include "framework/idx.h"
#include "fuzz/common.h"

#include <mininn/error.h>

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  mininn::fuzz::use_small_limits();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static mininn::fuzz::MemoryFile file;
  const std::string& path = file.hold(data, size);
  (void)mininn::looks_like_idx(path);
  for (auto want : {mininn::DType::Float32, mininn::DType::Int64}) {
    try {
      mininn::Tensor t = mininn::read_idx(path, want, 255.0f);
      if (t.dtype() != want) __builtin_trap();
    } catch (const mininn::Error&) {
    }
  }
  return 0;
}
