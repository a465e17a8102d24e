// Pooling on oneDNN 2.6 with PyTorch's exact results.
//
// Every pool becomes one pooling_v2 primitive over the plain (N, C, *spatial)
// layout the executor hands over:
//   * ceil_mode  -> a larger right padding (Axis::right_pad);
//   * adaptive   -> kernel = stride = in/out when every size divides;
//   * avg with count_include_pad and a ceil overhang -> the input copied into
//     a zero-padded buffer, then exclude-padding average (oneDNN's
//     include-padding divides the overhanging windows by the full kernel).
// Max pooling keeps oneDNN's workspace (the tap of each maximum) in the
// KernelState for backward and turns it into PyTorch's int64 indices with a
// table: index = flat(window origin) + lut[tap]. Two differences are fixed at
// run time: a NaN in the input sends the call to the naive loop (oneDNN skips
// NaN), and outputs equal to -FLT_MAX (oneDNN's value for an all -inf
// window) are recomputed. docs/onednn.md has the details and measurements.
#include "ops/pool/onednn.h"

#include "framework/error.h"
#include "ops/onednn/runtime.h"

#include <fmt/format.h>

#include <cfloat>
#include <cmath>
#include <cstring>
#include <limits>
#include <optional>

namespace mininn::pool::onednn {
namespace {

namespace rt = mininn::onednn;
using dnnl::algorithm;
using dnnl::memory;
using dnnl::pooling_v2_backward;
using dnnl::pooling_v2_forward;
using dnnl::prop_kind;
using rt::Dims;

constexpr float kMinusInf = -std::numeric_limits<float>::infinity();

// The primitive a pool becomes: what oneDNN is asked to compute.
struct Problem {
  algorithm kind = algorithm::pooling_max;
  Dims src, dst;  // {N, C, *spatial}
  Dims kernel, strides, dilation, pad_l, pad_r;
};

// Canonical (D, H, W) geometry -> oneDNN's arrays over the last `rank` axes.
Problem problem_of(const Geometry& g, int rank, int64_t batch, int64_t channels, algorithm kind) {
  Problem p;
  p.kind = kind;
  p.src = {batch, channels};
  p.dst = {batch, channels};
  for (int i = 3 - rank; i < 3; ++i) {
    const Axis& a = g.axes[i];
    p.src.push_back(a.in);
    p.dst.push_back(a.out);
    p.kernel.push_back(a.kernel);
    p.strides.push_back(a.stride);
    p.dilation.push_back(a.dilation - 1);  // oneDNN counts dilation from 0
    p.pad_l.push_back(a.pad);
    p.pad_r.push_back(a.right_pad());
  }
  return p;
}

std::string sizes_text(const Geometry& g, int rank, bool out) {
  std::string text;
  for (int i = 3 - rank; i < 3; ++i) text += (text.empty() ? "" : "x") + std::to_string(out ? g.axes[i].out : g.axes[i].in);
  return text;
}

// The pool with the adaptive windows written as a sliding window, when every
// input size is a multiple of its output size.
std::optional<Geometry> adaptive_as_sliding(const Geometry& adaptive, int rank, std::string& why) {
  if (adaptive.out_plane() == 0) {
    why = "empty output: nothing to compute";
    return std::nullopt;
  }
  Geometry g = adaptive;
  for (Axis& a : g.axes) {
    if (a.in % a.out != 0) {
      why = fmt::format("output size {} does not divide input size {}: windows of varying size",
                        sizes_text(adaptive, rank, true), sizes_text(adaptive, rank, false));
      return std::nullopt;
    }
    a.kernel = a.stride = a.in / a.out;
    a.pad = 0;
    a.dilation = 1;
  }
  return g;
}

// Batch and channels of the node's input.
Layout input_layout(const KernelConfig& config, int rank) { return split(config.inputs[0].shape, rank); }

const char* kReferenceWhy = "oneDNN 2.6 has only its scalar reference kernel (ref:any) for this";

// The primitives of one pooling node, created at compile time.
struct Primitives {
  Problem problem;
  pooling_v2_forward::primitive_desc forward_pd;
  pooling_v2_forward forward;
  pooling_v2_backward::primitive_desc backward_pd;  // empty when backward is naive or not compiled
  pooling_v2_backward backward;
  bool has_backward = false;
  int created = 0;
  std::string backward_why;  // why backward is naive, if it is

