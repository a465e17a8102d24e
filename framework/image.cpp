#include "framework/image.h"

#include "framework/error.h"
#include "framework/file.h"
#include "framework/image_codecs.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <span>
#include <string_view>

namespace mininn {
namespace image_detail {

void check_image_size(int64_t width, int64_t height, int channels) {
  check_tensor_bytes({channels, height, width}, DType::Float32, "image");
}

}  // namespace image_detail

namespace {

using namespace image_detail;

enum class Format { PNG, JPEG, BMP };

bool starts_with(std::string_view bytes, std::string_view magic) { return bytes.substr(0, magic.size()) == magic; }

// bytes[position, position + length), empty where the file is shorter.
std::string_view slice(std::string_view bytes, size_t position, size_t length) {
  return position <= bytes.size() ? bytes.substr(position, length) : std::string_view();
}

Format detect_format(std::string_view bytes) {
  if (starts_with(bytes, "\x89PNG\r\n\x1a\n")) return Format::PNG;
  if (starts_with(bytes, "\xff\xd8\xff")) return Format::JPEG;
  if (starts_with(bytes, "BM")) return Format::BMP;
  // Name the formats people try most, so the message says what the file is.
  const char* other = nullptr;
  if (starts_with(bytes, "GIF8")) other = "GIF";
  if (starts_with(bytes, std::string_view("II*\0", 4)) || starts_with(bytes, std::string_view("MM\0*", 4)))
    other = "TIFF";
  if (starts_with(bytes, "RIFF") && slice(bytes, 8, 4) == "WEBP") other = "WebP";
  if (slice(bytes, 4, 8) == "ftypavif" || slice(bytes, 4, 8) == "ftypheic") other = "AVIF/HEIF";
  if (other) fail("{} images are not supported (PNG, JPEG and BMP are)", other);
  fail("not a PNG, JPEG or BMP image (detected by content, not by extension)");
}

Tensor to_tensor(const Pixels& pixels, ColorMode mode) {
  const int channels = mode == ColorMode::RGB ? 3 : 1;
  const size_t count = static_cast<size_t>(pixels.width) * static_cast<size_t>(pixels.height);
  Tensor tensor = Tensor::empty({channels, pixels.height, pixels.width});
  float* out = tensor.f32();
  const uint8_t* in = pixels.samples.data();
  if (pixels.channels == 1) {
    for (int c = 0; c < channels; ++c) {
      for (size_t i = 0; i < count; ++i) out[c * count + i] = in[i];
    }
  } else if (mode == ColorMode::RGB) {
    for (int c = 0; c < 3; ++c) {
      for (size_t i = 0; i < count; ++i) out[c * count + i] = in[3 * i + c];
    }
  } else {
    for (size_t i = 0; i < count; ++i) out[i] = pillow_luma(in[3 * i], in[3 * i + 1], in[3 * i + 2]);
  }
  return tensor;
}

// The picture's panels: how a tensor of each rank is drawn.
struct Panels {
  int64_t count = 0;
  int64_t height = 0;
  int64_t width = 0;
};

Panels panels_of(const Tensor& tensor) {
  const Shape& shape = tensor.shape();
  switch (shape.size()) {
    case 4:
      check(shape[0] > 0, "cannot draw a batch of 0 images");
      return {shape[1], shape[2], shape[3]};
    case 3:
      return {shape[0], shape[1], shape[2]};
    case 2:
      return {1, shape[0], shape[1]};
    case 1:
      return {1, 1, shape[0]};
    default:
      fail("cannot draw a tensor of shape {} (rank 1 to 4 expected)", to_string(shape));
  }
}

double value_at(const Tensor& tensor, int64_t index) {
  return tensor.dtype() == DType::Float32 ? tensor.f32()[index] : static_cast<double>(tensor.i64()[index]);
}

}  // namespace

Tensor read_image(const std::string& path, ColorMode mode) {
  // An image file is smaller than its pixels as floats, give or take its
  // metadata (EXIF, ICC profiles, XMP: a few MB at most).
  constexpr size_t kMetadataAllowance = size_t{16} << 20;
  const size_t limit = max_tensor_bytes() + std::min(kMetadataAllowance, SIZE_MAX - max_tensor_bytes());
  const std::string bytes = read_file(path, limit);  // its errors name the file
  try {
    const std::span<const uint8_t> file(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
    const int channels = mode == ColorMode::RGB ? 3 : 1;
    Pixels pixels;
    switch (detect_format(bytes)) {
      case Format::PNG:
        pixels = decode_png(file, channels);
        break;
      case Format::JPEG:
        pixels = decode_jpeg(file, channels);
        break;
      case Format::BMP:
        pixels = decode_bmp(file, channels);
        break;
    }
    return to_tensor(pixels, mode);
  } catch (const Error& e) {
    throw e.in({path, "", ""});
  }
}

void write_png_picture(const std::string& path, const Tensor& tensor) {
  std::string png;
  try {
    check(tensor.defined(), "cannot draw an undefined tensor");
    const Panels panels = panels_of(tensor);
    check(panels.count > 0 && panels.height > 0 && panels.width > 0, "cannot draw an empty tensor of shape {}",
          to_string(tensor.shape()));
    constexpr int64_t kGap = 2;
    const int64_t canvas_width =
        checked_mul(panels.count, panels.width + kGap, "picture width") - kGap;  // no gap after the last panel
    const int64_t canvas_height = panels.height;
    check(canvas_width <= 1000000 && canvas_height <= 1000000,
          "a picture of {} x {} pixels is too large (shape {}); PNG writers stop at 1000000", canvas_width,
          canvas_height, to_string(tensor.shape()));
    std::vector<uint8_t> canvas(static_cast<size_t>(canvas_width * canvas_height), 255);

    const int64_t panel_size = panels.height * panels.width;
    for (int64_t p = 0; p < panels.count; ++p) {
      const int64_t first = p * panel_size;
      double low = std::numeric_limits<double>::infinity();
      double high = -std::numeric_limits<double>::infinity();
      for (int64_t i = 0; i < panel_size; ++i) {
        double v = value_at(tensor, first + i);
        if (!std::isfinite(v)) continue;
        low = std::min(low, v);
        high = std::max(high, v);
      }
      const bool flat = !(high > low);  // constant, or no finite value at all
      for (int64_t y = 0; y < panels.height; ++y) {
        uint8_t* row = canvas.data() + y * canvas_width + p * (panels.width + kGap);
        for (int64_t x = 0; x < panels.width; ++x) {
          double v = value_at(tensor, first + y * panels.width + x);
          double level = flat || std::isnan(v) ? 0.0 : std::clamp((v - low) / (high - low), 0.0, 1.0);
          row[x] = static_cast<uint8_t>(std::lround(level * 255.0));
        }
      }
    }
    png = encode_gray_png(canvas.data(), canvas_width, canvas_height);
  } catch (const Error& e) {
    throw e.in({path, "", ""});
  }
  write_file_atomically(path, png);  // its errors already name the file
}

}  // namespace mininn
