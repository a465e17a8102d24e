// Flatten: merges dimensions start_dim..end_dim into one, as torch.nn.Flatten
// (which, unlike most modules, has no notion of an unbatched input: dims are
// counted from the first, whatever the rank).
#include "framework/error.h"
#include "ops/families.h"
#include "ops/naive_only.h"
#include "ops/registry.h"

#include <cstring>

namespace mininn {
namespace {

class CopyKernel final : public Kernel {
 public:
  void forward(const ForwardArgs& args) const override {
    std::memcpy(args.outputs[0].raw(), args.inputs[0].raw(), args.inputs[0].nbytes());
  }
  void backward(const BackwardArgs& args) const override {
    if (args.grad_inputs[0].defined())
      std::memcpy(args.grad_inputs[0].raw(), args.grad_outputs[0].raw(), args.grad_outputs[0].nbytes());
  }
};

class Flatten final : public Op {
 public:
  explicit Flatten(const Attrs& attrs) : start_(attrs.integer("start_dim")), end_(attrs.integer("end_dim")) {}

  std::vector<TensorDesc> infer(const std::vector<TensorDesc>& inputs) const override {
    const Shape& shape = inputs[0].shape;
    if (shape.empty()) return {TensorDesc{inputs[0].dtype, {1}}};  // torch: a scalar flattens to [1]
    const int64_t rank = static_cast<int64_t>(shape.size());
    auto wrap = [&](int64_t dim) {
      check(dim >= -rank && dim < rank, "Dimension out of range (expected to be in range of [{}, {}], but got {})",
            -rank, rank - 1, dim);
      return dim < 0 ? dim + rank : dim;
    };
    int64_t start = wrap(start_), end = wrap(end_);
    check(start <= end, "flatten() has invalid args: start_dim cannot come after end_dim");
    check(start > 0 || end == 0 || shape[0] != kDynamic,
          "Flatten with start_dim {} would merge the run-time batch (null) dimension; give the batch a size or "
          "start at dimension 1",
          start_);
    Shape out(shape.begin(), shape.begin() + start);
    int64_t merged = 1;
    for (int64_t d = start; d <= end; ++d) merged = shape[d] == kDynamic ? kDynamic : checked_mul(merged, shape[d]);
    out.push_back(merged);
    out.insert(out.end(), shape.begin() + end + 1, shape.end());
    return {TensorDesc{inputs[0].dtype, out}};
  }

  std::unique_ptr<Kernel> make_kernel(const KernelConfig& config) const override {
    auto kernel = naive_only<CopyKernel>(config);
    kernel->dispatch.reason = "a copy; no oneDNN needed";
    return kernel;
  }

 private:
  int64_t start_, end_;
};

}  // namespace

void register_shape_ops(Registry& registry) {
  registry.add({"Flatten", "shape", "merges dimensions start_dim..end_dim into one", 0,
                {{"start_dim", AttrType::Int, "1", "first dimension to flatten"},
                 {"end_dim", AttrType::Int, "-1", "last dimension to flatten (negative counts from the end)"}},
                {{"input", "a tensor of any shape (float32 or int64)"}},
                {"output"},
                [](const Attrs& attrs) { return std::make_unique<Flatten>(attrs); }});
}

}  // namespace mininn