  // Builds the forward primitive and, when `with_backward`, the backward
  // one; under Backend::Auto a direction oneDNN would run in its reference
  // kernel is left to the naive loop. Returns false (and `why`) when the
  // forward cannot run on oneDNN.
  bool build(const Problem& p, bool training, bool with_backward, Backend backend, std::string& why) {
    problem = p;
    try {
      pooling_v2_forward::desc fd(training ? prop_kind::forward_training : prop_kind::forward_inference, p.kind,
                                  rt::plain(p.src), rt::plain(p.dst), p.strides, p.kernel, p.dilation, p.pad_l,
                                  p.pad_r);
      forward_pd = pooling_v2_forward::primitive_desc(fd, rt::attributes(), rt::engine());
      if (backend == Backend::Auto && rt::is_reference(forward_pd)) {
        why = kReferenceWhy;
        return false;
      }
      if (with_backward) {
        pooling_v2_backward::desc bd(p.kind, rt::plain(p.src), rt::plain(p.dst), p.strides, p.kernel, p.dilation,
                                     p.pad_l, p.pad_r);
        backward_pd = pooling_v2_backward::primitive_desc(bd, rt::attributes(), rt::engine(), forward_pd);
        if (backend == Backend::Auto && rt::is_reference(backward_pd)) backward_why = std::string("backward: ") + kReferenceWhy;
        else has_backward = true;
      }
      forward = rt::create<pooling_v2_forward>(forward_pd, created);
      if (has_backward) backward = rt::create<pooling_v2_backward>(backward_pd, created);
    } catch (const dnnl::error& e) {
      why = fmt::format("oneDNN 2.6 cannot create this pooling ({})", e.what());
      return false;
    }
    return true;
  }

  size_t scratchpad_bytes() const {
    return has_backward ? rt::scratchpad_bytes(forward_pd, backward_pd) : rt::scratchpad_bytes(forward_pd);
  }

  void describe(Dispatch& dispatch) const {
    dispatch.forward = "onednn";
    dispatch.backward = has_backward || backward_why.empty() ? "onednn" : "naive";
    dispatch.reason = backward_why;
  }
};

// ---------------------------------------------------------------------------
// Max pooling (MaxPool, and AdaptiveMaxPool written as a sliding window).

struct MaxState final : KernelState {
  rt::Buffer scratchpad, workspace;
  memory src, dst, diff_src, diff_dst;
  rt::Args forward_args, backward_args;
  Tensor indices;              // int64, when backward must use the naive scatter
  bool ran_naive = false;      // this forward met a NaN and ran the naive loop
};

class MaxPoolKernel final : public Kernel {
 public:
  MaxPoolKernel(const Geometry& geometry, bool returns_indices, bool needs_backward, Primitives primitives)
      : geometry_(geometry),
        returns_indices_(returns_indices),
        needs_backward_(needs_backward),
        prims_(std::move(primitives)) {
    prims_.describe(dispatch);
    if (keeps_workspace()) workspace_ = prims_.forward_pd.workspace_desc();
    // lut[tap] = offset of the tap from the window origin in the input plane.
    const Axis &d = geometry_.axes[0], &h = geometry_.axes[1], &w = geometry_.axes[2];
    for (int64_t kd = 0; kd < d.kernel; ++kd)
      for (int64_t kh = 0; kh < h.kernel; ++kh)
        for (int64_t kw = 0; kw < w.kernel; ++kw)
          lut_.push_back((kd * d.dilation * h.in + kh * h.dilation) * w.in + kw * w.dilation);
  }

  // A workspace is produced by forward_training: for indices and backward.
  bool keeps_workspace() const { return returns_indices_ || needs_backward_; }
  bool workspace_is_plain() const {
    return rt::is_plain(workspace_) &&
           (workspace_.data_type() == memory::data_type::u8 || workspace_.data_type() == memory::data_type::s32);
  }

  int primitives_created() const override { return prims_.created; }

