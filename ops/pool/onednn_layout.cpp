// Pooling on the layout its producer hands over (layout propagation, see
// graph/executor.cpp): a 2-d max or average pool for inference, reading the
// input in the offered oneDNN layout (nChw16c after a convolution) and
// leaving the output in the layout the primitive picks for it, or reordered
// to plain when the kernel is not free to choose. Its primitive sees the
// real (N, C, H, W) dims, since a blocked layout interleaves channels.
//
// Max pooling keeps the plain kernels' exactness rule (onednn.cpp): a NaN in
// the input, or an output of -FLT_MAX (oneDNN's value for an all -inf
// window), sends the call to the naive loop, over plain copies of input and
// output made by reorders. Such a call allocates those copies the first
// time; every other call allocates nothing.
#include "ops/onednn/layout.h"
#include "ops/pool/onednn_internal.h"

#include <cfloat>

namespace mininn::pool::onednn::detail {
namespace {

struct LayoutPoolState final : KernelState {
  rt::Buffer scratchpad, inner_dst;  // inner_dst: the primitive's output when it is reordered to plain
  memory src, dst;
  rt::Args args;
  rt::Args to_plain_args;
  // The naive path's plain copies, made on first use.
  rt::Buffer plain_src, plain_dst;
  memory plain_src_memory, plain_dst_memory;
};

class LayoutPoolKernel final : public Kernel {
 public:
  LayoutPoolKernel(const Geometry& g, algorithm kind, const TensorLayoutRef& src_layout)
      : geometry_(g), kind_(kind), src_desc_(src_layout->desc) {
    layouts.inputs = {src_layout};
  }

  // Creates the primitives; false (and `why`) when oneDNN has nothing better
  // than its reference kernel for this layout.
  bool build(const Problem& p, bool free_output, Backend backend, std::string& why) {
    const TensorLayoutRef& src_layout = layouts.inputs[0];
    const memory::desc any_dst(p.dst, memory::data_type::f32, memory::format_tag::any);
    pooling_v2_forward::desc fd(prop_kind::forward_inference, p.kind, src_layout->desc, any_dst, p.strides, p.kernel,
                                p.dilation, p.pad_l, p.pad_r);
    pd_ = pooling_v2_forward::primitive_desc(fd, rt::attributes(), rt::engine());
    if (backend == Backend::Auto && rt::is_reference(pd_)) {
      why = std::string(kReferenceWhy) + " in layout " + src_layout->name;
      return false;
    }
    primitive_ = rt::create<pooling_v2_forward>(pd_, created_);
    const memory::desc dst = pd_.dst_desc();
    plain_dst_ = rt::plain(p.dst);
    if (free_output) out_layout_ = rt::propagated_layout(dst);
    reorder_out_ = !out_layout_ && dst != plain_dst_;
    if (reorder_out_) {
      to_plain_ = rt::create_reorder(dst, plain_dst_, created_);
      dispatch.conversions.push_back(rt::conversion("output 0", dst, plain_dst_, "nchw"));
    }
    layouts.outputs = {out_layout_};
    if (kind_ == algorithm::pooling_max) {
      // The naive path's reorders: input to plain, and plain back to the output's layout.
      src_to_plain_ = rt::create_reorder(src_desc_, rt::plain(p.src), created_);
      if (out_layout_) plain_to_dst_ = rt::create_reorder(plain_dst_, dst, created_);
    }
    dispatch.forward = dispatch.backward = "onednn";
    return true;
  }

  int primitives_created() const override { return created_; }

  std::unique_ptr<KernelState> make_state() const override {
    auto state = std::make_unique<LayoutPoolState>();
    size_t scratch = rt::scratchpad_bytes(pd_);
    if (reorder_out_) scratch = std::max(scratch, to_plain_.scratchpad);
    scratch = std::max({scratch, src_to_plain_.scratchpad, plain_to_dst_.scratchpad});
    state->scratchpad = rt::Buffer(scratch);
    const memory scratchpad = rt::over(pd_.scratchpad_desc(), state->scratchpad);
    state->src = rt::external(pd_.src_desc());
    if (reorder_out_) {
      state->inner_dst = rt::Buffer(pd_.dst_desc().get_size());
      state->dst = rt::over(pd_.dst_desc(), state->inner_dst);
      state->to_plain_args = {{DNNL_ARG_FROM, state->dst},
                              {DNNL_ARG_TO, rt::external(plain_dst_)},
                              {DNNL_ARG_SCRATCHPAD, reorder_scratchpad(*state, to_plain_)}};
    } else {
      state->dst = rt::external(pd_.dst_desc());
    }
    state->args = {{DNNL_ARG_SRC, state->src}, {DNNL_ARG_DST, state->dst}, {DNNL_ARG_SCRATCHPAD, scratchpad}};
    return state;
  }

