// Reading the tensors a command line names: NAME=PATH pairs, .npy files and
// photos, or random inputs.
#pragma once

#include "framework/tensor.h"
#include "graph/graph.h"

#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace mininn::cli {

// "NAME=PATH" items of `flag`, checked for form and duplicates.
std::vector<std::pair<std::string, std::string>> parse_assignments(const std::vector<std::string>& items,
                                                                   const std::string& flag);

// A tensor file for a value described by `desc`: .npy (converted to its
// dtype) or a photo (.png/.jpg/.jpeg/.bmp; grayscale for 1 channel, RGB
// for 3; batched when `desc` is 4-d).
Tensor read_tensor_file(const std::string& path, const TensorDesc& desc, const std::string& what);

// One tensor per graph input: from `given` (NAME=PATH), else random normal
// values from `random_seed` when set, else an error naming the input. A
// dynamic batch becomes `batch`.
std::vector<Tensor> load_inputs(const Graph& graph, const std::vector<std::pair<std::string, std::string>>& given,
                                std::optional<uint64_t> random_seed, int64_t batch);

}  // namespace mininn::cli