  std::unique_ptr<KernelState> make_state() const override {
    auto state = std::make_unique<MaxState>();
    state->scratchpad = rt::Buffer(prims_.scratchpad_bytes());
    memory scratch = rt::over(prims_.forward_pd.scratchpad_desc(), state->scratchpad);
    state->src = rt::external(prims_.forward_pd.src_desc());
    state->dst = rt::external(prims_.forward_pd.dst_desc());
    state->forward_args = {{DNNL_ARG_SRC, state->src}, {DNNL_ARG_DST, state->dst}, {DNNL_ARG_SCRATCHPAD, scratch}};
    if (keeps_workspace()) {
      state->workspace = rt::Buffer(workspace_.get_size());
      memory ws = rt::over(workspace_, state->workspace);
      state->forward_args[DNNL_ARG_WORKSPACE] = ws;
      if (prims_.has_backward) {
        state->diff_src = rt::external(prims_.backward_pd.diff_src_desc());
        state->diff_dst = rt::external(prims_.backward_pd.diff_dst_desc());
        state->backward_args = {{DNNL_ARG_DIFF_SRC, state->diff_src},
                                {DNNL_ARG_DIFF_DST, state->diff_dst},
                                {DNNL_ARG_WORKSPACE, ws},
                                {DNNL_ARG_SCRATCHPAD, rt::over(prims_.backward_pd.scratchpad_desc(), state->scratchpad)}};
      }
    }
    if (needs_backward_ && !prims_.has_backward && !returns_indices_)
      state->indices = Tensor::empty({geometry_.planes * geometry_.out_plane()}, DType::Int64);
    return state;
  }

  void forward(const ForwardArgs& args) const override {
    MaxState& state = *static_cast<MaxState*>(args.state);
    const Tensor& input = args.inputs[0];
    float* y = args.outputs[0].f32();
    int64_t* indices = returns_indices_ ? args.outputs[1].i64() : nullptr;

    // oneDNN skips NaN, PyTorch propagates it: such an input runs the naive
    // loop for this call (and backward then scatters by its indices).
    state.ran_naive = rt::contains_nan(input.f32(), input.numel());
    if (state.ran_naive) {
      if (!indices && needs_backward_) {
        if (!state.indices.defined()) state.indices = Tensor::empty({geometry_.planes * geometry_.out_plane()}, DType::Int64);
        indices = state.indices.i64();
      }
      max_forward(geometry_, input.f32(), y, indices);
      return;
    }

    rt::bind(state.src, input.f32());
    rt::bind(state.dst, y);
    rt::run(prims_.forward, state.forward_args);
    fix_lowest(state, input.f32(), y);
    if (!indices && needs_backward_ && !prims_.has_backward) indices = state.indices.i64();
    if (indices) workspace_to_indices(state.workspace.data(), indices);
  }

  void backward(const BackwardArgs& args) const override {
    if (!args.grad_inputs[0].defined()) return;
    MaxState& state = *static_cast<MaxState*>(args.state);
    const float* gy = args.grad_outputs[0].f32();
    float* gx = args.grad_inputs[0].f32();
    if (state.ran_naive || !prims_.has_backward) {
      const int64_t* indices = returns_indices_ ? args.outputs[1].i64() : state.indices.i64();
      max_backward(geometry_, gy, indices, gx);
      return;
    }
    rt::bind(state.diff_dst, gy);
    rt::bind(state.diff_src, gx);
    rt::run(prims_.backward, state.backward_args);
  }

 private:
  // PyTorch's scan of one window: the maximum (NaN wins, the first of equal
  // values stays) and its tap number counted from the window origin.
  void scan_window(const float* plane, int64_t od, int64_t oh, int64_t ow, float& best, int64_t& tap) const {
    const Axis &ad = geometry_.axes[0], &ah = geometry_.axes[1], &aw = geometry_.axes[2];
    const Taps td = taps(ad, od), th = taps(ah, oh), tw = taps(aw, ow);
    best = kMinusInf;
    tap = (td.first * ah.kernel + th.first) * aw.kernel + tw.first;
    for (int64_t jd = td.first; jd < td.last; ++jd)
      for (int64_t jh = th.first; jh < th.last; ++jh) {
        const int64_t row = ((ad.start(od) + jd * ad.dilation) * ah.in + ah.start(oh) + jh * ah.dilation) * aw.in;
        for (int64_t jw = tw.first; jw < tw.last; ++jw) {
          const float v = plane[row + aw.start(ow) + jw * aw.dilation];
          if (v > best || std::isnan(v)) {
            best = v;
            tap = (jd * ah.kernel + jh) * aw.kernel + jw;
          }
        }
      }
  }

