// Reading photos as tensors, and writing tensors as pictures.
//
//   Tensor rgb  = read_image("cat.jpg", ColorMode::RGB);   // (3, H, W), 0..255
//   Tensor gray = read_image("digit.png", ColorMode::Gray); // (1, H, W)
//   write_png_picture("conv1.png", activations);            // one panel per channel
//
// Decoding gives exactly the pixels Pillow 9.4 gives for the same file,
// np.array(Image.open(path).convert("L" or "RGB")): JPEG through
// libjpeg-turbo with Pillow's settings, PNG through libpng, BMP through
// stb_image. Grayscale is Pillow's Image.convert("L") to the bit:
// (19595 R + 38470 G + 7471 B + 0x8000) >> 16. Like Pillow, EXIF
// orientation, gamma and colour profiles are not applied, alpha is dropped
// (not composited), and 16-bit gray PNGs are clipped to 0..255 (Pillow opens
// them as mode "I"). Refused where Pillow would give pixels: truncated
// files (Pillow too, unless LOAD_TRUNCATED_IMAGES), RLE and 16-bit BMPs, and
// a few files Pillow itself misreads; see framework/image_bmp.cpp.
#pragma once

#include <string>

#include "framework/tensor.h"

namespace mininn {

enum class ColorMode { Gray, RGB };

// Decodes PNG, JPEG or BMP (chosen by content, not by extension) into a
// float32 tensor of pixel values 0..255 shaped (1, H, W) for Gray or
// (3, H, W) for RGB. Throws Error naming the file on any failure; the size
// is checked against max_tensor_bytes() before anything is allocated.
Tensor read_image(const std::string& path, ColorMode mode);

// Writes a picture of a tensor as an 8-bit grayscale PNG, like matplotlib's
// imshow(cmap="gray") panels: each channel of the first image is min-max
// scaled to 0..255 on its own (over its finite values; +inf white, -inf and
// NaN black; a constant channel black), and the channels stand side by side
// separated by 2 white pixels. Shapes: (N, C, H, W) draws image 0, (C, H, W)
// its C channels, (H, W) one panel, (L) one panel one pixel high. Written
// through a temporary file renamed into place.
void write_png_picture(const std::string& path, const Tensor& tensor);

}  // namespace mininn
