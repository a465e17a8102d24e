#include "framework/safetensors.h"

#include "framework/error.h"
#include "framework/file.h"

#include <nlohmann/json.hpp>

#include <cstring>

namespace mininn {
namespace {

using nlohmann::json;

constexpr uint64_t kMaxHeaderBytes = 100u << 20;  // the format's own limit

struct Element {
  size_t size;
  bool floating;
};

bool element_of(const std::string& dtype, Element& out) {
  static const std::pair<const char*, Element> table[] = {
      {"F32", {4, true}}, {"F64", {8, true}}, {"F16", {2, true}}, {"BF16", {2, true}}, {"I64", {8, false}},
      {"I32", {4, false}}, {"I16", {2, false}}, {"I8", {1, false}}, {"U8", {1, false}}, {"BOOL", {1, false}}};
  for (const auto& [name, element] : table)
    if (dtype == name) {
      out = element;
      return true;
    }
  return false;
}

template <typename T>
T load(const unsigned char* p) {
  T v;
  std::memcpy(&v, p, sizeof(T));
  return v;
}

}  // namespace

std::map<std::string, Tensor> parse_safetensors(const void* data, size_t size, const std::string& name) {
  const auto* bytes = static_cast<const unsigned char*>(data);
  check(size >= 8, "{}: not a safetensors file (shorter than its 8-byte header length)", name);
  uint64_t header_size = load<uint64_t>(bytes);
  check(header_size <= kMaxHeaderBytes && header_size <= size - 8,
        "{}: corrupt safetensors file: header length {} exceeds the file", name, header_size);
  json header;
  try {
    header = json::parse(bytes + 8, bytes + 8 + header_size);
  } catch (const json::exception& e) {
    fail("{}: corrupt safetensors header: {}", name, e.what());
  }
  check(header.is_object(), "{}: corrupt safetensors header: not a JSON object", name);
  const unsigned char* payload = bytes + 8 + header_size;
  const uint64_t payload_size = size - 8 - header_size;

  std::map<std::string, Tensor> out;
  for (const auto& [key, entry] : header.items()) {
    if (key == "__metadata__") continue;
    check(entry.is_object() && entry.contains("dtype") && entry.contains("shape") && entry.contains("data_offsets"),
          "{}: tensor '{}' lacks dtype, shape or data_offsets", name, key);
    const json &dtype = entry["dtype"], &shape_json = entry["shape"], &offsets = entry["data_offsets"];
    Element element{};
    check(dtype.is_string() && element_of(dtype.get<std::string>(), element), "{}: tensor '{}' has unsupported dtype {}",
          name, key, dtype.dump());
    check(shape_json.is_array(), "{}: tensor '{}' has a malformed shape", name, key);
    Shape shape;
    for (const json& extent : shape_json) {
      check(extent.is_number_unsigned() || (extent.is_number_integer() && extent.get<int64_t>() >= 0),
            "{}: tensor '{}' has a malformed shape {}", name, key, shape_json.dump());
      check(extent.get<uint64_t>() <= uint64_t(INT64_MAX), "{}: tensor '{}' has an impossible shape", name, key);
      shape.push_back(extent.get<int64_t>());
    }
    DType target = element.floating ? DType::Float32 : DType::Int64;
    check_tensor_bytes(shape, target, "tensor '" + key + "' in " + name);
    check(offsets.is_array() && offsets.size() == 2 && offsets[0].is_number_unsigned() && offsets[1].is_number_unsigned(),
          "{}: tensor '{}' has malformed data_offsets", name, key);
    uint64_t begin = offsets[0].get<uint64_t>(), end = offsets[1].get<uint64_t>();
    int64_t count = checked_numel(shape);
    check(begin <= end && end <= payload_size, "{}: tensor '{}' lies outside the file (truncated?)", name, key);
    check(end - begin == static_cast<uint64_t>(count) * element.size,
          "{}: tensor '{}' has {} bytes of data, but its shape {} needs {}", name, key, end - begin, to_string(shape),
          static_cast<uint64_t>(count) * element.size);

    Tensor t = Tensor::empty(shape, target);
    const unsigned char* src = payload + begin;
    const std::string& type = dtype.get_ref<const std::string&>();
    for (int64_t i = 0; i < count; ++i) {
      const unsigned char* p = src + i * element.size;
      if (type == "F32") t.f32()[i] = load<float>(p);
      else if (type == "F64") t.f32()[i] = static_cast<float>(load<double>(p));
      else if (type == "F16") t.f32()[i] = half_to_float(load<uint16_t>(p));
      else if (type == "BF16") t.f32()[i] = bfloat16_to_float(load<uint16_t>(p));
      else if (type == "I64") t.i64()[i] = load<int64_t>(p);
      else if (type == "I32") t.i64()[i] = load<int32_t>(p);
      else if (type == "I16") t.i64()[i] = load<int16_t>(p);
      else if (type == "I8") t.i64()[i] = load<int8_t>(p);
      else t.i64()[i] = load<uint8_t>(p);
    }
    out.emplace(key, std::move(t));
  }
  return out;
}

std::map<std::string, Tensor> read_safetensors(const std::string& path) {
  std::string bytes = read_file(path, max_tensor_bytes() + kMaxHeaderBytes + 8);
  return parse_safetensors(bytes.data(), bytes.size(), path);
}

void write_safetensors(const std::string& path, const std::vector<std::pair<std::string, Tensor>>& tensors) {
  json header = json::object();
  uint64_t offset = 0;
  for (const auto& [name, t] : tensors) {
    header[name] = {{"dtype", t.dtype() == DType::Float32 ? "F32" : "I64"},
                    {"shape", t.shape()},
                    {"data_offsets", {offset, offset + t.nbytes()}}};
    offset += t.nbytes();
  }
  header["__metadata__"] = {{"format", "pt"}};
  std::string text = header.dump();
  text.append((8 - (text.size() % 8)) % 8, ' ');  // keeps the data 8-byte aligned
  std::string bytes(8, '\0');
  uint64_t length = text.size();
  std::memcpy(bytes.data(), &length, 8);
  bytes += text;
  for (const auto& [name, t] : tensors) bytes.append(static_cast<const char*>(t.raw()), t.nbytes());
  write_file_atomically(path, bytes);
}

}  // namespace mininn
