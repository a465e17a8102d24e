// BMP through stb_image, behind a front end that reads the headers the way
// Pillow 9.4's BmpImagePlugin does and hands stb a canonical file.
//
// stb alone would differ from Pillow on legal files: it leaves palette
// entries past the file's palette uninitialised (Pillow: gray (i, i, i)),
// takes the palette size from the pixel offset rather than the colour count,
// drops the last four entries of OS/2 palettes, refuses a gap before the
// pixels of 24/32-bit files and 24-bit or all-zero bit fields, and
// zero-fills truncated pixel data. So the front end validates everything,
// then writes a 40-byte-header BMP with a full 256-entry palette (or the bit
// fields stb needs) and exactly the pixel rows Pillow reads; stb unpacks them.
//
// Refused, with a reason: RLE compression (Pillow decodes it, stb cannot),
// 16-bit pixels (stb and Pillow round 5/6-bit channels differently), bit
// field layouts Pillow refuses, and 1/4/8-bit files whose palette is a plain
// gray ramp of the wrong length for their depth (Pillow 9.4 reads those with
// the wrong bit depth).
#include "framework/image_codecs.h"

#include "framework/error.h"

#include <algorithm>
#include <cstring>
#include <memory>

#define STB_IMAGE_IMPLEMENTATION
#define STBI_ONLY_BMP
#define STBI_NO_STDIO
#define STBI_NO_LINEAR
#define STBI_NO_HDR
#if defined(__GNUC__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-function"
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
#pragma GCC diagnostic ignored "-Wsign-compare"
#endif
#include <stb_image.h>
#if defined(__GNUC__)
#pragma GCC diagnostic pop
#endif

