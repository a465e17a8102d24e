// Conv2d on oneDNN 2.6: convolution_forward, convolution_backward_data and
// convolution_backward_weights (+ bias), each free to choose its layouts
// (tag::any). The executor's tensors are plain NCHW / OIHW, so every tensor
// a primitive wants in another layout goes through a reorder created at
// compile time; the converted copies live in the KernelState. Padding modes
// other than zeros pad the input into a state buffer first (and fold the
// gradient of the padding back in backward), then convolve with no padding.
//
// A fused activation (KernelConfig::post_op, inference only) goes into the
// forward primitive as an eltwise post-op only where oneDNN computes the
// standalone kernel's bits: LeakyReLU with a non-zero slope, whose
// eltwise_relu is `x > 0 ? x : x * alpha` (probed: jit, jit_1x1, jit_dw,
// gemm), in the JIT kernels only (see build()). With alpha 0 oneDNN differs: the JIT takes
// max(x, 0), turning NaN into 0 and -0.0 into +0.0, and gemm takes x * 0,
// turning -1 into -0.0. ReLU and LeakyReLU(0) therefore run as a loop over
// the output, with the standalone kernel's rule (activation::apply_post_op).
//
// Layout propagation (inference only): an input offered in the layout the
// forward primitive chose for its source is read as it is, and when free
// to, the output is left in the primitive's destination layout; the
// reorders of those ports then disappear (Dispatch::conversions lists the
// ones that remain).
#include "ops/conv/onednn.h"

#include "framework/error.h"
#include "ops/activation/activation.h"
#include "ops/onednn/layout.h"
#include "ops/onednn/runtime.h"

#include <fmt/format.h>

#include <cstring>
#include <optional>
#include <vector>

namespace mininn::conv::onednn {
namespace {

namespace rt = mininn::onednn;
using dnnl::algorithm;
using dnnl::convolution_backward_data;
using dnnl::convolution_backward_weights;
using dnnl::convolution_forward;
using dnnl::memory;
using dnnl::prop_kind;
using rt::Dims;

// A tensor as the caller holds it (`plain`: plain NCHW / OIHW, unless
// layout propagation hands it over in the primitive's own layout) and as a
// primitive wants it, with the reorder between them when the two differ.
struct Port {
  memory::desc plain, inner;
  std::optional<rt::Reorder> reorder;

  bool converts() const { return reorder.has_value(); }
  size_t scratchpad() const { return reorder ? reorder->scratchpad : 0; }
};

// `into_inner`: the data flows plain -> inner (an input), else inner -> plain.
Port make_port(const memory::desc& plain, const memory::desc& inner, bool into_inner, int& counter) {
  Port port{plain, inner, std::nullopt};
  if (inner != plain)
    port.reorder = into_inner ? rt::create_reorder(plain, inner, counter) : rt::create_reorder(inner, plain, counter);
  return port;
}

// A Port's memories in one KernelState: `plain` is bound to the caller's
// tensor at run time; `inner` is the state's converted copy (or `plain`).
struct PortMemory {
  memory plain, inner;
  rt::Buffer buffer;
  rt::Args reorder_args;

  void init(const Port& port, bool into_inner, const memory& scratchpad) {
    plain = rt::external(port.plain);
    if (!port.converts()) {
      inner = plain;
      return;
    }
    buffer = rt::Buffer(port.inner.get_size());
    inner = rt::over(port.inner, buffer);
    reorder_args = {{DNNL_ARG_FROM, into_inner ? plain : inner}, {DNNL_ARG_TO, into_inner ? inner : plain}};
    if (port.scratchpad()) reorder_args[DNNL_ARG_SCRATCHPAD] = scratchpad;
  }
  // Binds the caller's tensor; for an input, converts it.
  void take(const Port& port, const void* data) {
    rt::bind(plain, data);
    if (port.converts()) rt::run(port.reorder->primitive, reorder_args);
  }
  // Binds the caller's tensor for an output (give() converts after the run).
  void bind_output(const void* data) { rt::bind(plain, data); }
  void give(const Port& port) {
    if (port.converts()) rt::run(port.reorder->primitive, reorder_args);
  }
};

struct ConvState final : KernelState {
  rt::Buffer scratchpad_buffer, padded_input, padded_grad, spare_weights_grad, spare_bias_grad;
  // Inference: the weights the converted copy was made from, so that a
  // forward converts them again only when they changed.
  std::vector<float> weights_seen;
  memory scratchpad;
  PortMemory src, weights, dst;                            // forward
  PortMemory data_diff_dst, data_weights, diff_src;        // backward data
  PortMemory weights_src, weights_diff_dst, diff_weights;  // backward weights
  memory bias, diff_bias;
  rt::Args forward_args, data_args, weights_args;
};

class ConvKernel final : public Kernel {
 public:
  ConvKernel(const Geometry& g, bool has_bias, const KernelConfig& config)
      : g_(g),
        has_bias_(has_bias),
        needs_backward_(config.needs_backward),
        post_op_(config.post_op),
        offered_src_(offered_layout(config, 0)),
        free_dst_(config.free_output_layouts && !config.needs_backward) {
    explicit_pad_ = g.mode != PaddingMode::Zeros && (g.pad_top || g.pad_bottom || g.pad_left || g.pad_right);
    padded_h_ = g.in_h + g.pad_top + g.pad_bottom;
    padded_w_ = g.in_w + g.pad_left + g.pad_right;
    if (explicit_pad_) {
      for (int64_t r = 0; r < padded_h_; ++r) rows_.push_back(source_index(r - g.pad_top, g.in_h, g.mode));
      for (int64_t c = 0; c < padded_w_; ++c) cols_.push_back(source_index(c - g.pad_left, g.in_w, g.mode));
    }
  }

