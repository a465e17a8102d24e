// Internal to read_image/write_png_picture: one decoder per file format,
// each giving the pixels Pillow 9.4 holds after Image.open(path).
//
// Every mode Pillow opens these formats in converts to "L" and "RGB"
// through one of two forms, so that is all a decoder returns:
//   gray (1 channel)  Pillow modes 1, L, LA, I (16-bit gray PNG, clipped to
//                     0..255 as Pillow's I->L and I->RGB do); RGB is (v, v, v).
//   color (3 channels) modes RGB, RGBA, P (through the palette), CMYK (after
//                     Pillow's CMYK->RGB); L is Pillow's integer luma of it.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace mininn::image_detail {

struct Pixels {
  int64_t width = 0;
  int64_t height = 0;
  int channels = 0;              // 1 or 3
  std::vector<uint8_t> samples;  // row-major, channels interleaved
};

// The decoders throw Error without a file name (read_image adds it).
// `out_channels` is what the caller will make of the pixels (1 or 3): the
// tensor size is checked against max_tensor_bytes() before any allocation.
Pixels decode_png(std::span<const uint8_t> file, int out_channels);
Pixels decode_jpeg(std::span<const uint8_t> file, int out_channels);
Pixels decode_bmp(std::span<const uint8_t> file, int out_channels);

// Throws unless a (channels, height, width) float tensor fits the limit.
void check_image_size(int64_t width, int64_t height, int channels);

// Pillow's convert("L") from RGB: ITU-R 601-2 luma in 16.16 fixed point,
// rounded: (19595 R + 38470 G + 7471 B + 0x8000) >> 16.
inline uint8_t pillow_luma(uint8_t r, uint8_t g, uint8_t b) {
  return static_cast<uint8_t>((r * 19595u + g * 38470u + b * 7471u + 0x8000u) >> 16);
}

// An 8-bit grayscale PNG of `width` x `height` pixels, in memory.
std::string encode_gray_png(const uint8_t* pixels, int64_t width, int64_t height);

}  // namespace mininn::image_detail
