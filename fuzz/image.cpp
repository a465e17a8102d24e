// read_image (framework/image*.cpp): format detection by content, then
// libpng, libjpeg-turbo or the BMP front end with stb_image, read as
// grayscale and as RGB. Any input either gives pixels or throws Error.
#include "framework/image.h"
#include "fuzz/common.h"

#include <mininn/error.h>

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  mininn::fuzz::use_small_limits();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static mininn::fuzz::MemoryFile file;
  const std::string& path = file.hold(data, size);
  for (auto mode : {mininn::ColorMode::Gray, mininn::ColorMode::RGB}) {
    try {
      mininn::Tensor t = mininn::read_image(path, mode);
      if (t.rank() != 3 || t.dim(0) != (mode == mininn::ColorMode::RGB ? 3 : 1)) __builtin_trap();
      for (float v : t.floats())
        if (!(v >= 0 && v <= 255)) __builtin_trap();
    } catch (const mininn::Error&) {
    }
  }
  return 0;
}