  // Builds every primitive; throws dnnl::error when oneDNN refuses.
  void build() {
    const Geometry& g = g_;
    Dims src_dims = {g.batch, g.in_channels, explicit_pad_ ? padded_h_ : g.in_h, explicit_pad_ ? padded_w_ : g.in_w};
    Dims dst_dims = {g.batch, g.out_channels, g.out_h, g.out_w};
    Dims weight_dims = g.groups == 1 ? Dims{g.out_channels, g.in_channels, g.kernel_h, g.kernel_w}
                                     : Dims{g.groups, g.out_per_group(), g.in_per_group(), g.kernel_h, g.kernel_w};
    Dims strides = {g.stride_h, g.stride_w}, dilation = {g.dilation_h - 1, g.dilation_w - 1};
    Dims pad_l = {g.pad_top, g.pad_left}, pad_r = {g.pad_bottom, g.pad_right};
    if (explicit_pad_) pad_l = pad_r = {0, 0};

    const memory::desc any_src(src_dims, memory::data_type::f32, memory::format_tag::any);
    const memory::desc any_dst(dst_dims, memory::data_type::f32, memory::format_tag::any);
    const memory::desc any_weights(weight_dims, memory::data_type::f32, memory::format_tag::any);
    const memory::desc bias = rt::plain({g.out_channels});
    plain_src_ = rt::plain(src_dims);

    // forward_training in both modes: one layout choice, and the kernel
    // PyTorch's own (dense NCHW) conv runs, so results agree bit for bit.
    convolution_forward::desc fd =
        has_bias_ ? convolution_forward::desc(prop_kind::forward_training, algorithm::convolution_direct, any_src,
                                              any_weights, bias, any_dst, strides, dilation, pad_l, pad_r)
                  : convolution_forward::desc(prop_kind::forward_training, algorithm::convolution_direct, any_src,
                                              any_weights, any_dst, strides, dilation, pad_l, pad_r);
    forward_pd_ = convolution_forward::primitive_desc(fd, rt::attributes(), rt::engine());
    if (post_op_.kind == PostOp::LeakyReLU && post_op_.negative_slope != 0 && !needs_backward_) {
      dnnl::post_ops post_ops;
      post_ops.append_eltwise(1.0f, algorithm::eltwise_relu, post_op_.negative_slope, 0.0f);
      dnnl::primitive_attr attr = rt::attributes();
      attr.set_post_ops(post_ops);
      // Only in the JIT kernels, and only if the post-op leaves the
      // convolution itself as it was (the same implementation, so the same
      // accumulation). gemm's post-processing with a post-op adds the bias
      // differently: a -0.0 bias on an all-padding output gave +0.0 * alpha
      // where the separate run had -0.0 (tests/unit/test_fusion.cpp).
      convolution_forward::primitive_desc fused(fd, attr, rt::engine(), true);
      const std::string chosen = rt::implementation(forward_pd_);
      if (fused && chosen.rfind("jit", 0) == 0 && rt::implementation(fused) == chosen) {
        forward_pd_ = fused;
        post_op_in_primitive_ = true;
      }
    }
    forward_ = rt::create<convolution_forward>(forward_pd_, created_);
    TensorLayoutRef src_layout, dst_layout;
    if (offered_src_ && !explicit_pad_ && !needs_backward_ && offered_src_->desc == forward_pd_.src_desc())
      src_layout = offered_src_;
    if (free_dst_) dst_layout = rt::propagated_layout(forward_pd_.dst_desc());
    layouts.inputs = {src_layout};
    layouts.outputs = {dst_layout};
    src_ = make_port(rt::desc_of(src_layout, src_dims), forward_pd_.src_desc(), true, created_);
    weights_ = make_port(rt::plain(weight_dims), forward_pd_.weights_desc(), true, created_);
    dst_ = make_port(rt::desc_of(dst_layout, dst_dims), forward_pd_.dst_desc(), false, created_);
    if (src_.converts()) dispatch.conversions.push_back(rt::conversion("input 0", src_.plain, src_.inner, "nchw"));
    if (weights_.converts())
      dispatch.conversions.push_back(
          rt::conversion("weight", weights_.plain, weights_.inner, g.groups == 1 ? "oihw" : "goihw"));
    if (dst_.converts()) dispatch.conversions.push_back(rt::conversion("output 0", dst_.inner, dst_.plain, "nchw"));
    scratchpad_ =
        std::max({rt::scratchpad_bytes(forward_pd_), src_.scratchpad(), weights_.scratchpad(), dst_.scratchpad()});
    if (!needs_backward_) return;

    convolution_backward_data::desc dd(algorithm::convolution_direct, any_src, any_weights, any_dst, strides, dilation,
                                       pad_l, pad_r);
    data_pd_ = convolution_backward_data::primitive_desc(dd, rt::attributes(), rt::engine(), forward_pd_);
    data_ = rt::create<convolution_backward_data>(data_pd_, created_);
    data_diff_dst_ = make_port(rt::plain(dst_dims), data_pd_.diff_dst_desc(), true, created_);
    // The forward's converted weights serve backward when the layouts agree.
    reuse_weights_ = data_pd_.weights_desc() == forward_pd_.weights_desc();
    if (!reuse_weights_) data_weights_ = make_port(rt::plain(weight_dims), data_pd_.weights_desc(), true, created_);
    diff_src_ = make_port(plain_src_, data_pd_.diff_src_desc(), false, created_);

    convolution_backward_weights::desc wd =
        has_bias_ ? convolution_backward_weights::desc(algorithm::convolution_direct, any_src, any_weights, bias,
                                                       any_dst, strides, dilation, pad_l, pad_r)
                  : convolution_backward_weights::desc(algorithm::convolution_direct, any_src, any_weights, any_dst,
                                                       strides, dilation, pad_l, pad_r);
    weights_pd_ = convolution_backward_weights::primitive_desc(wd, rt::attributes(), rt::engine(), forward_pd_);
    weights_grad_ = rt::create<convolution_backward_weights>(weights_pd_, created_);
    // The forward's converted input serves backward when the layouts agree.
    reuse_src_ = weights_pd_.src_desc() == forward_pd_.src_desc();
    if (!reuse_src_) weights_src_ = make_port(plain_src_, weights_pd_.src_desc(), true, created_);
    reuse_diff_dst_ = weights_pd_.diff_dst_desc() == data_pd_.diff_dst_desc();
    if (!reuse_diff_dst_)
      weights_diff_dst_ = make_port(rt::plain(dst_dims), weights_pd_.diff_dst_desc(), true, created_);
    diff_weights_ = make_port(rt::plain(weight_dims), weights_pd_.diff_weights_desc(), false, created_);
    scratchpad_ = std::max({scratchpad_, rt::scratchpad_bytes(data_pd_, weights_pd_), data_diff_dst_.scratchpad(),
                            data_weights_.scratchpad(), diff_src_.scratchpad(), weights_src_.scratchpad(),
                            weights_diff_dst_.scratchpad(), diff_weights_.scratchpad()});
  }