  // oneDNN starts every window at -FLT_MAX and tap 0: a window whose maximum
  // is -FLT_MAX or -inf comes out as -FLT_MAX with possibly the wrong tap
  // (PyTorch: -inf, the first in-bounds tap). Those outputs are redone.
  void fix_lowest(MaxState& state, const float* x, float* y) const {
    const int64_t out_plane = geometry_.out_plane(), in_plane = geometry_.in_plane();
    const int64_t count = geometry_.planes * out_plane;
    void* ws = keeps_workspace() ? state.workspace.data() : nullptr;
    const bool ws_u8 = workspace_.data_type() == memory::data_type::u8;
    if (!rt::contains(y, count, -FLT_MAX)) return;
    const Axis &ah = geometry_.axes[1], &aw = geometry_.axes[2];
#pragma omp parallel for schedule(static) if (count > (1 << 16))
    for (int64_t i = 0; i < count; ++i) {
      if (y[i] != -FLT_MAX) continue;
      const int64_t p = i / out_plane, o = i % out_plane;
      const int64_t ow = o % aw.out, oh = (o / aw.out) % ah.out, od = o / (aw.out * ah.out);
      float best;
      int64_t tap;
      scan_window(x + p * in_plane, od, oh, ow, best, tap);
      y[i] = best;
      if (ws && ws_u8) static_cast<uint8_t*>(ws)[i] = static_cast<uint8_t>(tap);
      else if (ws) static_cast<int32_t*>(ws)[i] = static_cast<int32_t>(tap);
    }
  }

  // PyTorch's int64 index of every maximum from oneDNN's workspace (plain
  // layout, one u8/s32 tap per output): flat(window origin) + lut[tap].
  void workspace_to_indices(const void* ws, int64_t* indices) const {
    if (workspace_.data_type() == memory::data_type::u8) convert(static_cast<const uint8_t*>(ws), indices);
    else convert(static_cast<const int32_t*>(ws), indices);
  }

  template <typename Tap>
  void convert(const Tap* ws, int64_t* indices) const {
    const Axis &ad = geometry_.axes[0], &ah = geometry_.axes[1], &aw = geometry_.axes[2];
    const int64_t out_plane = geometry_.out_plane();
    const int64_t* lut = lut_.data();
#pragma omp parallel for schedule(static)
    for (int64_t p = 0; p < geometry_.planes; ++p) {
      const Tap* wp = ws + p * out_plane;
      int64_t* ip = indices + p * out_plane;
      for (int64_t od = 0; od < ad.out; ++od)
        for (int64_t oh = 0; oh < ah.out; ++oh) {
          const int64_t row = (ad.start(od) * ah.in + ah.start(oh)) * aw.in - aw.pad;
          const int64_t o = (od * ah.out + oh) * aw.out;
          for (int64_t ow = 0; ow < aw.out; ++ow) ip[o + ow] = row + ow * aw.stride + lut[wp[o + ow]];
        }
    }
  }

  Geometry geometry_;  // sliding-window geometry of what oneDNN computes
  bool returns_indices_, needs_backward_;
  Primitives prims_;
  memory::desc workspace_;
  std::vector<int64_t> lut_;
};

std::unique_ptr<Kernel> build_max(const Geometry& g, int rank, bool returns_indices, const KernelConfig& config,
                                  std::string& why) {
  Layout layout = input_layout(config, rank);
  if (g.planes == 0) {
    why = "empty input (batch 0): nothing to compute";
    return nullptr;
  }
  Problem p = problem_of(g, rank, layout.batch, layout.channels, algorithm::pooling_max);
  const bool workspace = returns_indices || config.needs_backward;
  Primitives prims;
  if (!prims.build(p, workspace, config.needs_backward, config.backend, why)) return nullptr;
  auto kernel = std::make_unique<MaxPoolKernel>(g, returns_indices, config.needs_backward, std::move(prims));
  if (workspace && !kernel->workspace_is_plain()) {
    why = "oneDNN chose a workspace layout mininn cannot decode into indices";
    return nullptr;
  }
  return kernel;
}

// ---------------------------------------------------------------------------
// Average pooling (AvgPool, and AdaptiveAvgPool written as a sliding window).

struct AvgState final : KernelState {
  rt::Buffer scratchpad, padded_src, padded_grad;
  memory src, dst, diff_src, diff_dst;
  rt::Args forward_args, backward_args;
};

// How the naive loop runs a direction oneDNN does not.
struct AvgFallback {
  Geometry geometry;  // the node's own geometry (adaptive: in/out only)
  bool adaptive = false;
  AvgOptions options;
};

class AvgPoolKernel final : public Kernel {
 public:
  // `pad`: the zeros the input is padded with before oneDNN sees it, per
  // canonical axis (0 when oneDNN's own padding rules give PyTorch's divisor).
  AvgPoolKernel(const Geometry& geometry, int rank, std::array<int64_t, 3> pad, Primitives primitives,
                AvgFallback fallback)
      : geometry_(geometry), rank_(rank), pad_(pad), prims_(std::move(primitives)), fallback_(std::move(fallback)) {
    prims_.describe(dispatch);
    for (int64_t p : pad_) padded_ = padded_ || p > 0;
  }

