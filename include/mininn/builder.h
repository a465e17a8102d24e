// Building a network in code, with torch.nn's op and argument names:
//
//   mininn::ModelBuilder net("tiny");
//   net.input("image", {mininn::kDynamic, 1, 28, 28});
//   net.add("conv", "Conv2d", {"image"}, {"features"},
//           {{"in_channels", 1}, {"out_channels", 4}, {"kernel_size", 3}, {"padding", 1}});
//   net.add("pool", "MaxPool2d", {"features"}, {"pooled", "argmax"},
//           {{"kernel_size", 2}, {"return_indices", true}});
//   net.output("pooled");
//   mininn::Model model = net.build();
//
// The builder writes the same model a JSON file would (to_json() shows it),
// and build() runs it through the same validation, so every mistake gets the
// message and the location ("nodes[1].attrs.kernel: node 'pool' (MaxPool2d):
// unknown attribute 'kernel' (did you mean 'kernel_size'?) ...") a JSON model
// gets. add() checks the op and its attributes at once, so a mistake throws
// from the line that made it; names and shapes are checked by build().
//
// There is one generic add() and no conv2d()/max_pool2d() helpers on purpose:
// each op declares its attributes once, in the op registry, and that table —
// not a second list here — drives validation, docs (`mininn ops`) and this API.
#pragma once

#include <mininn/config.h>
#include <mininn/model.h>
#include <mininn/tensor.h>

#include <concepts>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

namespace mininn {

// An attribute value, as JSON would write it: null, a bool, an integer, a
// number, a string, or a list of values.
//   {"kernel_size", 3}  {"padding", {1, 2}}  {"stride", nullptr}
//   {"output_size", {nullptr, 7}}  {"padding_mode", "reflect"}  {"p", 0.5}
class MININN_API AttrValue {
 public:
  enum class Kind { Null, Bool, Int, Float, String, List };

  AttrValue() = default;  // null
  AttrValue(std::nullptr_t) {}
  AttrValue(bool value) : kind_(Kind::Bool), bool_(value) {}
  template <std::integral T>
    requires(!std::same_as<T, bool>)
  AttrValue(T value) {
    if constexpr (std::is_unsigned_v<T>) {
      if (static_cast<uint64_t>(value) > static_cast<uint64_t>(INT64_MAX)) {
        // Past int64: kept as a number, so validation rejects it as not an integer.
        kind_ = Kind::Float;
        float_ = static_cast<double>(value);
        return;
      }
    }
    kind_ = Kind::Int;
    int_ = static_cast<int64_t>(value);
  }
  template <std::floating_point T>
  AttrValue(T value) : kind_(Kind::Float), float_(static_cast<double>(value)) {}
  AttrValue(const char* value) : kind_(Kind::String), string_(value) {}
  AttrValue(std::string value) : kind_(Kind::String), string_(std::move(value)) {}
  AttrValue(std::string_view value) : kind_(Kind::String), string_(value) {}
  AttrValue(std::initializer_list<AttrValue> list) : kind_(Kind::List), list_(list) {}
  AttrValue(std::vector<AttrValue> list) : kind_(Kind::List), list_(std::move(list)) {}
  template <class T>
    requires std::constructible_from<AttrValue, const T&> && (!std::same_as<T, AttrValue>)
  AttrValue(const std::vector<T>& list) : kind_(Kind::List), list_(list.begin(), list.end()) {}

  Kind kind() const { return kind_; }
  bool is_null() const { return kind_ == Kind::Null; }
  bool as_bool() const { return bool_; }
  int64_t as_int() const { return int_; }
  double as_float() const { return float_; }
  const std::string& as_string() const { return string_; }
  const std::vector<AttrValue>& as_list() const { return list_; }

  std::string to_json() const;  // "3", "[1, 2]", "null", "\"reflect\""

 private:
  Kind kind_ = Kind::Null;
  bool bool_ = false;
  int64_t int_ = 0;
  double float_ = 0;
  std::string string_;
  std::vector<AttrValue> list_;
};

// Named values in the order given: {{"kernel_size", 2}, {"return_indices", true}}.
using Attributes = std::vector<std::pair<std::string, AttrValue>>;

struct InputOptions {
  DType dtype = DType::Float32;  // Int64 for indices and labels
  bool requires_grad = true;     // false: no gradient for this float input
};

class MININN_API ModelBuilder {
 public:
  explicit ModelBuilder(std::string name = {});
  ModelBuilder(const ModelBuilder& other);
  ModelBuilder& operator=(const ModelBuilder& other);
  ModelBuilder(ModelBuilder&&) noexcept;
  ModelBuilder& operator=(ModelBuilder&&) noexcept;
  ~ModelBuilder();

  // Seeds PyTorch's generator for default initialisation and init draws
  // (default 0): the same parameters as torch.manual_seed(seed).
  ModelBuilder& seed(uint64_t seed);
  // A safetensors file with parameters keyed "<node>.<param>".
  ModelBuilder& weights(std::string safetensors_path);
  // Where relative file names (weights, .npy) are found; default ".".
  ModelBuilder& base_dir(std::string folder);

  // A graph input; a leading kDynamic is a batch chosen at compile time.
  ModelBuilder& input(std::string name, Shape shape, InputOptions options = {});
  // A node: its name, its torch.nn op, the values it reads and writes, and
  // its constructor arguments. Throws Error for an unknown op or attribute,
  // a value of the wrong type, or a rule the op checks on its own (groups
  // dividing in_channels, ...).
  ModelBuilder& add(std::string name, std::string op, std::vector<std::string> inputs,
                    std::vector<std::string> outputs, Attributes attributes = {});
  // A value the model returns, in order.
  ModelBuilder& output(std::string value);

  // A parameter's values by state_dict name ("conv.weight"), copied now;
  // the model's {"data": ...} entry. The tensor's shape must be the
  // parameter's. (For large tensors Model::set_parameter after build() skips
  // the JSON form.)
  ModelBuilder& parameter(std::string_view name, const Tensor& values);
  // A torch.nn.init function for a parameter, with its argument names:
  // init("conv.weight", "kaiming_normal", {{"mode", "fan_out"}, {"nonlinearity", "relu"}}).
  ModelBuilder& init(std::string_view parameter, std::string function, Attributes arguments = {});

  // Validates everything (names, shapes, parameters) and builds the model.
  Model build() const;
  // The model as JSON text in the format of docs/model-format.md; loading it
  // gives the same model. Throws for a parameter value JSON cannot hold
  // (NaN, infinity).
  std::string to_json() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace mininn