  int primitives_created() const override { return created_; }

  std::unique_ptr<KernelState> make_state() const override {
    auto state = std::make_unique<ConvState>();
    ConvState& s = *state;
    s.scratchpad_buffer = rt::Buffer(scratchpad_);
    s.scratchpad =
        rt::over(memory::desc({static_cast<int64_t>(scratchpad_)}, memory::data_type::u8, memory::format_tag::a),
                 s.scratchpad_buffer);
    if (explicit_pad_) s.padded_input = rt::Buffer(plain_src_.get_size());
    s.src.init(src_, true, s.scratchpad);
    s.weights.init(weights_, true, s.scratchpad);
    s.dst.init(dst_, false, s.scratchpad);
    s.forward_args = {{DNNL_ARG_SRC, s.src.inner},
                      {DNNL_ARG_WEIGHTS, s.weights.inner},
                      {DNNL_ARG_DST, s.dst.inner},
                      {DNNL_ARG_SCRATCHPAD, s.scratchpad}};
    if (has_bias_) s.forward_args[DNNL_ARG_BIAS] = s.bias = rt::external(forward_pd_.bias_desc());
    if (!needs_backward_) return state;

    if (explicit_pad_) s.padded_grad = rt::Buffer(plain_src_.get_size());
    s.data_diff_dst.init(data_diff_dst_, true, s.scratchpad);
    if (!reuse_weights_) s.data_weights.init(data_weights_, true, s.scratchpad);
    s.diff_src.init(diff_src_, false, s.scratchpad);
    s.data_args = {{DNNL_ARG_DIFF_DST, s.data_diff_dst.inner},
                   {DNNL_ARG_WEIGHTS, reuse_weights_ ? s.weights.inner : s.data_weights.inner},
                   {DNNL_ARG_DIFF_SRC, s.diff_src.inner},
                   {DNNL_ARG_SCRATCHPAD, s.scratchpad}};
    if (!reuse_src_) s.weights_src.init(weights_src_, true, s.scratchpad);
    if (!reuse_diff_dst_) s.weights_diff_dst.init(weights_diff_dst_, true, s.scratchpad);
    s.diff_weights.init(diff_weights_, false, s.scratchpad);
    // Where a gradient nobody asked for goes (oneDNN computes weights and
    // bias gradients together).
    s.spare_weights_grad = rt::Buffer(diff_weights_.plain.get_size());
    s.weights_args = {{DNNL_ARG_SRC, reuse_src_ ? s.src.inner : s.weights_src.inner},
                      {DNNL_ARG_DIFF_DST, reuse_diff_dst_ ? s.data_diff_dst.inner : s.weights_diff_dst.inner},
                      {DNNL_ARG_DIFF_WEIGHTS, s.diff_weights.inner},
                      {DNNL_ARG_SCRATCHPAD, s.scratchpad}};
    if (has_bias_) {
      s.spare_bias_grad = rt::Buffer(g_.out_channels * sizeof(float));
      s.weights_args[DNNL_ARG_DIFF_BIAS] = s.diff_bias = rt::external(weights_pd_.diff_bias_desc());
    }
    return state;
  }