  int primitives_created() const override { return prims_.created; }

  std::unique_ptr<KernelState> make_state() const override {
    auto state = std::make_unique<AvgState>();
    state->scratchpad = rt::Buffer(prims_.scratchpad_bytes());
    if (padded_) {
      state->padded_src = padded_buffer();
      state->src = rt::over(prims_.forward_pd.src_desc(), state->padded_src);
    } else {
      state->src = rt::external(prims_.forward_pd.src_desc());
    }
    state->dst = rt::external(prims_.forward_pd.dst_desc());
    state->forward_args = {{DNNL_ARG_SRC, state->src},
                           {DNNL_ARG_DST, state->dst},
                           {DNNL_ARG_SCRATCHPAD, rt::over(prims_.forward_pd.scratchpad_desc(), state->scratchpad)}};
    if (prims_.has_backward) {
      if (padded_) {
        state->padded_grad = padded_buffer();
        state->diff_src = rt::over(prims_.backward_pd.diff_src_desc(), state->padded_grad);
      } else {
        state->diff_src = rt::external(prims_.backward_pd.diff_src_desc());
      }
      state->diff_dst = rt::external(prims_.backward_pd.diff_dst_desc());
      state->backward_args = {{DNNL_ARG_DIFF_SRC, state->diff_src},
                              {DNNL_ARG_DIFF_DST, state->diff_dst},
                              {DNNL_ARG_SCRATCHPAD, rt::over(prims_.backward_pd.scratchpad_desc(), state->scratchpad)}};
    }
    return state;
  }

  void forward(const ForwardArgs& args) const override {
    AvgState& state = *static_cast<AvgState*>(args.state);
    if (padded_) copy_into_padded(args.inputs[0].f32(), static_cast<float*>(state.padded_src.data()));
    else rt::bind(state.src, args.inputs[0].f32());
    rt::bind(state.dst, args.outputs[0].f32());
    rt::run(prims_.forward, state.forward_args);
  }

  void backward(const BackwardArgs& args) const override {
    if (!args.grad_inputs[0].defined()) return;
    const float* gy = args.grad_outputs[0].f32();
    float* gx = args.grad_inputs[0].f32();
    if (!prims_.has_backward) {
      if (fallback_.adaptive) adaptive_avg_backward(fallback_.geometry, gy, gx);
      else avg_backward(fallback_.geometry, fallback_.options, gy, gx);
      return;
    }
    AvgState& state = *static_cast<AvgState*>(args.state);
    rt::bind(state.diff_dst, gy);
    if (!padded_) rt::bind(state.diff_src, gx);
    rt::run(prims_.backward, state.backward_args);
    if (padded_) copy_from_padded(static_cast<const float*>(state.padded_grad.data()), gx);
  }

 private:
  // A zero-filled buffer for the padded input: its borders stay zero, every
  // run copies only the interior.
  rt::Buffer padded_buffer() const {
    int64_t volume = geometry_.planes;
    for (int i = 0; i < 3; ++i) volume *= geometry_.axes[i].in + 2 * pad_[i];
    return rt::Buffer(static_cast<size_t>(volume) * sizeof(float), true);
  }

  // Copies rows between the input (dense) and the interior of the padded
  // buffer; `to_padded` says which way.
  template <bool to_padded>
  void copy_rows(const float* from, float* to) const {
    const Axis &d = geometry_.axes[0], &h = geometry_.axes[1], &w = geometry_.axes[2];
    const int64_t pd = d.in + 2 * pad_[0], ph = h.in + 2 * pad_[1], pw = w.in + 2 * pad_[2];
    const int64_t rows = geometry_.planes * d.in * h.in;
#pragma omp parallel for schedule(static)
    for (int64_t r = 0; r < rows; ++r) {
      const int64_t ih = r % h.in, id = (r / h.in) % d.in, p = r / (h.in * d.in);
      const int64_t padded_row = ((p * pd + id + pad_[0]) * ph + ih + pad_[1]) * pw + pad_[2];
      if constexpr (to_padded) std::memcpy(to + padded_row, from + r * w.in, sizeof(float) * w.in);
      else std::memcpy(to + r * w.in, from + padded_row, sizeof(float) * w.in);
    }
  }
  void copy_into_padded(const float* x, float* padded) const { copy_rows<true>(x, padded); }
  void copy_from_padded(const float* padded, float* gx) const { copy_rows<false>(padded, gx); }