  void forward(const ForwardArgs& args) const override {
    LayoutPoolState& state = *static_cast<LayoutPoolState*>(args.state);
    const float* x = args.inputs[0].f32();
    float* y = args.outputs[0].f32();
    const int64_t in_count = args.inputs[0].numel(), out_count = args.outputs[0].numel();
    // oneDNN skips NaN, PyTorch propagates it.
    if (kind_ == algorithm::pooling_max && rt::contains_nan(x, in_count)) return naive(state, x, y);
    rt::bind(state.src, x);
    if (!reorder_out_) rt::bind(state.dst, y);
    rt::run(primitive_, state.args);
    if (reorder_out_) {
      rt::bind(state.to_plain_args.at(DNNL_ARG_TO), y);
      rt::run(to_plain_.primitive, state.to_plain_args);
    }
    // An all -inf (or -FLT_MAX) window comes out as -FLT_MAX: PyTorch gives -inf.
    if (kind_ == algorithm::pooling_max && rt::contains(y, out_count, -FLT_MAX)) naive(state, x, y);
  }

 private:
  static memory reorder_scratchpad(const LayoutPoolState& state, const rt::Reorder& reorder) {
    return rt::over(memory::desc({static_cast<int64_t>(std::max<size_t>(reorder.scratchpad, 1))},
                                 memory::data_type::u8, memory::format_tag::a),
                    state.scratchpad);
  }

  // PyTorch's max over plain copies, written back in the output's layout.
  void naive(LayoutPoolState& state, const float* x, float* y) const {
    if (!state.plain_src.data()) {
      state.plain_src = rt::Buffer(rt::plain(src_desc_.dims()).get_size());
      state.plain_dst = rt::Buffer(plain_dst_.get_size());
      state.plain_src_memory = rt::over(rt::plain(src_desc_.dims()), state.plain_src);
      state.plain_dst_memory = rt::over(plain_dst_, state.plain_dst);
    }
    rt::run(src_to_plain_.primitive, {{DNNL_ARG_FROM, memory(src_desc_, rt::engine(), const_cast<float*>(x))},
                                      {DNNL_ARG_TO, state.plain_src_memory},
                                      {DNNL_ARG_SCRATCHPAD, reorder_scratchpad(state, src_to_plain_)}});
    float* plain_y = out_layout_ ? static_cast<float*>(state.plain_dst.data()) : y;
    max_forward(geometry_, static_cast<const float*>(state.plain_src.data()), plain_y, nullptr);
    if (out_layout_)
      rt::run(plain_to_dst_.primitive, {{DNNL_ARG_FROM, state.plain_dst_memory},
                                        {DNNL_ARG_TO, memory(out_layout_->desc, rt::engine(), y)},
                                        {DNNL_ARG_SCRATCHPAD, reorder_scratchpad(state, plain_to_dst_)}});
  }

  Geometry geometry_;
  algorithm kind_;
  memory::desc src_desc_, plain_dst_;
  pooling_v2_forward::primitive_desc pd_;
  pooling_v2_forward primitive_;
  TensorLayoutRef out_layout_;  // null: the output is plain
  bool reorder_out_ = false;    // the primitive writes another layout than plain and is not free to keep it
  rt::Reorder to_plain_, src_to_plain_, plain_to_dst_;
  int created_ = 0;
};

}  // namespace

std::unique_ptr<Kernel> build_layout_pool(const Geometry& g, int rank, algorithm kind, const KernelConfig& config,
                                          std::string& why) {
  const TensorLayoutRef layout = offered_layout(config, 0);
  if (!layout || rank != 2 || config.needs_backward || g.planes == 0) return nullptr;
  const Dims dims = layout->desc.dims();
  if (dims.size() != 4 || dims[0] * dims[1] != g.planes) return nullptr;
  Problem p = problem_of(g, rank, g.planes, kind);
  p.src[0] = p.dst[0] = dims[0];
  p.src[1] = p.dst[1] = dims[1];
  auto kernel = std::make_unique<LayoutPoolKernel>(g, kind, layout);
  try {
    if (!kernel->build(p, config.free_output_layouts, config.backend, why)) return nullptr;
  } catch (const dnnl::error&) {
    return nullptr;  // the plain kernels then run it, from a plain input
  }
  return kernel;
}

}  // namespace mininn::pool::onednn::detail
