// AdaptiveAvgPool and AdaptiveMaxPool: windows [floor(i*I/O), ceil((i+1)*I/O)).
#include "framework/error.h"
#include "ops/pool/naive.h"
#include "ops/pool/onednn.h"
#include "ops/pool/pool.h"

#include <fmt/format.h>

namespace mininn::pool {
namespace {

struct SavedIndices final : KernelState {
  Tensor indices;
};

// output_size entries: a size >= 0, or null to keep the input's size.
std::vector<std::optional<int64_t>> parse_sizes(const Attrs& attrs) {
  // Unlike kernel sizes, PyTorch does not broadcast a one-entry list here:
  // AdaptiveAvgPool2d([3]) raises "output_size must be 2".
  const nlohmann::json& given = attrs.value("output_size");
  if (given.is_array() && given.size() == 1 && attrs.spatial_rank() > 1)
    throw attrs.error("output_size", fmt::format("output_size must be an int or a list of {} entries, but got {}",
                                                 attrs.spatial_rank(), given.dump()));
  std::vector<std::optional<int64_t>> sizes = attrs.sizes("output_size");
  std::vector<std::string> shown;
  bool negative = false;
  for (const auto& size : sizes) {
    shown.push_back(size ? std::to_string(*size) : "None");
    negative = negative || (size && *size < 0);
  }
  if (negative)
    throw attrs.error("output_size", fmt::format("elements of output_size must be greater than or equal to 0 but "
                                                 "received {{{}}}",
                                                 fmt::join(shown, ", ")));
  return sizes;
}

class AdaptivePool : public Op {
 public:
  AdaptivePool(int rank, const Attrs& attrs, const char* base)
      : rank_(rank), fn_(spatial_name(base, rank)), sizes_(parse_sizes(attrs)) {}

  Shape out_spatial(const Shape& in_spatial) const {
    Shape out;
    for (int i = 0; i < rank_; ++i) out.push_back(sizes_[i] ? *sizes_[i] : in_spatial[i]);
    return out;
  }

  TensorDesc infer_values(const TensorDesc& input) const {
    const Shape& shape = input.shape;
    size_t r = static_cast<size_t>(rank_);
    check(shape.size() == r + 1 || shape.size() == r + 2, "{}(): Expected {}D or {}D tensor, but got {}", fn_, r + 1,
          r + 2, to_string(shape));
    for (size_t i = shape.size() == r + 2 ? 1 : 0; i < shape.size(); ++i)
      check(shape[i] > 0, "{}(): Expected input to have non-zero size for non-batch dimensions, but input has sizes {}",
            fn_, to_string(shape));
    check(input.dtype == DType::Float32, "{}(): expected a float32 input, but got {}", fn_, dtype_name(input.dtype));
    Layout layout = split(shape, rank_);
    return {DType::Float32, join(layout, out_spatial(layout.spatial))};
  }

  Geometry geometry(const Shape& input) const {
    return planes_only(input, rank_, out_spatial(split(input, rank_).spatial));
  }

 protected:
  int rank_;
  std::string fn_;
  std::vector<std::optional<int64_t>> sizes_;
};

// Under Backend::Auto a pool whose planes run 16 per vector (naive.h:
// adaptive_*_on_lanes) stays with mininn's kernel even where oneDNN could
// run it: measured faster in every such case, both directions. `--backend
// onednn` still gets oneDNN. Not when the input comes in a blocked layout
// (layout propagation): oneDNN then pools it where it is, with no reorder.
constexpr const char* kOnLanesWhy = "mininn's kernel computes 16 planes per AVX-512 vector here, faster than oneDNN's";

std::unique_ptr<Kernel> with_reason(std::unique_ptr<Kernel> kernel, const char* why) {
  kernel->dispatch.reason = why;
  return kernel;
}

void check_nonempty_grad(const Geometry& g, const std::string& fn) {
  check(g.out_plane() > 0, "{}_backward(): Expected grad_output to have non-zero size for non-batch dimensions", fn);
}

class NaiveAdaptiveAvg final : public Kernel {
 public:
  NaiveAdaptiveAvg(Geometry geometry, std::string fn) : geometry_(geometry), fn_(std::move(fn)) {}
  void forward(const ForwardArgs& args) const override {
    adaptive_avg_forward(geometry_, args.inputs[0].f32(), args.outputs[0].f32());
  }
  void backward(const BackwardArgs& args) const override {
    check_nonempty_grad(geometry_, fn_);
    adaptive_avg_backward(geometry_, args.grad_outputs[0].f32(), args.grad_inputs[0].f32());
  }