  void forward(const ForwardArgs& args) const override {
    ConvState& s = *static_cast<ConvState*>(args.state);
    const float* x = args.inputs[0].f32();
    if (explicit_pad_) {
      pad_input(x, static_cast<float*>(s.padded_input.data()));
      x = static_cast<const float*>(s.padded_input.data());
    }
    s.src.take(src_, x);
    take_weights(s, args.params[0]);
    if (has_bias_) rt::bind(s.bias, args.params[1].f32());
    s.dst.bind_output(args.outputs[0].f32());
    rt::run(forward_, s.forward_args);
    s.dst.give(dst_);
    if (post_op_ && !post_op_in_primitive_)
      activation::apply_post_op(post_op_, args.outputs[0].f32(), args.outputs[0].numel());
  }

  bool post_op_in_primitive() const { return post_op_in_primitive_; }

  // The weights in the primitive's layout. Compiled for inference they are
  // converted only when they differ from the last ones converted: comparing
  // costs a read of the weights, converting (a reorder into a blocked
  // layout) several times that, every call. With backward they change every
  // step, so they are converted every time.
  void take_weights(ConvState& s, const Tensor& weights) const {
    const float* w = weights.f32();
    if (needs_backward_ || !weights_.converts()) return s.weights.take(weights_, w);
    const size_t count = static_cast<size_t>(weights.numel());
    // Bytes, not floats: a NaN weight equals itself, -0.0 differs from 0.0.
    if (s.weights_seen.size() == count && std::memcmp(w, s.weights_seen.data(), count * sizeof(float)) == 0) return;
    s.weights.take(weights_, w);
    s.weights_seen.assign(w, w + count);
  }