namespace mininn::image_detail {
namespace {

uint32_t u16_at(std::span<const uint8_t> file, size_t offset) { return file[offset] | (file[offset + 1] << 8); }
uint32_t u32_at(std::span<const uint8_t> file, size_t offset) {
  return file[offset] | (file[offset + 1] << 8) | (file[offset + 2] << 16) |
         (static_cast<uint32_t>(file[offset + 3]) << 24);
}
void put_u16(std::vector<uint8_t>& out, uint32_t value) {
  out.push_back(static_cast<uint8_t>(value));
  out.push_back(static_cast<uint8_t>(value >> 8));
}
void put_u32(std::vector<uint8_t>& out, uint32_t value) {
  put_u16(out, value & 0xffff);
  put_u16(out, value >> 16);
}

// What Pillow reads from a BMP, in its terms.
struct BmpLayout {
  int64_t width = 0;
  int64_t height = 0;
  bool top_down = false;
  int bits = 0;
  uint32_t masks[3] = {};  // R, G, B bit fields, when stb needs them
  bool bit_fields = false;
  uint8_t palette[256][3] = {};  // Pillow's palette (bits <= 8)
  size_t pixel_offset = 0;
  size_t row_bytes = 0;
};

BmpLayout read_layout(std::span<const uint8_t> file) {
  constexpr size_t kFileHeader = 14;
  check(file.size() >= kFileHeader + 4, "truncated BMP header");
  BmpLayout layout;
  size_t offset = u32_at(file, 10);
  const uint32_t header_size = u32_at(file, 14);
  check(header_size == 12 || header_size == 40 || header_size == 64 || header_size == 108 || header_size == 124,
        "unsupported BMP header size {} (Pillow reads 12, 40, 64, 108 and 124)", header_size);
  check(file.size() >= kFileHeader + header_size, "truncated BMP header");

  uint32_t compression = 0;
  uint32_t colors = 0;
  size_t palette_entry = 4;
  if (header_size == 12) {  // OS/2 1.x: 16-bit sizes, 3-byte palette entries
    layout.width = u16_at(file, 18);
    layout.height = u16_at(file, 20);
    layout.bits = static_cast<int>(u16_at(file, 24));
    palette_entry = 3;
  } else {
    layout.width = u32_at(file, 18);
    // Pillow's test for a top-down file: the height's top byte is 0xFF.
    uint32_t raw_height = u32_at(file, 22);
    layout.top_down = file[25] == 0xFF;
    layout.height = layout.top_down ? (uint64_t{1} << 32) - raw_height : raw_height;
    layout.bits = static_cast<int>(u16_at(file, 28));
    compression = u32_at(file, 30);
    colors = u32_at(file, 46);
  }
  check(layout.width > 0 && layout.height > 0, "image has no pixels ({} x {})", layout.width, layout.height);
  check(layout.width <= INT32_MAX && layout.height <= INT32_MAX, "BMP of {} x {} pixels is too large", layout.width,
        layout.height);
  const int bits = layout.bits;
  check(bits == 1 || bits == 4 || bits == 8 || bits == 16 || bits == 24 || bits == 32,
        "unsupported BMP pixel depth ({} bits)", bits);
  check(bits != 16, "16-bit BMP is not supported (stb_image and Pillow round 5/6-bit channels differently)");
  check(compression != 1 && compression != 2, "RLE-compressed BMP is not supported");
  check(compression == 0 || compression == 3, "unsupported BMP compression ({})", compression);

  if (compression == 3) {
    check(bits == 24 || bits == 32, "unsupported BMP bitfields layout (bit fields on a {}-bit image)", bits);
    check(file.size() >= 54 + 12, "truncated BMP header");
    const uint32_t r = u32_at(file, 54), g = u32_at(file, 58), b = u32_at(file, 62);
    const uint32_t a = header_size >= 56 ? u32_at(file, 66) : 0;
    auto is = [&](uint32_t r2, uint32_t g2, uint32_t b2) { return r == r2 && g == g2 && b == b2; };
    // Pillow's SUPPORTED list; BGR(X/A) and the all-zero masks read like uncompressed data.
    const bool plain = is(0xFF0000, 0xFF00, 0xFF) && (bits == 24 || a == 0 || a == 0xFF000000);
    const bool zero = bits == 32 && is(0, 0, 0) && a == 0;
    const bool xbgr = bits == 32 && is(0xFF000000, 0xFF0000, 0xFF00) && (a == 0 || a == 0xFF);
    const bool rgba = bits == 32 && is(0xFF, 0xFF00, 0xFF0000) && a == 0xFF000000;
    check(plain || zero || xbgr || rgba, "unsupported BMP bitfields layout ({:#x}, {:#x}, {:#x}, {:#x})", r, g, b, a);
    if (xbgr || rgba) {
      layout.bit_fields = true;
      layout.masks[0] = r;
      layout.masks[1] = g;
      layout.masks[2] = b;
    }
  }

  if (bits <= 8) {
    if (colors == 0) colors = 1u << bits;
    check(colors <= 256, "BMP palette of {} colours is not supported", colors);
    // Pillow reads the palette right after the header, and repairs an
    // offset that forgot it.
    const size_t palette_start = kFileHeader + header_size;
    check(file.size() >= palette_start + colors * palette_entry, "truncated BMP palette");
    if (offset == palette_start) offset += 4 * colors;
    bool gray_ramp = true;
    for (uint32_t i = 0; i < 256; ++i) {
      uint8_t* entry = layout.palette[i];
      if (i < colors) {
        const uint8_t* bgr = file.data() + palette_start + i * palette_entry;
        entry[0] = bgr[2];
        entry[1] = bgr[1];
        entry[2] = bgr[0];
        const uint8_t ramp = colors == 2 ? static_cast<uint8_t>(i * 255) : static_cast<uint8_t>(i);
        gray_ramp = gray_ramp && entry[0] == ramp && entry[1] == ramp && entry[2] == ramp;
      } else {
        entry[0] = entry[1] = entry[2] = static_cast<uint8_t>(i);
      }
    }
    // Pillow turns a gray-ramp palette into mode "1" (2 colours) or "L" and
    // then unpacks 1 or 8 bits per pixel, whatever the file's depth.
    const int pillow_bits = colors == 2 ? 1 : 8;
    check(!gray_ramp || pillow_bits == bits,
          "{}-bit BMP with a {}-entry gray palette is not supported (Pillow 9.4 misreads it as {}-bit)", bits, colors,
          pillow_bits);
  }

  layout.pixel_offset = offset;
  layout.row_bytes = ((static_cast<size_t>(layout.width) * bits + 31) >> 3) & ~size_t{3};
  // Like Pillow, do without the padding of the last row, not without pixels.
  const size_t last_row = (static_cast<size_t>(layout.width) * bits + 7) >> 3;
  const size_t available = offset <= file.size() ? file.size() - offset : 0;
  check(available >= last_row && (available - last_row) / layout.row_bytes >= static_cast<size_t>(layout.height - 1),
        "truncated BMP pixel data ({} rows of {} bytes from offset {}, the file has {} bytes)", layout.height,
        layout.row_bytes, offset, file.size());
  return layout;
}

// The same pixels as a BMP stb reads the way Pillow reads the original.
std::vector<uint8_t> canonical_bmp(std::span<const uint8_t> file, const BmpLayout& layout) {
  const size_t pixel_bytes = layout.row_bytes * static_cast<size_t>(layout.height);
  const size_t header = 14 + 40 + (layout.bit_fields ? 12 : 0) + (layout.bits <= 8 ? 256 * 4 : 0);
  check(header + pixel_bytes <= INT32_MAX, "BMP of {} bytes is too large", header + pixel_bytes);
  std::vector<uint8_t> out;
  out.reserve(header + pixel_bytes);
  out.push_back('B');
  out.push_back('M');
  put_u32(out, static_cast<uint32_t>(header + pixel_bytes));
  put_u32(out, 0);
  put_u32(out, static_cast<uint32_t>(header));
  put_u32(out, 40);
  put_u32(out, static_cast<uint32_t>(layout.width));
  put_u32(out, static_cast<uint32_t>(layout.top_down ? -layout.height : layout.height));
  put_u16(out, 1);
  put_u16(out, static_cast<uint32_t>(layout.bits));
  put_u32(out, layout.bit_fields ? 3 : 0);
  for (int i = 0; i < 5; ++i) put_u32(out, 0);  // image size, resolution, colours used and important
  if (layout.bit_fields) {
    for (uint32_t mask : layout.masks) put_u32(out, mask);
  }
  if (layout.bits <= 8) {
    for (const uint8_t* rgb : layout.palette) {
      out.push_back(rgb[2]);
      out.push_back(rgb[1]);
      out.push_back(rgb[0]);
      out.push_back(0);
    }
  }
  const uint8_t* pixels = file.data() + layout.pixel_offset;
  const size_t present = std::min(pixel_bytes, file.size() - layout.pixel_offset);
  out.insert(out.end(), pixels, pixels + present);
  out.resize(header + pixel_bytes, 0);  // the last row's padding, if the file lacks it
  return out;
}

}  // namespace

Pixels decode_bmp(std::span<const uint8_t> file, int out_channels) {
  const auto layout = std::make_unique<BmpLayout>(read_layout(file));
  check_image_size(layout->width, layout->height, out_channels);
  const std::vector<uint8_t> canonical = canonical_bmp(file, *layout);
  int width = 0;
  int height = 0;
  int components = 0;
  std::unique_ptr<stbi_uc, void (*)(void*)> decoded(
      stbi_load_from_memory(canonical.data(), static_cast<int>(canonical.size()), &width, &height, &components, 3),
      stbi_image_free);
  check(decoded != nullptr, "corrupt BMP: {}", stbi_failure_reason());
  check(width == layout->width && height == layout->height,
        "internal error: stb_image decoded {} x {}, expected {} x {}", width, height, layout->width, layout->height);
  Pixels pixels;
  pixels.width = width;
  pixels.height = height;
  pixels.channels = 3;
  pixels.samples.assign(decoded.get(), decoded.get() + static_cast<size_t>(width) * height * 3);
  return pixels;
}

}  // namespace mininn::image_detail
