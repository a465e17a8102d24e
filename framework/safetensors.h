// safetensors files: an 8-byte little-endian header length, a JSON header
// {"name": {"dtype", "shape", "data_offsets"}, "__metadata__": {...}}, then
// the tensor bytes. Reading converts F32/F64/F16/BF16 to float32 and
// I64/I32/I16/I8/U8 to int64; anything malformed is an Error naming the file.
#pragma once

#include "framework/tensor.h"

#include <map>
#include <string>
#include <utility>
#include <vector>

namespace mininn {

std::map<std::string, Tensor> read_safetensors(const std::string& path);
std::map<std::string, Tensor> parse_safetensors(const void* data, size_t size, const std::string& name);

// Writes F32/I64 tensors in the given order, through a temporary file renamed
// into place.
void write_safetensors(const std::string& path, const std::vector<std::pair<std::string, Tensor>>& tensors);

}  // namespace mininn
