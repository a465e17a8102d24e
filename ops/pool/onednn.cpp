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
#include "framework/error.h"
#include "ops/pool/onednn_internal.h"

#include <fmt/format.h>

#include <array>
#include <cstring>
#include <optional>

namespace mininn::pool::onednn {
namespace detail {

namespace {

// Splits `count` planes into (channels, rows) for the rows view of a 1-d
// pool: rows >= 2 and channels a multiple of 16 if possible, else >= 4;
// {count, 1} when no such split exists.
std::pair<int64_t, int64_t> rows_split(int64_t count) {
  for (int64_t rows = 2; rows <= count / 16; ++rows)
    if (count % rows == 0 && (count / rows) % 16 == 0) return {count / rows, rows};
  for (int64_t rows = 2; rows <= count / 4; ++rows)
    if (count % rows == 0) return {count / rows, rows};
  return {count, 1};
}

// Why oneDNN 2.6 settles for simple_nchw on a plain layout (spec:
// onednn-notes.md section 4): its JIT transposes plain planes to blocks of
// 16 only with 4 or more channels, planes at least 2x2, and a block of 16
// input and output planes within its per-core share of the L3 cache.
std::string simple_nchw_cause(const Problem& p) {
  const int64_t channels = p.src[1];
  if (channels < 4) return fmt::format("N*C = {} plane{}, its JIT needs 4 or more", channels, channels == 1 ? "" : "s");
  if (p.src.size() < 4 || p.src[p.src.size() - 2] == 1 || p.src.back() == 1) return "planes 1 high or 1 wide";
  std::string plane;
  for (size_t i = 2; i < p.src.size(); ++i) plane += (i > 2 ? "x" : "") + std::to_string(p.src[i]);
  return fmt::format("{} planes are too large for its JIT's per-core cache blocks", plane);
}

}  // namespace

Problem problem_of(const Geometry& g, int rank, int64_t count, algorithm kind) {
  Problem p;
  p.kind = kind;
  p.src = {1, count};
  p.dst = {1, count};
  if (rank == 1) {
    auto [channels, rows] = rows_split(count);
    if (rows > 1) {
      p.src = {1, channels, rows};
      p.dst = {1, channels, rows};
      p.kernel = p.strides = {1};
      p.dilation = p.pad_l = p.pad_r = {0};
    }
  }
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

pooling_v2_forward::primitive_desc pooling_forward_pd(const Problem& p, bool training) {
  pooling_v2_forward::desc fd(training ? prop_kind::forward_training : prop_kind::forward_inference, p.kind,
                              rt::plain(p.src), rt::plain(p.dst), p.strides, p.kernel, p.dilation, p.pad_l, p.pad_r);
  return pooling_v2_forward::primitive_desc(fd, rt::attributes(), rt::engine());
}

bool Primitives::build(const Problem& p, bool training, bool with_backward, Backend backend, std::string& why,
                       bool create_forward, const NaivePreference& prefer) {
  problem = p;
  try {
    forward_pd = pooling_forward_pd(p, training);
    if (backend == Backend::Auto && rt::is_reference(forward_pd)) {
      why = kReferenceWhy;
      return false;
    }
    if (backend == Backend::Auto) {
      // Measured with the naive fast paths: 5-30x faster than simple_nchw
      // forward (see naive_fast.cpp), and backward faster or even.
      if (prefer.over_simple_nchw && rt::implementation(forward_pd).rfind("simple_nchw", 0) == 0) {
        why = fmt::format("oneDNN 2.6 runs this only in its scalar simple_nchw kernel ({}); mininn's loop is faster",
                          simple_nchw_cause(p));
        return false;
      }
      if (!prefer.over_jit.empty() && rt::implementation(forward_pd).rfind("jit", 0) == 0) {
        why = prefer.over_jit;
        return false;
      }
    }
    if (with_backward) {
      pooling_v2_backward::desc bd(p.kind, rt::plain(p.src), rt::plain(p.dst), p.strides, p.kernel, p.dilation, p.pad_l,
                                   p.pad_r);
      backward_pd = pooling_v2_backward::primitive_desc(bd, rt::attributes(), rt::engine(), forward_pd);
      if (backend == Backend::Auto && rt::is_reference(backward_pd))
        backward_why = std::string("backward: ") + kReferenceWhy;
      else
        has_backward = true;
    }
    if (create_forward) forward = rt::create<pooling_v2_forward>(forward_pd, created);
    if (has_backward) backward = rt::create<pooling_v2_backward>(backward_pd, created);
  } catch (const dnnl::error& e) {
    why = fmt::format("oneDNN 2.6 cannot create this pooling ({})", e.what());
    return false;
  }
  return true;
}

}  // namespace detail

namespace {

using namespace detail;

std::string sizes_text(const Geometry& g, int rank, bool out) {
  std::string text;
  for (int i = 3 - rank; i < 3; ++i)
    text += (text.empty() ? "" : "x") + std::to_string(out ? g.axes[i].out : g.axes[i].in);
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
  AvgPoolKernel(const Geometry& geometry, std::array<int64_t, 3> pad, Primitives primitives, AvgFallback fallback)
      : geometry_(geometry), pad_(pad), prims_(std::move(primitives)), fallback_(std::move(fallback)) {
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
    if (padded_)
      copy_into_padded(args.inputs[0].f32(), static_cast<float*>(state.padded_src.data()));
    else
      rt::bind(state.src, args.inputs[0].f32());
    rt::bind(state.dst, args.outputs[0].f32());
    rt::run(prims_.forward, state.forward_args);
  }

  void backward(const BackwardArgs& args) const override {
    if (!args.grad_inputs[0].defined()) return;
    const float* gy = args.grad_outputs[0].f32();
    float* gx = args.grad_inputs[0].f32();
    if (!prims_.has_backward) {
      if (fallback_.adaptive)
        adaptive_avg_backward(fallback_.geometry, gy, gx);
      else
        avg_backward(fallback_.geometry, fallback_.options, gy, gx);
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
      if constexpr (to_padded)
        std::memcpy(to + padded_row, from + r * w.in, sizeof(float) * w.in);
      else
        std::memcpy(to + r * w.in, from + padded_row, sizeof(float) * w.in);
    }
  }
  void copy_into_padded(const float* x, float* padded) const { copy_rows<true>(x, padded); }
  void copy_from_padded(const float* padded, float* gx) const { copy_rows<false>(padded, gx); }

  Geometry geometry_;  // the node's sliding geometry (unpadded input)
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
    p = problem_of(padded, rank, g.planes, algorithm::pooling_avg_exclude_padding);
  } else {
    algorithm kind =
        include && any_pad ? algorithm::pooling_avg_include_padding : algorithm::pooling_avg_exclude_padding;
    p = problem_of(g, rank, g.planes, kind);
  }
  if (pad == std::array<int64_t, 3>{0, 0, 0})
    if (auto kernel = build_layout_pool(g, rank, p.kind, config, why)) return kernel;
  Primitives prims;
  if (!prims.build(p, config.needs_backward, config.needs_backward, config.backend, why, true,
                   NaivePreference{!adaptive, ""}))
    return nullptr;
  return std::make_unique<AvgPoolKernel>(g, pad, std::move(prims), AvgFallback{naive_geometry, adaptive, options});
}

}  // namespace

std::unique_ptr<Kernel> make_max_pool(const Geometry& geometry, const Window& window, bool returns_indices,
                                      const KernelConfig& config, std::string& why) {
  return detail::build_max(geometry, static_cast<int>(window.kernel.size()), returns_indices, false, config, why);
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
  return detail::build_max(*sliding, rank, returns_indices, true, config, why);
}

}  // namespace mininn::pool::onednn
