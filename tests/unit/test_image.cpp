// read_image and write_png_picture on small files built here byte by byte,
// with the pixels Pillow 9.4 gives for them. tests/io compares hundreds of
// generated files and real photos against Pillow itself.
#include "framework/error.h"
#include "framework/image.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <limits>
#include <random>
#include <string>
#include <vector>

namespace mininn {
namespace {

namespace fs = std::filesystem;

// Written by Pillow 9.4: Image.fromarray(4x3 RGB noise).save(f, 'JPEG', quality=90, subsampling=2).
const unsigned char kColorJpeg[] = {
    0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10, 0x4a, 0x46, 0x49, 0x46, 0x00, 0x01, 0x01, 0x00, 0x00, 0x01, 0x00, 0x01, 0x00,
    0x00, 0xff, 0xdb, 0x00, 0x43, 0x00, 0x03, 0x02, 0x02, 0x03, 0x02, 0x02, 0x03, 0x03, 0x03, 0x03, 0x04, 0x03, 0x03,
    0x04, 0x05, 0x08, 0x05, 0x05, 0x04, 0x04, 0x05, 0x0a, 0x07, 0x07, 0x06, 0x08, 0x0c, 0x0a, 0x0c, 0x0c, 0x0b, 0x0a,
    0x0b, 0x0b, 0x0d, 0x0e, 0x12, 0x10, 0x0d, 0x0e, 0x11, 0x0e, 0x0b, 0x0b, 0x10, 0x16, 0x10, 0x11, 0x13, 0x14, 0x15,
    0x15, 0x15, 0x0c, 0x0f, 0x17, 0x18, 0x16, 0x14, 0x18, 0x12, 0x14, 0x15, 0x14, 0xff, 0xdb, 0x00, 0x43, 0x01, 0x03,
    0x04, 0x04, 0x05, 0x04, 0x05, 0x09, 0x05, 0x05, 0x09, 0x14, 0x0d, 0x0b, 0x0d, 0x14, 0x14, 0x14, 0x14, 0x14, 0x14,
    0x14, 0x14, 0x14, 0x14, 0x14, 0x14, 0x14, 0x14, 0x14, 0x14, 0x14, 0x14, 0x14, 0x14, 0x14, 0x14, 0x14, 0x14, 0x14,
    0x14, 0x14, 0x14, 0x14, 0x14, 0x14, 0x14, 0x14, 0x14, 0x14, 0x14, 0x14, 0x14, 0x14, 0x14, 0x14, 0x14, 0x14, 0x14,
    0x14, 0x14, 0x14, 0x14, 0x14, 0x14, 0xff, 0xc0, 0x00, 0x11, 0x08, 0x00, 0x03, 0x00, 0x04, 0x03, 0x01, 0x22, 0x00,
    0x02, 0x11, 0x01, 0x03, 0x11, 0x01, 0xff, 0xc4, 0x00, 0x1f, 0x00, 0x00, 0x01, 0x05, 0x01, 0x01, 0x01, 0x01, 0x01,
    0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a,
    0x0b, 0xff, 0xc4, 0x00, 0xb5, 0x10, 0x00, 0x02, 0x01, 0x03, 0x03, 0x02, 0x04, 0x03, 0x05, 0x05, 0x04, 0x04, 0x00,
    0x00, 0x01, 0x7d, 0x01, 0x02, 0x03, 0x00, 0x04, 0x11, 0x05, 0x12, 0x21, 0x31, 0x41, 0x06, 0x13, 0x51, 0x61, 0x07,
    0x22, 0x71, 0x14, 0x32, 0x81, 0x91, 0xa1, 0x08, 0x23, 0x42, 0xb1, 0xc1, 0x15, 0x52, 0xd1, 0xf0, 0x24, 0x33, 0x62,
    0x72, 0x82, 0x09, 0x0a, 0x16, 0x17, 0x18, 0x19, 0x1a, 0x25, 0x26, 0x27, 0x28, 0x29, 0x2a, 0x34, 0x35, 0x36, 0x37,
    0x38, 0x39, 0x3a, 0x43, 0x44, 0x45, 0x46, 0x47, 0x48, 0x49, 0x4a, 0x53, 0x54, 0x55, 0x56, 0x57, 0x58, 0x59, 0x5a,
    0x63, 0x64, 0x65, 0x66, 0x67, 0x68, 0x69, 0x6a, 0x73, 0x74, 0x75, 0x76, 0x77, 0x78, 0x79, 0x7a, 0x83, 0x84, 0x85,
    0x86, 0x87, 0x88, 0x89, 0x8a, 0x92, 0x93, 0x94, 0x95, 0x96, 0x97, 0x98, 0x99, 0x9a, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6,
    0xa7, 0xa8, 0xa9, 0xaa, 0xb2, 0xb3, 0xb4, 0xb5, 0xb6, 0xb7, 0xb8, 0xb9, 0xba, 0xc2, 0xc3, 0xc4, 0xc5, 0xc6, 0xc7,
    0xc8, 0xc9, 0xca, 0xd2, 0xd3, 0xd4, 0xd5, 0xd6, 0xd7, 0xd8, 0xd9, 0xda, 0xe1, 0xe2, 0xe3, 0xe4, 0xe5, 0xe6, 0xe7,
    0xe8, 0xe9, 0xea, 0xf1, 0xf2, 0xf3, 0xf4, 0xf5, 0xf6, 0xf7, 0xf8, 0xf9, 0xfa, 0xff, 0xc4, 0x00, 0x1f, 0x01, 0x00,
    0x03, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x02, 0x03,
    0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b, 0xff, 0xc4, 0x00, 0xb5, 0x11, 0x00, 0x02, 0x01, 0x02, 0x04, 0x04,
    0x03, 0x04, 0x07, 0x05, 0x04, 0x04, 0x00, 0x01, 0x02, 0x77, 0x00, 0x01, 0x02, 0x03, 0x11, 0x04, 0x05, 0x21, 0x31,
    0x06, 0x12, 0x41, 0x51, 0x07, 0x61, 0x71, 0x13, 0x22, 0x32, 0x81, 0x08, 0x14, 0x42, 0x91, 0xa1, 0xb1, 0xc1, 0x09,
    0x23, 0x33, 0x52, 0xf0, 0x15, 0x62, 0x72, 0xd1, 0x0a, 0x16, 0x24, 0x34, 0xe1, 0x25, 0xf1, 0x17, 0x18, 0x19, 0x1a,
    0x26, 0x27, 0x28, 0x29, 0x2a, 0x35, 0x36, 0x37, 0x38, 0x39, 0x3a, 0x43, 0x44, 0x45, 0x46, 0x47, 0x48, 0x49, 0x4a,
    0x53, 0x54, 0x55, 0x56, 0x57, 0x58, 0x59, 0x5a, 0x63, 0x64, 0x65, 0x66, 0x67, 0x68, 0x69, 0x6a, 0x73, 0x74, 0x75,
    0x76, 0x77, 0x78, 0x79, 0x7a, 0x82, 0x83, 0x84, 0x85, 0x86, 0x87, 0x88, 0x89, 0x8a, 0x92, 0x93, 0x94, 0x95, 0x96,
    0x97, 0x98, 0x99, 0x9a, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7, 0xa8, 0xa9, 0xaa, 0xb2, 0xb3, 0xb4, 0xb5, 0xb6, 0xb7,
    0xb8, 0xb9, 0xba, 0xc2, 0xc3, 0xc4, 0xc5, 0xc6, 0xc7, 0xc8, 0xc9, 0xca, 0xd2, 0xd3, 0xd4, 0xd5, 0xd6, 0xd7, 0xd8,
    0xd9, 0xda, 0xe2, 0xe3, 0xe4, 0xe5, 0xe6, 0xe7, 0xe8, 0xe9, 0xea, 0xf2, 0xf3, 0xf4, 0xf5, 0xf6, 0xf7, 0xf8, 0xf9,
    0xfa, 0xff, 0xda, 0x00, 0x0c, 0x03, 0x01, 0x00, 0x02, 0x11, 0x03, 0x11, 0x00, 0x3f, 0x00, 0xf7, 0xef, 0x83, 0xba,
    0x3a, 0x6a, 0x7a, 0x36, 0xb1, 0x3c, 0xf7, 0xba, 0xa0, 0x94, 0xea, 0x92, 0xa9, 0x68, 0x75, 0x4b, 0x98, 0xb7, 0x00,
    0x91, 0x81, 0xbb, 0x64, 0x83, 0x24, 0x00, 0x14, 0x13, 0xce, 0x15, 0x47, 0x40, 0x00, 0x28, 0xa2, 0xbf, 0x16, 0xcc,
    0xea, 0xcd, 0xe3, 0x2a, 0x37, 0x27, 0xbf, 0x73, 0xf3, 0x0a, 0xd9, 0xd6, 0x69, 0x4d, 0x53, 0x8c, 0x31, 0x55, 0x12,
    0xe4, 0xa7, 0xb4, 0xe5, 0xd6, 0x11, 0x6f, 0xaf, 0x57, 0xa9, 0xff, 0xd9,
};
const std::vector<float> kColorJpegRgb{194, 213, 141, 255, 143, 106, 183, 172, 74,  35,  114, 196,
                                       172, 191, 67,  204, 121, 84,  109, 98,  207, 168, 147, 229,
                                       195, 214, 66,  203, 144, 107, 108, 97,  144, 105, 78,  160};
const std::vector<float> kColorJpegGray{181, 200, 89, 219, 130, 93, 131, 120, 160, 121, 129, 211};
// A 3x2 CMYK JPEG from Pillow (Adobe marker, inverted samples).
const unsigned char kCmykJpeg[] = {
    0xff, 0xd8, 0xff, 0xee, 0x00, 0x0e, 0x41, 0x64, 0x6f, 0x62, 0x65, 0x00, 0x64, 0x00, 0x00, 0x00, 0x00, 0x00, 0xff,
    0xdb, 0x00, 0x43, 0x00, 0x02, 0x01, 0x01, 0x01, 0x01, 0x01, 0x02, 0x01, 0x01, 0x01, 0x02, 0x02, 0x02, 0x02, 0x02,
    0x04, 0x03, 0x02, 0x02, 0x02, 0x02, 0x05, 0x04, 0x04, 0x03, 0x04, 0x06, 0x05, 0x06, 0x06, 0x06, 0x05, 0x06, 0x06,
    0x06, 0x07, 0x09, 0x08, 0x06, 0x07, 0x09, 0x07, 0x06, 0x06, 0x08, 0x0b, 0x08, 0x09, 0x0a, 0x0a, 0x0a, 0x0a, 0x0a,
    0x06, 0x08, 0x0b, 0x0c, 0x0b, 0x0a, 0x0c, 0x09, 0x0a, 0x0a, 0x0a, 0xff, 0xc0, 0x00, 0x14, 0x08, 0x00, 0x02, 0x00,
    0x03, 0x04, 0x43, 0x11, 0x00, 0x4d, 0x11, 0x00, 0x59, 0x11, 0x00, 0x4b, 0x11, 0x00, 0xff, 0xc4, 0x00, 0x1f, 0x00,
    0x00, 0x01, 0x05, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x02,
    0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b, 0xff, 0xc4, 0x00, 0xb5, 0x10, 0x00, 0x02, 0x01, 0x03, 0x03,
    0x02, 0x04, 0x03, 0x05, 0x05, 0x04, 0x04, 0x00, 0x00, 0x01, 0x7d, 0x01, 0x02, 0x03, 0x00, 0x04, 0x11, 0x05, 0x12,
    0x21, 0x31, 0x41, 0x06, 0x13, 0x51, 0x61, 0x07, 0x22, 0x71, 0x14, 0x32, 0x81, 0x91, 0xa1, 0x08, 0x23, 0x42, 0xb1,
    0xc1, 0x15, 0x52, 0xd1, 0xf0, 0x24, 0x33, 0x62, 0x72, 0x82, 0x09, 0x0a, 0x16, 0x17, 0x18, 0x19, 0x1a, 0x25, 0x26,
    0x27, 0x28, 0x29, 0x2a, 0x34, 0x35, 0x36, 0x37, 0x38, 0x39, 0x3a, 0x43, 0x44, 0x45, 0x46, 0x47, 0x48, 0x49, 0x4a,
    0x53, 0x54, 0x55, 0x56, 0x57, 0x58, 0x59, 0x5a, 0x63, 0x64, 0x65, 0x66, 0x67, 0x68, 0x69, 0x6a, 0x73, 0x74, 0x75,
    0x76, 0x77, 0x78, 0x79, 0x7a, 0x83, 0x84, 0x85, 0x86, 0x87, 0x88, 0x89, 0x8a, 0x92, 0x93, 0x94, 0x95, 0x96, 0x97,
    0x98, 0x99, 0x9a, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7, 0xa8, 0xa9, 0xaa, 0xb2, 0xb3, 0xb4, 0xb5, 0xb6, 0xb7, 0xb8,
    0xb9, 0xba, 0xc2, 0xc3, 0xc4, 0xc5, 0xc6, 0xc7, 0xc8, 0xc9, 0xca, 0xd2, 0xd3, 0xd4, 0xd5, 0xd6, 0xd7, 0xd8, 0xd9,
    0xda, 0xe1, 0xe2, 0xe3, 0xe4, 0xe5, 0xe6, 0xe7, 0xe8, 0xe9, 0xea, 0xf1, 0xf2, 0xf3, 0xf4, 0xf5, 0xf6, 0xf7, 0xf8,
    0xf9, 0xfa, 0xff, 0xda, 0x00, 0x0e, 0x04, 0x43, 0x00, 0x4d, 0x00, 0x59, 0x00, 0x4b, 0x00, 0x00, 0x3f, 0x00, 0xfd,
    0x18, 0xf8, 0x2d, 0xfb, 0x36, 0xfe, 0xce, 0xd7, 0x9a, 0x0f, 0x88, 0x5e, 0xef, 0xe0, 0x1f, 0x82, 0xa5, 0x31, 0x7c,
    0x4b, 0xf1, 0x84, 0x31, 0x99, 0x3c, 0x2d, 0x68, 0xc5, 0x22, 0x8f, 0xc4, 0x7a, 0x8c, 0x71, 0xa0, 0xcc, 0x7c, 0x2a,
    0xa2, 0xaa, 0xa8, 0xe8, 0x15, 0x40, 0x1c, 0x01, 0x5f, 0xa2, 0x5f, 0xf0, 0x4b, 0x8f, 0xd8, 0xe3, 0xf6, 0x44, 0xf8,
    0xdd, 0xff, 0x00, 0x04, 0xf8, 0xf8, 0x4f, 0xf1, 0x5b, 0xe3, 0x47, 0xec, 0xad, 0xf0, 0xdf, 0xc5, 0xfe, 0x29, 0xd6,
    0xfc, 0x27, 0x14, 0xfa, 0xcf, 0x89, 0x7c, 0x51, 0xe0, 0x7d, 0x3f, 0x50, 0xd4, 0x2f, 0xe5, 0xde, 0xeb, 0xe6, 0x4d,
    0x71, 0x3c, 0x2d, 0x24, 0xad, 0xb5, 0x54, 0x6e, 0x66, 0x27, 0x00, 0x0e, 0xd5, 0xf5, 0x87, 0xec, 0x37, 0xf1, 0x33,
    0xe2, 0x45, 0x97, 0xec, 0xdb, 0xa6, 0x25, 0x9f, 0xc4, 0x0d, 0x6e, 0x21, 0x2e, 0xbf, 0xaf, 0xcf, 0x28, 0x8b, 0x56,
    0x99, 0x77, 0xcb, 0x26, 0xb5, 0x7b, 0x24, 0x92, 0x1c, 0x37, 0x2c, 0xce, 0xcc, 0xec, 0xdd, 0x59, 0x98, 0x93, 0x92,
    0x4d, 0x7e, 0x99, 0x7c, 0x0e, 0xf0, 0x47, 0x82, 0xfc, 0x37, 0xf0, 0x4b, 0xc1, 0xba, 0x17, 0x87, 0x7c, 0x21, 0xa5,
    0xd8, 0x58, 0xdb, 0x78, 0x4f, 0x4d, 0x4b, 0x6b, 0x3b, 0x2d, 0x3e, 0x38, 0xa2, 0x89, 0x7e, 0xcb, 0x19, 0xc2, 0xa2,
    0xa8, 0x0a, 0x3d, 0x80, 0xaf, 0xff, 0xd9,
};
const std::vector<float> kCmykJpegRgb{10, 39, 84, 145, 81, 194, 13, 75, 37, 27, 135, 216, 18, 27, 191, 69, 71, 159};
const std::vector<float> kCmykJpegGray{13, 59, 69, 67, 112, 203};

// ---- Building files --------------------------------------------------------------

void put_le(std::string& out, uint32_t value, int bytes) {
  for (int i = 0; i < bytes; ++i) out += static_cast<char>((value >> (8 * i)) & 0xff);
}
void put_be(std::string& out, uint32_t value) {
  for (int i = 3; i >= 0; --i) out += static_cast<char>((value >> (8 * i)) & 0xff);
}

// A BMP with a 40-byte header. `rows` are the pixel rows top to bottom,
// unpadded; they are padded and stored bottom-up unless top_down.
std::string bmp_file(int32_t width, int32_t height, int bits, const std::vector<std::string>& rows,
                     const std::string& palette = "", bool top_down = false, uint32_t compression = 0) {
  std::string pixels;
  const size_t stride = ((static_cast<size_t>(width) * bits + 31) / 32) * 4;
  for (size_t i = 0; i < rows.size(); ++i) {
    std::string row = rows[top_down ? i : rows.size() - 1 - i];
    row.resize(stride, '\0');
    pixels += row;
  }
  std::string out = "BM";
  put_le(out, static_cast<uint32_t>(54 + palette.size() + pixels.size()), 4);
  put_le(out, 0, 4);
  put_le(out, static_cast<uint32_t>(54 + palette.size()), 4);
  put_le(out, 40, 4);
  put_le(out, static_cast<uint32_t>(width), 4);
  put_le(out, static_cast<uint32_t>(top_down ? -height : height), 4);
  put_le(out, 1, 2);
  put_le(out, static_cast<uint32_t>(bits), 2);
  put_le(out, compression, 4);
  put_le(out, static_cast<uint32_t>(pixels.size()), 4);
  put_le(out, 2835, 4);
  put_le(out, 2835, 4);
  put_le(out, static_cast<uint32_t>(palette.size() / 4), 4);
  put_le(out, 0, 4);
  return out + palette + pixels;
}

std::string bgr(uint8_t r, uint8_t g, uint8_t b) {
  return {static_cast<char>(b), static_cast<char>(g), static_cast<char>(r)};
}
std::string bgrx(uint8_t r, uint8_t g, uint8_t b) { return bgr(r, g, b) + '\0'; }

uint32_t crc32(const std::string& data) {
  uint32_t crc = 0xffffffffu;
  for (unsigned char byte : data) {
    crc ^= byte;
    for (int k = 0; k < 8; ++k) crc = (crc >> 1) ^ (0xedb88320u & (0u - (crc & 1u)));
  }
  return ~crc;
}

// zlib stream of stored (uncompressed) deflate blocks.
std::string zlib_stored(const std::string& raw) {
  std::string out("\x78\x01", 2);
  size_t position = 0;
  do {
    size_t length = std::min<size_t>(raw.size() - position, 65535);
    bool last = position + length == raw.size();
    out += static_cast<char>(last ? 1 : 0);
    put_le(out, static_cast<uint32_t>(length), 2);
    put_le(out, static_cast<uint32_t>(~length & 0xffff), 2);
    out += raw.substr(position, length);
    position += length;
  } while (position < raw.size());
  uint32_t a = 1, b = 0;
  for (unsigned char byte : raw) {
    a = (a + byte) % 65521;
    b = (b + a) % 65521;
  }
  put_be(out, (b << 16) | a);
  return out;
}

std::string png_chunk(const std::string& type, const std::string& payload) {
  std::string out;
  put_be(out, static_cast<uint32_t>(payload.size()));
  std::string body = type + payload;
  put_be(body, crc32(body));
  return out + body;
}

// A PNG; `rows` are the packed scanlines without their filter byte.
std::string png_file(uint32_t width, uint32_t height, int depth, int color_type, const std::vector<std::string>& rows,
                     const std::string& extra_chunks = "") {
  std::string header;
  put_be(header, width);
  put_be(header, height);
  header += static_cast<char>(depth);
  header += static_cast<char>(color_type);
  header += std::string(3, '\0');
  std::string raw;
  for (const std::string& row : rows) raw += '\0' + row;
  return std::string("\x89PNG\r\n\x1a\n", 8) + png_chunk("IHDR", header) + extra_chunks +
         png_chunk("IDAT", zlib_stored(raw)) + png_chunk("IEND", "");
}

std::string bytes(std::initializer_list<int> values) {
  std::string out;
  for (int v : values) out += static_cast<char>(v);
  return out;
}

std::vector<float> values_of(const Tensor& t) { return {t.f32(), t.f32() + t.numel()}; }

class Image : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("mininn_image_" + std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string file(const std::string& name, const std::string& content) {
    std::string path = (dir_ / name).string();
    std::ofstream(path, std::ios::binary) << content;
    return path;
  }
  std::string file(const std::string& name, const unsigned char* data, size_t size) {
    return file(name, std::string(reinterpret_cast<const char*>(data), size));
  }

  // read_image must fail, naming the file and the problem.
  void expect_refused(const std::string& path, const std::string& problem, ColorMode mode = ColorMode::RGB) {
    try {
      read_image(path, mode);
      ADD_FAILURE() << "accepted " << path << ", expected: " << problem;
    } catch (const Error& e) {
      std::string what = e.what();
      EXPECT_EQ(what.rfind(path + ": ", 0), 0u) << what;
      EXPECT_NE(what.find(problem), std::string::npos) << "message: " << what << "\nwanted: " << problem;
    }
  }

  fs::path dir_;
};

// ---- Decoding ----------------------------------------------------------------------

TEST_F(Image, GrayIsPillowsFixedPointLuma) {
  // Pure red, green, blue, white, and one mixed colour: Pillow gives 76, 150,
  // 29, 255 and (19595*10 + 38470*200 + 7471*30 + 0x8000) >> 16 = 124.
  std::string row = bgr(255, 0, 0) + bgr(0, 255, 0) + bgr(0, 0, 255) + bgr(255, 255, 255) + bgr(10, 200, 30);
  Tensor gray = read_image(file("colors.bmp", bmp_file(5, 1, 24, {row})), ColorMode::Gray);
  EXPECT_EQ(gray.shape(), (Shape{1, 1, 5}));
  EXPECT_EQ(values_of(gray), (std::vector<float>{76, 150, 29, 255, 124}));
  Tensor rgb = read_image(file("colors.bmp", bmp_file(5, 1, 24, {row})), ColorMode::RGB);
  EXPECT_EQ(rgb.shape(), (Shape{3, 1, 5}));
  EXPECT_EQ(values_of(rgb), (std::vector<float>{255, 0, 0, 255, 10, 0, 255, 0, 255, 200, 0, 0, 255, 255, 30}));
}

TEST_F(Image, BmpRowOrderBothWays) {
  std::vector<std::string> rows{bgr(1, 2, 3) + bgr(4, 5, 6), bgr(7, 8, 9) + bgr(10, 11, 12)};
  const std::vector<float> expected{1, 4, 7, 10, 2, 5, 8, 11, 3, 6, 9, 12};  // (3, 2, 2), channel planes
  EXPECT_EQ(values_of(read_image(file("up.bmp", bmp_file(2, 2, 24, rows)), ColorMode::RGB)), expected);
  EXPECT_EQ(values_of(read_image(file("down.bmp", bmp_file(2, 2, 24, rows, "", true)), ColorMode::RGB)), expected);
  std::vector<std::string> rows32{bgrx(1, 2, 3) + bgrx(4, 5, 6), bgrx(7, 8, 9) + bgrx(10, 11, 12)};
  EXPECT_EQ(values_of(read_image(file("x.bmp", bmp_file(2, 2, 32, rows32)), ColorMode::RGB)), expected);
}

TEST_F(Image, BmpPaletteIndicesPastThePaletteAreGrayLikePillow) {
  // Two palette entries; index 5 is past them, where Pillow's palette holds (5, 5, 5).
  std::string palette = bgrx(200, 10, 20) + bgrx(0, 90, 255);
  Tensor rgb = read_image(file("p.bmp", bmp_file(3, 1, 8, {bytes({1, 0, 5})}, palette)), ColorMode::RGB);
  EXPECT_EQ(values_of(rgb), (std::vector<float>{0, 200, 5, 90, 10, 5, 255, 20, 5}));
  // 1-bit: the palette is two arbitrary colours.
  std::string two = bgrx(255, 0, 0) + bgrx(0, 0, 255);
  Tensor bits = read_image(file("b.bmp", bmp_file(3, 1, 1, {bytes({0b10100000})}, two)), ColorMode::RGB);
  EXPECT_EQ(values_of(bits), (std::vector<float>{0, 255, 0, 0, 0, 0, 255, 0, 255}));
}

TEST_F(Image, PngColourTypesAsPillowMapsThem) {
  // 8-bit RGB.
  Tensor rgb = read_image(file("rgb.png", png_file(2, 1, 8, 2, {bytes({1, 2, 3, 250, 251, 252})})), ColorMode::RGB);
  EXPECT_EQ(values_of(rgb), (std::vector<float>{1, 250, 2, 251, 3, 252}));
  // 16-bit gray is Pillow's mode "I": clipped to 0..255, not scaled.
  Tensor i16 =
      read_image(file("g16.png", png_file(4, 1, 16, 0, {bytes({0, 0, 0, 200, 1, 44, 255, 255})})), ColorMode::Gray);
  EXPECT_EQ(values_of(i16), (std::vector<float>{0, 200, 255, 255}));
  // 2-bit gray scales by 0x55.
  Tensor g2 = read_image(file("g2.png", png_file(4, 1, 2, 0, {bytes({0b00011011})})), ColorMode::Gray);
  EXPECT_EQ(values_of(g2), (std::vector<float>{0, 85, 170, 255}));
  // 16-bit RGBA keeps the high bytes and drops alpha.
  Tensor rgba = read_image(file("rgba16.png", png_file(1, 1, 16, 6, {bytes({0x12, 0xff, 0x80, 0x80, 0, 0xff, 0, 0})})),
                           ColorMode::RGB);
  EXPECT_EQ(values_of(rgba), (std::vector<float>{0x12, 0x80, 0}));
  // Gray + alpha: the gray, replicated for RGB.
  Tensor la = read_image(file("la.png", png_file(1, 1, 8, 4, {bytes({77, 0})})), ColorMode::RGB);
  EXPECT_EQ(values_of(la), (std::vector<float>{77, 77, 77}));
}

TEST_F(Image, PngPaletteWithShortPlte) {
  std::string plte = png_chunk("PLTE", bytes({10, 20, 30, 200, 100, 50}));
  std::string path = file("p.png", png_file(3, 1, 8, 3, {bytes({0, 1, 7})}, plte));
  EXPECT_EQ(values_of(read_image(path, ColorMode::RGB)), (std::vector<float>{10, 200, 7, 20, 100, 7, 30, 50, 7}));
  // P -> L applies the luma to the palette colour: (10, 20, 30) -> 18, (200, 100, 50) -> 124.
  EXPECT_EQ(values_of(read_image(path, ColorMode::Gray)), (std::vector<float>{18, 124, 7}));
}

TEST_F(Image, JpegMatchesPillow) {
  std::string path = file("color.jpg", kColorJpeg, sizeof(kColorJpeg));
  Tensor rgb = read_image(path, ColorMode::RGB);
  EXPECT_EQ(rgb.shape(), (Shape{3, 3, 4}));
  EXPECT_EQ(values_of(rgb), kColorJpegRgb);
  EXPECT_EQ(values_of(read_image(path, ColorMode::Gray)), kColorJpegGray);
  std::string cmyk = file("cmyk.jpg", kCmykJpeg, sizeof(kCmykJpeg));
  EXPECT_EQ(values_of(read_image(cmyk, ColorMode::RGB)), kCmykJpegRgb);
  EXPECT_EQ(values_of(read_image(cmyk, ColorMode::Gray)), kCmykJpegGray);
}

TEST_F(Image, FormatComesFromContentNotExtension) {
  EXPECT_EQ(values_of(read_image(file("really_a_jpeg.png", kColorJpeg, sizeof(kColorJpeg)), ColorMode::RGB)),
            kColorJpegRgb);
  std::string bmp = bmp_file(1, 1, 24, {bgr(9, 8, 7)});
  EXPECT_EQ(values_of(read_image(file("really_a_bmp.jpg", bmp), ColorMode::RGB)), (std::vector<float>{9, 8, 7}));
}

// ---- Refusals ----------------------------------------------------------------------

TEST_F(Image, TruncatedJpegIsRefused) {
  std::string whole(reinterpret_cast<const char*>(kColorJpeg), sizeof(kColorJpeg));
  for (size_t cut : {size_t{2}, size_t{20}, whole.size() / 2}) {
    expect_refused(file("cut.jpg", whole.substr(0, whole.size() - cut)), "Premature end of JPEG file");
  }
  expect_refused(file("header_only.jpg", whole.substr(0, 100)), "corrupt JPEG");
}

TEST_F(Image, UnknownAndEmptyFilesAreRefused) {
  expect_refused(file("empty.png", ""), "not a PNG, JPEG or BMP");
  expect_refused(file("text.jpg", "hello"), "not a PNG, JPEG or BMP");
  expect_refused(file("a.gif", "GIF89a\x01\x00\x01\x00"), "GIF images are not supported");
  expect_refused((dir_ / "missing.png").string(), "missing.png");
}

TEST_F(Image, BrokenPngsAreRefused) {
  std::string good = png_file(2, 2, 8, 0, {bytes({1, 2}), bytes({3, 4})});
  expect_refused(file("trunc.png", good.substr(0, good.size() - 20)), "corrupt PNG");
  std::string bad_crc = good;
  bad_crc[29] ^= 1;  // inside IHDR's CRC
  expect_refused(file("crc.png", bad_crc), "corrupt PNG");
  std::string zero = png_file(0, 1, 8, 0, {});
  expect_refused(file("zero.png", zero), "corrupt PNG");
}

TEST_F(Image, BmpsWeDoNotReadAreRefusedWithTheReason) {
  std::string palette;
  for (int i = 0; i < 256; ++i) palette += bgrx(static_cast<uint8_t>(i), 0, 0);
  expect_refused(file("rle.bmp", bmp_file(2, 1, 8, {bytes({0, 1})}, palette, false, 1)), "RLE-compressed BMP");
  expect_refused(file("16.bmp", bmp_file(2, 1, 16, {bytes({0, 1, 2, 3})})), "16-bit BMP is not supported");
  std::string whole = bmp_file(4, 4, 24, std::vector<std::string>(4, std::string(12, '\x7f')));
  expect_refused(file("cut.bmp", whole.substr(0, whole.size() - 20)), "truncated BMP pixel data");
  expect_refused(file("short.bmp", whole.substr(0, 20)), "truncated BMP header");
  expect_refused(file("zero.bmp", bmp_file(0, 4, 24, {})), "image has no pixels");
  std::string gray_ramp;
  for (int i = 0; i < 16; ++i)
    gray_ramp += bgrx(static_cast<uint8_t>(i), static_cast<uint8_t>(i), static_cast<uint8_t>(i));
  expect_refused(file("ramp.bmp", bmp_file(2, 1, 4, {bytes({0x12})}, gray_ramp)), "Pillow 9.4 misreads");
}

TEST_F(Image, HugeDimensionsFailBeforeAllocating) {
  // Headers that claim huge sizes, and almost no data.
  std::string bmp = bmp_file(1, 1, 24, {bgr(1, 2, 3)});
  for (int i = 0; i < 4; ++i) bmp[18 + i] = static_cast<char>(i == 3 ? 0x7f : 0xff);
  expect_refused(file("wide.bmp", bmp), "truncated BMP pixel data");
  expect_refused(file("wide.png", png_file(0x7fffffff, 0x7fffffff, 8, 0, {})), "overflows");
  expect_refused(file("big.png", png_file(100000, 100000, 8, 0, {})), "over the limit");
  // A real, small image over a lowered limit.
  size_t old = max_tensor_bytes();
  set_max_tensor_bytes(3 * 3 * 4 * 4 - 1);  // (3, 3, 4) floats do not fit
  std::string path = file("c.jpg", kColorJpeg, sizeof(kColorJpeg));
  expect_refused(path, "over the limit", ColorMode::RGB);
  EXPECT_NO_THROW(read_image(path, ColorMode::Gray));  // 1 x 3 x 4 floats fit
  set_max_tensor_bytes(old);
}

// ---- Pictures ----------------------------------------------------------------------

TEST_F(Image, PictureScalesEachChannelAndLeavesWhiteGaps) {
  // Two 2x3 channels: 0..5 and a constant.
  Tensor t = Tensor::empty({2, 2, 3});
  for (int i = 0; i < 6; ++i) t.f32()[i] = static_cast<float>(i) * 2 - 3;
  for (int i = 6; i < 12; ++i) t.f32()[i] = 4.0f;
  std::string path = (dir_ / "pic.png").string();
  write_png_picture(path, t);
  Tensor back = read_image(path, ColorMode::Gray);
  ASSERT_EQ(back.shape(), (Shape{1, 2, 3 + 2 + 3}));
  const std::vector<float> expected{0,   51,  102, 255, 255, 0, 0, 0,  // row 0: 0, 0.2, 0.4 of 255; gap; constant
                                    153, 204, 255, 255, 255, 0, 0, 0};
  EXPECT_EQ(values_of(back), expected);
}

TEST_F(Image, PictureShapesAndSpecialValues) {
  std::string path = (dir_ / "pic.png").string();
  Tensor batch = Tensor::zeros({2, 3, 4, 5});
  write_png_picture(path, batch);
  EXPECT_EQ(read_image(path, ColorMode::Gray).shape(), (Shape{1, 4, 3 * 5 + 2 * 2}));
  write_png_picture(path, Tensor::zeros({4, 5}));
  EXPECT_EQ(read_image(path, ColorMode::Gray).shape(), (Shape{1, 4, 5}));
  Tensor line = Tensor::empty({5});
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const float inf = std::numeric_limits<float>::infinity();
  float values[] = {nan, -inf, 1.0f, 3.0f, inf};
  std::copy(values, values + 5, line.f32());
  write_png_picture(path, line);
  EXPECT_EQ(values_of(read_image(path, ColorMode::Gray)), (std::vector<float>{0, 0, 0, 255, 255}));
  Tensor ints = Tensor::empty({1, 3}, DType::Int64);
  ints.i64()[0] = -10;
  ints.i64()[1] = 0;
  ints.i64()[2] = 10;
  write_png_picture(path, ints);
  EXPECT_EQ(values_of(read_image(path, ColorMode::Gray)), (std::vector<float>{0, 128, 255}));
}

TEST_F(Image, PictureRefusesWhatItCannotDraw) {
  std::string path = (dir_ / "pic.png").string();
  EXPECT_THROW(write_png_picture(path, Tensor()), Error);
  EXPECT_THROW(write_png_picture(path, Tensor::zeros({})), Error);
  EXPECT_THROW(write_png_picture(path, Tensor::zeros({1, 1, 1, 1, 1})), Error);
  EXPECT_THROW(write_png_picture(path, Tensor::zeros({0, 3, 3})), Error);
  EXPECT_FALSE(fs::exists(path));
  std::string nowhere = (dir_ / "no" / "dir" / "pic.png").string();
  try {
    write_png_picture(nowhere, Tensor::zeros({2, 2}));
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(nowhere), std::string::npos) << e.what();
  }
}

// Random damage to valid files of every format: each read must give a
// tensor or an Error, never a crash or another exception (run under
// ASan+UBSan too, where an out-of-bounds read fails the test).
TEST_F(Image, DamagedFilesNeverCrash) {
  std::string palette;
  for (int i = 0; i < 4; ++i) palette += bgrx(static_cast<uint8_t>(60 * i), 0, static_cast<uint8_t>(255 - 60 * i));
  std::vector<std::string> seeds{
      std::string(reinterpret_cast<const char*>(kColorJpeg), sizeof(kColorJpeg)),
      std::string(reinterpret_cast<const char*>(kCmykJpeg), sizeof(kCmykJpeg)),
      png_file(3, 2, 8, 2, {std::string(9, '\x10'), std::string(9, '\x90')}),
      png_file(5, 1, 4, 3, {bytes({0x01, 0x23, 0x40})}, png_chunk("PLTE", bytes({1, 2, 3, 4, 5, 6}))),
      png_file(2, 2, 16, 4, {std::string(8, '\x7f'), std::string(8, '\x01')}),
      bmp_file(3, 2, 8, {bytes({0, 1, 2}), bytes({3, 2, 1})}, palette),
      bmp_file(9, 2, 1, {bytes({0xa5, 0x80}), bytes({0x5a, 0x00})}, palette.substr(0, 8), true),
      bmp_file(2, 2, 32, {bgrx(1, 2, 3) + bgrx(4, 5, 6), bgrx(7, 8, 9) + bgrx(10, 11, 12)}),
  };
  std::mt19937 random(2024);
  auto below = [&](size_t n) { return n ? static_cast<size_t>(random() % n) : 0; };
  const std::string path = (dir_ / "damaged").string();
  int decoded = 0;
  for (int iteration = 0; iteration < 3000; ++iteration) {
    std::string bytes = seeds[iteration % seeds.size()];
    for (size_t edits = 1 + below(3); edits > 0; --edits) {
      switch (below(4)) {
        case 0:
          bytes[below(bytes.size())] = static_cast<char>(random());
          break;
        case 1:
          bytes.resize(std::max<size_t>(1, below(bytes.size() + 1)));
          break;
        case 2:
          bytes.insert(below(bytes.size() + 1), std::string(1 + below(16), static_cast<char>(random())));
          break;
        default:  // the headers, where sizes and offsets live
          bytes[below(std::min<size_t>(bytes.size(), 64))] = static_cast<char>(random());
      }
    }
    fs::remove(path);  // a new file each time: rewriting one in place makes ext4 flush on close
    std::ofstream(path, std::ios::binary) << bytes;
    for (ColorMode mode : {ColorMode::Gray, ColorMode::RGB}) {
      try {
        Tensor t = read_image(path, mode);
        ++decoded;
        EXPECT_EQ(t.rank(), 3u);
      } catch (const Error&) {
      }
    }
  }
  EXPECT_GT(decoded, 0);
}

}  // namespace
}  // namespace mininn
