// Reading photos as tensors, and writing tensors as pictures.
//
// Decoding gives exactly the pixels Pillow gives for the same file: JPEG
// through libjpeg-turbo with Pillow's settings, PNG through libpng, BMP
// through stb_image. Grayscale is Pillow's Image.convert("L") to the bit.
#pragma once

#include "framework/tensor.h"

#include <string>

namespace mininn {

enum class ColorMode { Gray, RGB };

// Decodes PNG, JPEG or BMP (chosen by content, not by extension) into a
// float32 tensor of pixel values 0..255 shaped (1, H, W) for Gray or
// (3, H, W) for RGB. Throws Error naming the file on any failure.
Tensor read_image(const std::string& path, ColorMode mode);

// Writes a picture of a float tensor as an 8-bit grayscale PNG: each channel
// of the first image (a (N, C, H, W) or (C, H, W) tensor; (H, W) and 1-d
// (C, L) are accepted as one row) min–max scaled to 0..255 on its own, the
// channels side by side with a 2-pixel gap, like matplotlib's
// imshow(cmap="gray") panels. A constant channel is drawn black; NaN black.
void write_png_picture(const std::string& path, const Tensor& tensor);

}  // namespace mininn