  void backward(const BackwardArgs& args) const override {
    ConvState& s = *static_cast<ConvState*>(args.state);
    const float* gy = args.grad_outputs[0].f32();
    Tensor& gx = args.grad_inputs[0];
    Tensor& gw = args.grad_params[0];
    const bool want_bias = has_bias_ && args.grad_params[1].defined();
    bool have_diff_dst = false;  // data_diff_dst holds gy already

    if (gx.defined()) {
      s.data_diff_dst.take(data_diff_dst_, gy);
      have_diff_dst = true;
      if (!reuse_weights_)
        s.data_weights.take(data_weights_, args.params[0].f32());
      else if (!weights_.converts())
        rt::bind(s.weights.plain, args.params[0].f32());
      float* target = explicit_pad_ ? static_cast<float*>(s.padded_grad.data()) : gx.f32();
      s.diff_src.bind_output(target);
      rt::run(data_, s.data_args);
      s.diff_src.give(diff_src_);
      if (explicit_pad_) fold_padding(target, gx.f32());
    }

    if (gw.defined() || want_bias) {
      const float* x = explicit_pad_ ? static_cast<const float*>(s.padded_input.data()) : args.inputs[0].f32();
      if (reuse_src_) {
        if (!src_.converts()) rt::bind(s.src.plain, x);  // plain: the caller's tensor itself
      } else {
        s.weights_src.take(weights_src_, x);
      }
      if (reuse_diff_dst_) {
        if (!have_diff_dst) s.data_diff_dst.take(data_diff_dst_, gy);
      } else {
        s.weights_diff_dst.take(weights_diff_dst_, gy);
      }
      s.diff_weights.bind_output(gw.defined() ? gw.f32() : s.spare_weights_grad.data());
      if (has_bias_) rt::bind(s.diff_bias, want_bias ? args.grad_params[1].f32() : s.spare_bias_grad.data());
      rt::run(weights_grad_, s.weights_args);
      s.diff_weights.give(diff_weights_);
    }
  }

 private:
  // The input with its border filled by the padding mode (reflect, replicate, circular).
  void pad_input(const float* x, float* padded) const {
    const int64_t planes = g_.batch * g_.in_channels;
#pragma omp parallel for schedule(static)
    for (int64_t p = 0; p < planes; ++p) {
      const float* xp = x + p * g_.in_h * g_.in_w;
      float* out = padded + p * padded_h_ * padded_w_;
      for (int64_t r = 0; r < padded_h_; ++r) {
        const float* row = xp + rows_[r] * g_.in_w;
        for (int64_t c = 0; c < padded_w_; ++c) *out++ = row[cols_[c]];
      }
    }
  }

  // The padded input's gradient summed back onto the cells each padded cell copies.
  void fold_padding(const float* padded_grad, float* gx) const {
    const int64_t planes = g_.batch * g_.in_channels;
#pragma omp parallel for schedule(static)
    for (int64_t p = 0; p < planes; ++p) {
      float* gp = gx + p * g_.in_h * g_.in_w;
      std::memset(gp, 0, sizeof(float) * g_.in_h * g_.in_w);
      const float* in = padded_grad + p * padded_h_ * padded_w_;
      for (int64_t r = 0; r < padded_h_; ++r) {
        float* row = gp + rows_[r] * g_.in_w;
        for (int64_t c = 0; c < padded_w_; ++c) row[cols_[c]] += *in++;
      }
    }
  }

  Geometry g_;
  bool has_bias_, needs_backward_, explicit_pad_ = false;
  PostOp post_op_;
  TensorLayoutRef offered_src_;  // the layout the input arrives in (null: plain)
  bool free_dst_;                // may leave the output in the primitive's layout
  bool post_op_in_primitive_ = false;
  int64_t padded_h_ = 0, padded_w_ = 0;
  std::vector<int64_t> rows_, cols_;  // padded row/column -> input row/column
  memory::desc plain_src_;
  convolution_forward::primitive_desc forward_pd_;
  convolution_forward forward_;
  convolution_backward_data::primitive_desc data_pd_;
  convolution_backward_data data_;
  convolution_backward_weights::primitive_desc weights_pd_;
  convolution_backward_weights weights_grad_;
  Port src_, weights_, dst_, data_diff_dst_, data_weights_, diff_src_, weights_src_, weights_diff_dst_, diff_weights_;
  bool reuse_src_ = false, reuse_weights_ = false, reuse_diff_dst_ = false;
  size_t scratchpad_ = 0;
  int created_ = 0;
};

}  // namespace

std::unique_ptr<Kernel> make_conv2d(const Geometry& geometry, bool has_bias, const KernelConfig& config,
                                    std::string& why) {
  if (geometry.batch == 0) {
    why = "empty input (batch 0): nothing to compute";
    return nullptr;
  }
  auto kernel = std::make_unique<ConvKernel>(geometry, has_bias, config);
  try {
    kernel->build();
  } catch (const dnnl::error& e) {
    why = fmt::format("oneDNN 2.6 cannot create this convolution ({})", e.what());
    return nullptr;
  }
  kernel->dispatch.forward = kernel->dispatch.backward = "onednn";
  return kernel;
}

}  // namespace mininn::conv::onednn