  Geometry geometry_;  // the node's sliding geometry (unpadded input)
  int rank_;
  std::array<int64_t, 3> pad_;
  bool padded_ = false;
  Primitives prims_;
  AvgFallback fallback_;
};

std::unique_ptr<Kernel> build_avg(const Geometry& g, int rank, const AvgOptions& options, bool adaptive,
                                  const Geometry& naive_geometry, const KernelConfig& config, std::string& why) {
  if (g.planes == 0) {
    why = "empty input (batch 0): nothing to compute";
    return nullptr;
  }
  bool overhang = false, any_pad = false;
  for (const Axis& a : g.axes) {
    overhang = overhang || a.right_pad() > a.pad;
    any_pad = any_pad || a.pad > 0;
  }
  if (options.divisor_override) {
    // Only an override equal to every window's own size is exact; oneDNN's
    // way to scale (an eltwise post-op) rounds differently from PyTorch.
    if (options.divisor_override != g.kernel_volume() || overhang) {
      why = fmt::format("divisor_override={}: oneDNN divides by the window size, and rescaling is not bit-exact",
                        options.divisor_override);
      return nullptr;
    }
  }
  Layout layout = input_layout(config, rank);
  const bool include = options.count_include_pad || options.divisor_override;
  std::array<int64_t, 3> pad = {0, 0, 0};
  Problem p;
  if (include && overhang) {
    // oneDNN's include-padding divides the windows hanging over the ceil edge
    // by the full kernel; PyTorch counts padding but not the overhang. Zero
    // padding made real cells + exclude-padding gives PyTorch's divisor.
    Geometry padded = g;
    for (int i = 0; i < 3; ++i) {
      Axis& a = padded.axes[i];
      pad[i] = a.pad;
      a.in += 2 * a.pad;
      a.pad = 0;
    }
    p = problem_of(padded, rank, layout.batch, layout.channels, algorithm::pooling_avg_exclude_padding);
  } else {
    algorithm kind = include && any_pad ? algorithm::pooling_avg_include_padding : algorithm::pooling_avg_exclude_padding;
    p = problem_of(g, rank, layout.batch, layout.channels, kind);
  }
  Primitives prims;
  if (!prims.build(p, config.needs_backward, config.needs_backward, config.backend, why)) return nullptr;
  return std::make_unique<AvgPoolKernel>(g, rank, pad, std::move(prims), AvgFallback{naive_geometry, adaptive, options});
}

}  // namespace

std::unique_ptr<Kernel> make_max_pool(const Geometry& geometry, const Window& window, bool returns_indices,
                                      const KernelConfig& config, std::string& why) {
  return build_max(geometry, static_cast<int>(window.kernel.size()), returns_indices, config, why);
}

std::unique_ptr<Kernel> make_avg_pool(const Geometry& geometry, const Window& window, const AvgOptions& options,
                                      const KernelConfig& config, std::string& why) {
  return build_avg(geometry, static_cast<int>(window.kernel.size()), options, false, geometry, config, why);
}

std::unique_ptr<Kernel> make_adaptive_avg_pool(const Geometry& geometry, int rank, const KernelConfig& config,
                                               std::string& why) {
  std::optional<Geometry> sliding = adaptive_as_sliding(geometry, rank, why);
  if (!sliding) return nullptr;
  return build_avg(*sliding, rank, AvgOptions{false, 0}, true, geometry, config, why);
}

std::unique_ptr<Kernel> make_adaptive_max_pool(const Geometry& geometry, int rank, bool returns_indices,
                                               const KernelConfig& config, std::string& why) {
  std::optional<Geometry> sliding = adaptive_as_sliding(geometry, rank, why);
  if (!sliding) return nullptr;
  return build_max(*sliding, rank, returns_indices, config, why);
}

}  // namespace mininn::pool::onednn
