#include "tools/inputs.h"

#include "framework/error.h"
#include "framework/image.h"
#include "framework/npy.h"
#include "framework/rng.h"
#include "framework/strings.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <filesystem>

namespace mininn::cli {

std::vector<std::pair<std::string, std::string>> parse_assignments(const std::vector<std::string>& items,
                                                                   const std::string& flag) {
  std::vector<std::pair<std::string, std::string>> out;
  for (const std::string& item : items) {
    size_t eq = item.find('=');
    check(eq != std::string::npos && eq > 0 && eq + 1 < item.size(), "{} expects NAME=PATH, got '{}'", flag, item);
    std::string name = item.substr(0, eq);
    for (const auto& [seen, path] : out) check(seen != name, "{} names '{}' twice", flag, name);
    out.emplace_back(name, item.substr(eq + 1));
  }
  return out;
}

Tensor read_tensor_file(const std::string& path, const TensorDesc& desc, const std::string& what) {
  std::string ext = std::filesystem::path(path).extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return std::tolower(c); });
  if (ext == ".png" || ext == ".jpg" || ext == ".jpeg" || ext == ".bmp") {
    check(desc.dtype == DType::Float32, "{} is int64 and cannot come from an image ({})", what, path);
    const Shape& shape = desc.shape;
    check(shape.size() == 3 || shape.size() == 4,
          "{} is declared {}; an image needs (C, H, W) or (N, C, H, W) with 1 or 3 channels", what, to_string(shape));
    int64_t channels = shape[shape.size() - 3];
    check(channels == 1 || channels == 3, "{} declares {} channels; an image gives 1 (grayscale) or 3 (RGB)", what,
          channels);
    check(shape.size() == 3 || shape[0] == 1 || shape[0] == kDynamic,
          "{} declares a batch of {}; an image gives a batch of 1", what, shape[0]);
    Tensor image = read_image(path, channels == 1 ? ColorMode::Gray : ColorMode::RGB);
    if (shape.size() == 4) image = image.reshaped({1, image.dim(0), image.dim(1), image.dim(2)});
    return image;
  }
  check(ext == ".npy", "{}: unsupported file type '{}' for {}; use .npy, .png, .jpg, .jpeg or .bmp", path, ext, what);
  return read_npy(path, desc.dtype);
}

std::vector<Tensor> load_inputs(const Graph& graph, const std::vector<std::pair<std::string, std::string>>& given,
                                std::optional<uint64_t> random_seed, int64_t batch) {
  std::vector<std::string> names;
  for (const GraphInput& input : graph.inputs) names.push_back(graph.values[input.value].name);
  for (const auto& [name, path] : given)
    check(std::find(names.begin(), names.end(), name) != names.end(), "--input names '{}', which is not an input of "
          "the model{}; its inputs are: {}", name, did_you_mean(name, names), join(names));

  Generator generator(random_seed.value_or(0));
  std::vector<Tensor> out;
  for (const GraphInput& input : graph.inputs) {
    const Value& value = graph.values[input.value];
    std::string what = fmt::format("input '{}'", value.name);
    auto file = std::find_if(given.begin(), given.end(), [&](const auto& g) { return g.first == value.name; });
    if (file != given.end()) {
      out.push_back(read_tensor_file(file->second, value.desc, what));
      continue;
    }
    check(random_seed.has_value(), "{} {} is not given: use --input {}=PATH (or --random-inputs SEED)", what,
          to_string(value.desc), value.name);
    check(value.desc.dtype == DType::Float32, "{} is int64 and cannot be random: give it with --input {}=PATH", what,
          value.name);
    Tensor t = Tensor::empty(with_batch(value.desc.shape, batch));
    generator.normal(t.floats(), 0.0f, 1.0f);
    out.push_back(t);
  }
  return out;
}

}  // namespace mininn::cli
