// PNG through libpng, mapped the way Pillow 9.4's own PNG decoder maps each
// colour type and bit depth (PngImagePlugin._MODES and its unpackers):
//   gray 1-bit  -> "1": 0 / 255        gray 2/4-bit -> "L": v * 0x55 / v * 0x11
//   gray 8-bit  -> "L"                 gray 16-bit  -> "I": clipped to 0..255 by
//                                                      convert("L"/"RGB")
//   gray+alpha  -> "LA" (16-bit: "RGBA" from the high bytes); alpha dropped
//   RGB, RGBA   -> high byte of 16-bit samples; alpha dropped
//   palette     -> Pillow's 256-entry palette: PLTE entries, then the gray
//                  ramp (i, i, i) that Pillow starts every palette with
// Gamma, colour profiles and tRNS do not change Pillow's pixels, so they
// are ignored here too.
#include "framework/image_codecs.h"

#include "framework/error.h"
#include "framework/tensor.h"

#include <algorithm>
#include <cstring>
#include <memory>

#include <png.h>

namespace mininn::image_detail {
namespace {

struct Session {
  png_structp png = nullptr;
  png_infop info = nullptr;
  // Reading
  const uint8_t* data = nullptr;
  size_t size = 0;
  size_t position = 0;
  // Writing
  std::string output;
  char message[256] = {};

  Session() = default;
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;
};

void on_error(png_structp png, png_const_charp message) {
  auto* session = static_cast<Session*>(png_get_error_ptr(png));
  std::snprintf(session->message, sizeof(session->message), "%s", message);
  png_longjmp(png, 1);
}

void on_warning(png_structp, png_const_charp) {}  // Pillow does not look at what libpng warns about

void read_bytes(png_structp png, png_bytep out, png_size_t count) {
  auto* session = static_cast<Session*>(png_get_io_ptr(png));
  if (count > session->size - session->position) png_error(png, "the file ends early (truncated)");
  std::memcpy(out, session->data + session->position, count);
  session->position += count;
}

void write_bytes(png_structp png, png_bytep data, png_size_t count) {
  auto* session = static_cast<Session*>(png_get_io_ptr(png));
  try {
    session->output.append(reinterpret_cast<const char*>(data), count);
  } catch (...) {  // an exception must not cross libpng's C frames
    png_error(png, "out of memory");
  }
}

void flush_bytes(png_structp) {}

// The functions that call libpng: an error longjmps back to their setjmp,
// skipping only libpng's C frames, and they report it by returning false.

bool read_header(Session& s) {
  if (setjmp(png_jmpbuf(s.png))) return false;
  png_set_read_fn(s.png, &s, read_bytes);
  // libpng refuses images over a million pixels wide by default; our limit
  // is max_tensor_bytes(), checked once the size is known.
  png_set_user_limits(s.png, PNG_UINT_31_MAX, PNG_UINT_31_MAX);
  png_read_info(s.png, s.info);
  return true;
}

bool read_rows(Session& s, png_bytepp rows, bool unpack, size_t expected_row_bytes) {
  if (setjmp(png_jmpbuf(s.png))) return false;
  if (unpack) png_set_packing(s.png);  // 1, 2 and 4-bit samples to one byte each, unscaled
  png_set_interlace_handling(s.png);   // Adam7 passes merged into full rows
  png_read_update_info(s.png, s.info);
  if (png_get_rowbytes(s.png, s.info) != expected_row_bytes) png_error(s.png, "unexpected row size");
  png_read_image(s.png, rows);
  // No png_read_end: the pixels are complete here, and Pillow does not
  // insist on the chunks after the image data either.
  return true;
}

bool write_image(Session& s, png_bytepp rows, uint32_t width, uint32_t height) {
  if (setjmp(png_jmpbuf(s.png))) return false;
  png_set_write_fn(s.png, &s, write_bytes, flush_bytes);
  png_set_IHDR(s.png, s.info, width, height, 8, PNG_COLOR_TYPE_GRAY, PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT,
               PNG_FILTER_TYPE_DEFAULT);
  png_write_info(s.png, s.info);
  png_write_image(s.png, rows);
  png_write_end(s.png, s.info);
  return true;
}

// Pillow's view of a palette: PLTE entries over its default gray ramp.
void pillow_palette(const Session& s, uint8_t palette[256][3]) {
  for (int i = 0; i < 256; ++i) palette[i][0] = palette[i][1] = palette[i][2] = static_cast<uint8_t>(i);
  png_colorp entries = nullptr;
  int count = 0;
  if (png_get_PLTE(s.png, s.info, &entries, &count) & PNG_INFO_PLTE) {
    for (int i = 0; i < std::min(count, 256); ++i) {
      palette[i][0] = entries[i].red;
      palette[i][1] = entries[i].green;
      palette[i][2] = entries[i].blue;
    }
  }
}

}  // namespace

Pixels decode_png(std::span<const uint8_t> file, int out_channels) {
  auto session = std::make_unique<Session>();
  Session& s = *session;
  s.data = file.data();
  s.size = file.size();
  s.png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &s, on_error, on_warning);
  check(s.png != nullptr, "cannot create a PNG reader");
  s.info = png_create_info_struct(s.png);
  std::unique_ptr<Session, void (*)(Session*)> guard(
      &s, [](Session* p) { png_destroy_read_struct(&p->png, p->info ? &p->info : nullptr, nullptr); });
  check(s.info != nullptr, "cannot create a PNG reader");
  if (!read_header(s)) fail("corrupt PNG: {}", s.message);

