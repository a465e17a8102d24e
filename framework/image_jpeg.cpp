// JPEG through libjpeg-turbo, configured as Pillow 9.4 configures it: the
// library defaults (JDCT_ISLOW, fancy upsampling, block smoothing), colour
// space guessed by libjpeg, output RGB / grayscale / CMYK by component count.
#include "framework/image_codecs.h"

#include "framework/error.h"
#include "framework/tensor.h"

#include <algorithm>
#include <climits>
#include <csetjmp>
#include <cstdio>  // before jpeglib.h, which needs FILE
#include <memory>

#include <jpeglib.h>
#include <jerror.h>

namespace mininn::image_detail {
namespace {

// A progressive file may declare thousands of tiny scans, each costing a pass
// over the image; real encoders use about ten.
constexpr int kMaxScans = 1000;

struct ErrorManager {
  jpeg_error_mgr pub;
  std::jmp_buf jump;
  char message[JMSG_LENGTH_MAX];
};

[[noreturn]] void on_error(j_common_ptr info) {
  auto* error = reinterpret_cast<ErrorManager*>(info->err);
  (*info->err->format_message)(info, error->message);
  std::longjmp(error->jump, 1);
}

// Pillow ignores libjpeg's warnings ("corrupt data: extraneous bytes" and the
// like) and gets pixels anyway; so do we. The exception is running out of
// data: libjpeg would pad the image with gray, Pillow reports the file as
// truncated, and we refuse it.
void on_message(j_common_ptr info, int level) {
  if (level == -1 && info->err->msg_code == JWRN_JPEG_EOF) on_error(info);
}

void on_progress(j_common_ptr info) {
  auto* decompress = reinterpret_cast<j_decompress_ptr>(info);
  if (decompress->input_scan_number > kMaxScans) {
    auto* error = reinterpret_cast<ErrorManager*>(info->err);
    std::snprintf(error->message, sizeof(error->message), "more than %d scans (a hostile progressive file?)",
                  kMaxScans);
    std::longjmp(error->jump, 1);
  }
}

struct Decoder {
  jpeg_decompress_struct info{};
  ErrorManager error{};
  jpeg_progress_mgr progress{};
  bool created = false;

  Decoder() = default;
  Decoder(const Decoder&) = delete;
  Decoder& operator=(const Decoder&) = delete;
  ~Decoder() {
    if (created) jpeg_destroy_decompress(&info);
  }
};

// The functions that call libjpeg: an error longjmps back to their setjmp,
// skipping only libjpeg's C frames, and they report it by returning false.
// Nothing with a destructor lives in them.

bool read_header(Decoder& decoder, const uint8_t* data, size_t size) {
  decoder.info.err = jpeg_std_error(&decoder.error.pub);
  decoder.error.pub.error_exit = on_error;
  decoder.error.pub.emit_message = on_message;
  if (setjmp(decoder.error.jump)) return false;
  jpeg_create_decompress(&decoder.info);
  decoder.created = true;
  decoder.progress.progress_monitor = on_progress;
  decoder.info.progress = &decoder.progress;
  decoder.info.mem->max_memory_to_use = static_cast<long>(std::min<size_t>(max_tensor_bytes(), LONG_MAX));
  jpeg_mem_src(&decoder.info, data, static_cast<unsigned long>(size));
  jpeg_read_header(&decoder.info, TRUE);
  return true;
}

bool read_pixels(Decoder& decoder, J_COLOR_SPACE space, uint8_t* out, size_t row_bytes) {
  if (setjmp(decoder.error.jump)) return false;
  decoder.info.out_color_space = space;
  jpeg_start_decompress(&decoder.info);
  while (decoder.info.output_scanline < decoder.info.output_height) {
    JSAMPROW row = out + static_cast<size_t>(decoder.info.output_scanline) * row_bytes;
    jpeg_read_scanlines(&decoder.info, &row, 1);
  }
  jpeg_finish_decompress(&decoder.info);
  return true;
}

// Pillow's CMYK->RGB on what its "CMYK;I" unpacker holds (every byte
// inverted, the Adobe convention it always assumes):
// channel = clip(nk - nk * c / 255), nk = 255 - k, with Pillow's rounded
// division by 255.
uint8_t cmyk_to_rgb_channel(uint8_t raw_c, uint8_t raw_k) {
  int c = 255 - raw_c;
  int nk = raw_k;  // 255 - (255 - raw_k)
  int product = c * nk + 128;
  int scaled = ((product >> 8) + product) >> 8;
  int value = nk - scaled;
  return static_cast<uint8_t>(value < 0 ? 0 : value > 255 ? 255 : value);
}

}  // namespace

Pixels decode_jpeg(std::span<const uint8_t> file, int out_channels) {
  auto decoder = std::make_unique<Decoder>();
  if (!read_header(*decoder, file.data(), file.size())) fail("corrupt JPEG: {}", decoder->error.message);
  const jpeg_decompress_struct& info = decoder->info;
  check(info.data_precision == 8, "{}-bit JPEG samples are not supported (Pillow reads 8-bit only)",
        info.data_precision);
  const int components = info.num_components;
  check(components == 1 || components == 3 || components == 4,
        "JPEG with {} components is not supported (Pillow reads 1, 3 or 4)", components);

  Pixels pixels;
  pixels.width = info.image_width;
  pixels.height = info.image_height;
  check(pixels.width > 0 && pixels.height > 0, "image has no pixels ({} x {})", pixels.width, pixels.height);
  check_image_size(pixels.width, pixels.height, out_channels);
  pixels.channels = components == 1 ? 1 : 3;
  const J_COLOR_SPACE space = components == 1 ? JCS_GRAYSCALE : components == 3 ? JCS_RGB : JCS_CMYK;
  const size_t row_bytes = static_cast<size_t>(pixels.width) * static_cast<size_t>(components);
  pixels.samples.resize(row_bytes * static_cast<size_t>(pixels.height));
  if (!read_pixels(*decoder, space, pixels.samples.data(), row_bytes)) fail("corrupt JPEG: {}", decoder->error.message);

  if (components == 4) {  // CMYK -> RGB in place, 4 bytes to 3
    const size_t count = static_cast<size_t>(pixels.width) * static_cast<size_t>(pixels.height);
    uint8_t* samples = pixels.samples.data();
    for (size_t i = 0; i < count; ++i) {
      const uint8_t* cmyk = samples + 4 * i;
      uint8_t rgb[3] = {cmyk_to_rgb_channel(cmyk[0], cmyk[3]), cmyk_to_rgb_channel(cmyk[1], cmyk[3]),
                        cmyk_to_rgb_channel(cmyk[2], cmyk[3])};
      std::copy(rgb, rgb + 3, samples + 3 * i);
    }
    pixels.samples.resize(3 * count);
  }
  return pixels;
}

}  // namespace mininn::image_detail