 private:
  Geometry geometry_;
  std::string fn_;
};

class AdaptiveAvgPool final : public AdaptivePool {
 public:
  AdaptiveAvgPool(int rank, const Attrs& attrs) : AdaptivePool(rank, attrs, "adaptive_avg_pool") {}

  std::vector<TensorDesc> infer(const std::vector<TensorDesc>& inputs) const override {
    return {infer_values(inputs[0])};
  }

  std::unique_ptr<Kernel> make_kernel(const KernelConfig& config) const override {
    Geometry g = geometry(config.inputs[0].shape);
    auto naive = [&] { return std::make_unique<NaiveAdaptiveAvg>(g, fn_); };
    if (config.backend == Backend::Auto && !offered_layout(config, 0) && adaptive_avg_on_lanes(g))
      return with_reason(naive(), kOnLanesWhy);
    return pick_kernel(
        config, [&](std::string& why) { return onednn::make_adaptive_avg_pool(g, rank_, config, why); }, naive);
  }
};

class NaiveAdaptiveMax final : public Kernel {
 public:
  NaiveAdaptiveMax(Geometry geometry, std::string fn, bool returns_indices, bool needs_backward, Shape out_shape)
      : geometry_(geometry),
        fn_(std::move(fn)),
        returns_indices_(returns_indices),
        needs_backward_(needs_backward),
        out_shape_(std::move(out_shape)) {}

  std::unique_ptr<KernelState> make_state() const override {
    if (returns_indices_ || !needs_backward_) return nullptr;
    auto state = std::make_unique<SavedIndices>();
    state->indices = Tensor::empty(out_shape_, DType::Int64);
    return state;
  }

  void forward(const ForwardArgs& args) const override {
    int64_t* indices = nullptr;
    if (returns_indices_) indices = args.outputs[1].i64();
    else if (args.state) indices = static_cast<SavedIndices*>(args.state)->indices.i64();
    adaptive_max_forward(geometry_, args.inputs[0].f32(), args.outputs[0].f32(), indices);
  }

  void backward(const BackwardArgs& args) const override {
    check_nonempty_grad(geometry_, fn_);
    const int64_t* indices =
        returns_indices_ ? args.outputs[1].i64() : static_cast<const SavedIndices*>(args.state)->indices.i64();
    max_backward(geometry_, args.grad_outputs[0].f32(), indices, args.grad_inputs[0].f32());
  }

 private:
  Geometry geometry_;
  std::string fn_;
  bool returns_indices_, needs_backward_;
  Shape out_shape_;
};

class AdaptiveMaxPool final : public AdaptivePool {
 public:
  AdaptiveMaxPool(int rank, const Attrs& attrs)
      : AdaptivePool(rank, attrs, "adaptive_max_pool"), return_indices_(attrs.boolean("return_indices")) {}

  int num_outputs() const override { return return_indices_ ? 2 : 1; }
  bool differentiable_output(int index) const override { return index == 0; }

  std::vector<TensorDesc> infer(const std::vector<TensorDesc>& inputs) const override {
    TensorDesc out = infer_values(inputs[0]);
    if (return_indices_) return {out, indices_like(out)};
    return {out};
  }

  std::unique_ptr<Kernel> make_kernel(const KernelConfig& config) const override {
    Geometry g = geometry(config.inputs[0].shape);
    auto naive = [&] {
      return std::make_unique<NaiveAdaptiveMax>(g, fn_, return_indices_, config.needs_backward,
                                                config.outputs[0].shape);
    };
    if (config.backend == Backend::Auto && !offered_layout(config, 0) && adaptive_max_on_lanes(g))
      return with_reason(naive(), kOnLanesWhy);
    return pick_kernel(
        config,
        [&](std::string& why) { return onednn::make_adaptive_max_pool(g, rank_, return_indices_, config, why); },
        naive);
  }

 private:
  bool return_indices_;
};

}  // namespace

std::unique_ptr<Op> make_adaptive_avg_pool(int rank, const Attrs& attrs) {
  return std::make_unique<AdaptiveAvgPool>(rank, attrs);
}
std::unique_ptr<Op> make_adaptive_max_pool(int rank, const Attrs& attrs) {
  return std::make_unique<AdaptiveMaxPool>(rank, attrs);
}

}  // namespace mininn::pool