  const uint32_t width = png_get_image_width(s.png, s.info);
  const uint32_t height = png_get_image_height(s.png, s.info);
  const int depth = png_get_bit_depth(s.png, s.info);
  const int color_type = png_get_color_type(s.png, s.info);
  check(width > 0 && height > 0, "image has no pixels ({} x {})", width, height);
  check_image_size(width, height, out_channels);

  int samples_per_pixel = 0;
  switch (color_type) {
    case PNG_COLOR_TYPE_GRAY:
    case PNG_COLOR_TYPE_PALETTE:
      samples_per_pixel = 1;
      break;
    case PNG_COLOR_TYPE_GRAY_ALPHA:
      samples_per_pixel = 2;
      break;
    case PNG_COLOR_TYPE_RGB:
      samples_per_pixel = 3;
      break;
    case PNG_COLOR_TYPE_RGB_ALPHA:
      samples_per_pixel = 4;
      break;
    default:
      fail("unknown PNG colour type {}", color_type);
  }
  const size_t bytes_per_sample = depth == 16 ? 2 : 1;
  const size_t row_bytes = static_cast<size_t>(width) * samples_per_pixel * bytes_per_sample;
  // The raw rows can outgrow the tensor (16-bit RGBA read as gray): check them too.
  check(row_bytes <= max_tensor_bytes() / height, "decoded PNG rows of {} x {} bytes exceed the limit of {} bytes",
        height, row_bytes, max_tensor_bytes());
  std::vector<uint8_t> raw(row_bytes * height);
  std::vector<png_bytep> rows(height);
  for (uint32_t y = 0; y < height; ++y) rows[y] = raw.data() + y * row_bytes;
  if (!read_rows(s, rows.data(), depth < 8, row_bytes)) fail("corrupt PNG: {}", s.message);

  Pixels pixels;
  pixels.width = width;
  pixels.height = height;
  const bool gray = color_type == PNG_COLOR_TYPE_GRAY || color_type == PNG_COLOR_TYPE_GRAY_ALPHA;
  pixels.channels = gray ? 1 : 3;
  const size_t count = static_cast<size_t>(width) * height;
  pixels.samples.resize(count * pixels.channels);
  uint8_t* out = pixels.samples.data();
  const uint8_t* in = raw.data();
  const size_t stride = samples_per_pixel * bytes_per_sample;  // bytes per pixel in `raw`

  if (color_type == PNG_COLOR_TYPE_PALETTE) {
    uint8_t palette[256][3];
    pillow_palette(s, palette);
    for (size_t i = 0; i < count; ++i) std::memcpy(out + 3 * i, palette[in[i]], 3);
  } else if (color_type == PNG_COLOR_TYPE_GRAY && depth == 16) {
    for (size_t i = 0; i < count; ++i) {  // mode "I", clipped
      unsigned value = (in[2 * i] << 8) | in[2 * i + 1];
      out[i] = static_cast<uint8_t>(std::min(value, 255u));
    }
  } else if (color_type == PNG_COLOR_TYPE_GRAY && depth < 8) {
    const unsigned scale = depth == 1 ? 255 : depth == 2 ? 0x55 : 0x11;
    for (size_t i = 0; i < count; ++i) out[i] = static_cast<uint8_t>(in[i] * scale);
  } else {
    // 8 or 16 bits per sample: the first (high) byte of the gray or R, G, B
    // samples; alpha is dropped.
    for (size_t i = 0; i < count; ++i) {
      for (int c = 0; c < pixels.channels; ++c) out[i * pixels.channels + c] = in[i * stride + c * bytes_per_sample];
    }
  }
  return pixels;
}

std::string encode_gray_png(const uint8_t* pixels, int64_t width, int64_t height) {
  check(width > 0 && height > 0 && width <= PNG_USER_WIDTH_MAX && height <= PNG_USER_HEIGHT_MAX,
        "a picture of {} x {} pixels is too large for a PNG", width, height);
  auto session = std::make_unique<Session>();
  Session& s = *session;
  s.png = png_create_write_struct(PNG_LIBPNG_VER_STRING, &s, on_error, on_warning);
  check(s.png != nullptr, "cannot create a PNG writer");
  s.info = png_create_info_struct(s.png);
  std::unique_ptr<Session, void (*)(Session*)> guard(
      &s, [](Session* p) { png_destroy_write_struct(&p->png, p->info ? &p->info : nullptr); });
  check(s.info != nullptr, "cannot create a PNG writer");
  std::vector<png_bytep> rows(static_cast<size_t>(height));
  for (int64_t y = 0; y < height; ++y) rows[y] = const_cast<png_bytep>(pixels + y * width);
  if (!write_image(s, rows.data(), static_cast<uint32_t>(width), static_cast<uint32_t>(height))) {
    fail("cannot encode PNG: {}", s.message);
  }
  return std::move(s.output);
}

}  // namespace mininn::image_detail
