// A labelled image set for training: images float32 (N, C, H, W) and labels
// int64 (N), read from .npy files or MNIST-style IDX files (gzipped or not).
#pragma once

#include "framework/tensor.h"

#include <string>

namespace mininn {

struct Dataset {
  Tensor images;  // float32 (N, ...) : one sample per leading index
  Tensor labels;  // int64 (N)
  std::string name;  // for messages: "training set", "validation set"

  int64_t size() const { return labels.defined() ? labels.dim(0) : 0; }
  int64_t sample_numel() const { return size() ? images.numel() / size() : 0; }
};

// IDX images (uint8) become float32 divided by this: values in [0, 1], the
// same floats as torch's `x.float() / 255`.
inline constexpr float kIdxPixelDivisor = 255.0f;

// Reads images and labels, each a .npy file or an IDX file (told apart by
// content). Checks what can be checked without the model: images are float
// (.npy) or uint8 (IDX), labels are integers of rank 1, the counts match,
// the set is not empty. A 3-d image array (N, H, W) — IDX's layout — gets a
// channel axis: (N, 1, H, W).
Dataset load_dataset(const std::string& images_path, const std::string& labels_path, const std::string& name);

// Moves the last `fraction` of `train` (rounded to a whole sample, at least
// one, in file order) into a validation set: deterministic, nothing drawn.
Dataset split_off(Dataset& train, double fraction);

// Checks the set against the model: each image has `sample_shape`, and every
// label lies in [0, classes). The message names the first bad entry.
void check_dataset(const Dataset& data, const Shape& sample_shape, int64_t classes);

}  // namespace mininn
