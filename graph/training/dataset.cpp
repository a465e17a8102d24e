#include "graph/training/dataset.h"

#include "framework/error.h"
#include "framework/idx.h"
#include "framework/npy.h"

#include <cmath>
#include <cstring>

namespace mininn {
namespace {

Tensor read_images(const std::string& path, const std::string& name) {
  if (looks_like_idx(path)) return read_idx(path, DType::Float32, kIdxPixelDivisor);
  Tensor images = read_npy(path);
  check(images.dtype() == DType::Float32,
        "{} images ({}): the array holds integers; training takes float images (in numpy: "
        "x.astype(np.float32) / 255, or keep uint8 pixels in an IDX file)",
        name, path);
  return images;
}

Tensor read_labels(const std::string& path, const std::string& name) {
  if (looks_like_idx(path)) return read_idx(path, DType::Int64);
  Tensor labels = read_npy(path);
  check(labels.dtype() == DType::Int64,
        "{} labels ({}): the array holds floats; labels must be integer class indices (int64)", name, path);
  return labels;
}

Tensor rows(const Tensor& t, int64_t begin, int64_t end) {
  Shape shape = t.shape();
  shape[0] = end - begin;
  Tensor out = Tensor::empty(shape, t.dtype());
  size_t row_bytes = t.dim(0) ? t.nbytes() / static_cast<size_t>(t.dim(0)) : 0;
  std::memcpy(out.raw(), static_cast<const std::byte*>(t.raw()) + row_bytes * begin, row_bytes * (end - begin));
  return out;
}

}  // namespace

Dataset load_dataset(const std::string& images_path, const std::string& labels_path, const std::string& name) {
  Dataset data;
  data.name = name;
  data.images = read_images(images_path, name);
  data.labels = read_labels(labels_path, name);
  check(data.images.rank() >= 2, "{} images ({}): expected (N, C, H, W) or (N, H, W), but the array is {}", name,
        images_path, to_string(data.images.shape()));
  check(data.labels.rank() == 1, "{} labels ({}): expected one label per image (N), but the array is {}", name,
        labels_path, to_string(data.labels.shape()));
  check(data.images.dim(0) == data.labels.dim(0), "{}: {} images but {} labels ({} and {})", name, data.images.dim(0),
        data.labels.dim(0), images_path, labels_path);
  check(data.images.dim(0) > 0, "{} is empty ({} holds no images)", name, images_path);
  if (data.images.rank() == 3) {
    const Shape& s = data.images.shape();
    data.images = data.images.reshaped({s[0], 1, s[1], s[2]});
  }
  return data;
}

Dataset split_off(Dataset& train, double fraction) {
  check(fraction > 0 && fraction < 1, "--val-split must be between 0 and 1 (exclusive), but got {}", fraction);
  const int64_t n = train.size();
  int64_t count = std::max<int64_t>(1, static_cast<int64_t>(std::llround(fraction * static_cast<double>(n))));
  check(count < n, "--val-split {} leaves no training data from {} samples", fraction, n);
  Dataset val;
  val.name = "validation set";
  val.images = rows(train.images, n - count, n);
  val.labels = rows(train.labels, n - count, n);
  train.images = rows(train.images, 0, n - count);
  train.labels = rows(train.labels, 0, n - count);
  return val;
}

void check_dataset(const Dataset& data, const Shape& sample_shape, int64_t classes) {
  Shape shape(data.images.shape().begin() + 1, data.images.shape().end());
  check(shape == sample_shape, "{}: each image is {}, but the model's input takes {}", data.name, to_string(shape),
        to_string(sample_shape));
  const int64_t* labels = data.labels.i64();
  for (int64_t i = 0; i < data.size(); ++i)
    check(labels[i] >= 0 && labels[i] < classes,
          "{}: label {} (sample {}) is out of range: the model has {} classes, so labels must be 0 to {}", data.name,
          labels[i], i, classes, classes - 1);
  const float* pixels = data.images.f32();
  for (int64_t i = 0; i < data.images.numel(); ++i)
    check(std::isfinite(pixels[i]), "{}: image {} holds a non-finite value ({})", data.name,
          i / std::max<int64_t>(1, data.sample_numel()), pixels[i]);
}

}  // namespace mininn
