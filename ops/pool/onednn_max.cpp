// Max pooling on oneDNN (MaxPool, and AdaptiveMaxPool written as a sliding
// window), with PyTorch's values and int64 indices: see onednn.cpp and
// docs/onednn.md.
#include "framework/error.h"
#include "ops/pool/onednn_internal.h"

#include <fmt/format.h>
#include <omp.h>

#include <algorithm>
#include <cfloat>
#include <cmath>

namespace mininn::pool::onednn::detail {
namespace {

// ---------------------------------------------------------------------------
// Max pooling (MaxPool, and AdaptiveMaxPool written as a sliding window).
//
// A large input is processed in chunks of consecutive planes, one chunk per
// thread at a time: the NaN scan brings the chunk into the core's cache, the
// pooling reads it from there, and the -FLT_MAX fix-up and the int64
// indices read the fresh output and workspace from there too. So the
// exactness checks cost little memory traffic on top of the pooling itself.
// oneDNN runs single-threaded inside the parallel loop (it does so inside
// any OpenMP parallel region), each thread with its own scratchpad.

// Input bytes of one chunk: well inside a core's L2 with output and workspace.
constexpr int64_t kChunkBytes = int64_t{1} << 20;

// A forward primitive over `planes` consecutive planes, as {1, planes, *spatial}.
struct PlaneForward {
  int64_t planes = 0;
  pooling_v2_forward::primitive_desc pd;
  pooling_v2_forward primitive;
};

// One thread's memories for one PlaneForward.
struct PlaneRun {
  memory src, dst, workspace;
  rt::Args args;
};

struct MaxState final : KernelState {
  std::vector<rt::Buffer> scratchpads;  // one per thread
  rt::Buffer workspace;                 // the whole tensor's, plain: tap per output
  std::vector<PlaneRun> main, tail;     // per thread
  memory diff_src, diff_dst;
  rt::Args backward_args;
  Tensor indices;                  // int64, when backward scatters naively
  std::vector<char> naive_chunks;  // the chunks of the last forward that met a NaN
  bool ran_naive = false;          // ... any of them
};

class MaxPoolKernel final : public Kernel {
 public:
  MaxPoolKernel(const Geometry& geometry, int rank, bool returns_indices, bool needs_backward, Primitives primitives)
      : geometry_(geometry),
        rank_(rank),
        returns_indices_(returns_indices),
        needs_backward_(needs_backward),
        prims_(std::move(primitives)) {
    prims_.describe(dispatch);
    // lut[tap] = offset of the tap from the window origin in the input plane.
    const Axis &d = geometry_.axes[0], &h = geometry_.axes[1], &w = geometry_.axes[2];
    for (int64_t kd = 0; kd < d.kernel; ++kd)
      for (int64_t kh = 0; kh < h.kernel; ++kh)
        for (int64_t kw = 0; kw < w.kernel; ++kw)
          lut_.push_back((kd * d.dilation * h.in + kh * h.dilation) * w.in + kw * w.dilation);
  }

  // Creates the plane-chunk primitives; throws dnnl::error.
  void build() {
    const int64_t planes = geometry_.planes, in_bytes = geometry_.in_plane() * int64_t{sizeof(float)};
    chunk_planes_ = std::max<int64_t>(16, kChunkBytes / std::max<int64_t>(in_bytes, 1) / 16 * 16);
    if (omp_get_max_threads() < 2 || 2 * chunk_planes_ > planes) chunk_planes_ = planes;
    chunks_ = (planes + chunk_planes_ - 1) / chunk_planes_;
    main_ = plane_forward(chunk_planes_);
    if (planes % chunk_planes_) tail_ = plane_forward(planes % chunk_planes_);
    if (keeps_workspace()) workspace_ = main_.pd.workspace_desc();
  }

  // Backward is the naive scatter by int64 indices the node does not output.
  bool backward_scatters() const { return needs_backward_ && !prims_.has_backward && !returns_indices_; }
  // A workspace is produced by forward_training: for indices and backward.
  bool keeps_workspace() const { return returns_indices_ || needs_backward_; }
  bool workspace_is_plain() const {
    return rt::is_plain(workspace_) &&
           (workspace_.data_type() == memory::data_type::u8 || workspace_.data_type() == memory::data_type::s32);
  }

  int primitives_created() const override { return prims_.created; }

  std::unique_ptr<KernelState> make_state() const override {
    auto state = std::make_unique<MaxState>();
    const int threads = chunks_ > 1 ? std::max(1, omp_get_max_threads()) : 1;
    size_t scratch = std::max(rt::scratchpad_bytes(main_.pd, tail_.pd), prims_.scratchpad_bytes());
    for (int t = 0; t < threads; ++t) state->scratchpads.emplace_back(scratch);
    if (keeps_workspace()) state->workspace = rt::Buffer(workspace_bytes(geometry_.planes));
    for (int t = 0; t < threads; ++t) {
      state->main.push_back(plane_run(main_, state->scratchpads[t]));
      if (tail_.planes) state->tail.push_back(plane_run(tail_, state->scratchpads[t]));
    }
    if (prims_.has_backward) {
      state->diff_src = rt::external(prims_.backward_pd.diff_src_desc());
      state->diff_dst = rt::external(prims_.backward_pd.diff_dst_desc());
      state->backward_args = {
          {DNNL_ARG_DIFF_SRC, state->diff_src},
          {DNNL_ARG_DIFF_DST, state->diff_dst},
          {DNNL_ARG_WORKSPACE, rt::over(prims_.backward_pd.workspace_desc(), state->workspace)},
          {DNNL_ARG_SCRATCHPAD, rt::over(prims_.backward_pd.scratchpad_desc(), state->scratchpads[0])}};
    }
    if (backward_scatters()) state->indices = Tensor::empty({geometry_.planes * geometry_.out_plane()}, DType::Int64);
    state->naive_chunks.assign(chunks_, 0);
    return state;
  }

  void forward(const ForwardArgs& args) const override {
    MaxState& state = *static_cast<MaxState*>(args.state);
    int64_t* indices = returns_indices_ ? args.outputs[1].i64() : backward_scatters() ? state.indices.i64() : nullptr;
    Pointers at{args.inputs[0].f32(), args.outputs[0].f32(), state.workspace.data(), indices};
    if (chunks_ == 1) {
      run_chunk(state, at, 0, 0, true);
    } else {
      const int threads =
          std::min({static_cast<int>(state.main.size()), static_cast<int>(chunks_), omp_get_max_threads()});
#pragma omp parallel for num_threads(threads) schedule(dynamic, 1)
      for (int64_t c = 0; c < chunks_; ++c) run_chunk(state, at, c, omp_get_thread_num(), false);
    }
    state.ran_naive = false;
    for (char naive : state.naive_chunks) state.ran_naive = state.ran_naive || naive;
    // A NaN chunk makes backward scatter by indices: those of the other
    // chunks come from their workspace.
    if (state.ran_naive && needs_backward_ && !returns_indices_ && prims_.has_backward) {
      for (int64_t c = 0; c < chunks_; ++c)
        if (!state.naive_chunks[c]) chunk_indices(state.workspace.data(), state.indices.i64(), c, true);
    }
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
  // Base pointers of one forward call.
  struct Pointers {
    const float* x;
    float* y;
    void* workspace;
    int64_t* indices;  // null when no int64 indices are produced
  };

  PlaneForward plane_forward(int64_t planes) {
    Problem p = problem_of(geometry_, rank_, planes, algorithm::pooling_max);
    PlaneForward f;
    f.planes = planes;
    f.pd = pooling_forward_pd(p, keeps_workspace());
    f.primitive = rt::create<pooling_v2_forward>(f.pd, prims_.created);
    return f;
  }

  PlaneRun plane_run(const PlaneForward& f, const rt::Buffer& scratchpad) const {
    PlaneRun r;
    r.src = rt::external(f.pd.src_desc());
    r.dst = rt::external(f.pd.dst_desc());
    r.args = {{DNNL_ARG_SRC, r.src},
              {DNNL_ARG_DST, r.dst},
              {DNNL_ARG_SCRATCHPAD, rt::over(f.pd.scratchpad_desc(), scratchpad)}};
    if (keeps_workspace()) r.args[DNNL_ARG_WORKSPACE] = r.workspace = rt::external(f.pd.workspace_desc());
    return r;
  }

  size_t workspace_bytes(int64_t planes) const {
    return static_cast<size_t>(planes * geometry_.out_plane()) *
           (workspace_.data_type() == memory::data_type::u8 ? 1 : 4);
  }

  // Chunk c on thread t: NaN scan, pooling (oneDNN, or the naive loop when
  // the chunk holds a NaN), -FLT_MAX fix-up, int64 indices.
  void run_chunk(MaxState& state, const Pointers& at, int64_t c, int t, bool parallel) const {
    const int64_t first = c * chunk_planes_, planes = std::min(chunk_planes_, geometry_.planes - first);
    const float* x = at.x + first * geometry_.in_plane();
    float* y = at.y + first * geometry_.out_plane();
    int64_t* indices = at.indices ? at.indices + first * geometry_.out_plane() : nullptr;
    state.naive_chunks[c] = rt::contains_nan(x, planes * geometry_.in_plane(), parallel);
    if (state.naive_chunks[c]) {
      // oneDNN skips NaN, PyTorch propagates it: this chunk runs the naive
      // loop (and backward then scatters by the int64 indices).
      if (!indices && needs_backward_) {
#pragma omp critical(mininn_pool_indices)
        if (!state.indices.defined())
          state.indices = Tensor::empty({geometry_.planes * geometry_.out_plane()}, DType::Int64);
        indices = state.indices.i64() + first * geometry_.out_plane();
      }
      Geometry part = geometry_;
      part.planes = planes;
      max_forward(part, x, y, indices);
      return;
    }
    PlaneRun& run = planes == chunk_planes_ ? state.main[t] : state.tail[t];
    rt::bind(run.src, x);
    rt::bind(run.dst, y);
    if (keeps_workspace()) rt::bind(run.workspace, static_cast<char*>(at.workspace) + workspace_bytes(first));
    rt::run(planes == chunk_planes_ ? main_.primitive : tail_.primitive, run.args);
    fix_lowest(at, first, planes, parallel);
    if (indices) chunk_indices(at.workspace, at.indices, c, parallel);
  }

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
  void fix_lowest(const Pointers& at, int64_t first, int64_t planes, bool parallel) const {
    const int64_t out_plane = geometry_.out_plane(), in_plane = geometry_.in_plane();
    const int64_t begin = first * out_plane, end = (first + planes) * out_plane;
    if (!rt::contains(at.y + begin, end - begin, -FLT_MAX, parallel)) return;
    const bool ws_u8 = workspace_.data_type() == memory::data_type::u8;
    const Axis &ah = geometry_.axes[1], &aw = geometry_.axes[2];
#pragma omp parallel for schedule(static) if (parallel)
    for (int64_t i = begin; i < end; ++i) {
      if (at.y[i] != -FLT_MAX) continue;
      const int64_t p = i / out_plane, o = i % out_plane;
      const int64_t ow = o % aw.out, oh = (o / aw.out) % ah.out, od = o / (aw.out * ah.out);
      float best;
      int64_t tap;
      scan_window(at.x + p * in_plane, od, oh, ow, best, tap);
      at.y[i] = best;
      if (!keeps_workspace()) continue;
      if (ws_u8)
        static_cast<uint8_t*>(at.workspace)[i] = static_cast<uint8_t>(tap);
      else
        static_cast<int32_t*>(at.workspace)[i] = static_cast<int32_t>(tap);
    }
  }

  // PyTorch's int64 index of every maximum of chunk c from oneDNN's
  // workspace (plain layout, one u8/s32 tap per output): flat(window
  // origin) + lut[tap].
  void chunk_indices(const void* workspace, int64_t* indices, int64_t c, bool parallel) const {
    const int64_t first = c * chunk_planes_, planes = std::min(chunk_planes_, geometry_.planes - first);
    if (workspace_.data_type() == memory::data_type::u8)
      convert(static_cast<const uint8_t*>(workspace), indices, first, planes, parallel);
    else
      convert(static_cast<const int32_t*>(workspace), indices, first, planes, parallel);
  }

  template <typename Tap>
  void convert(const Tap* ws, int64_t* indices, int64_t first, int64_t planes, bool parallel) const {
    const Axis &ad = geometry_.axes[0], &ah = geometry_.axes[1], &aw = geometry_.axes[2];
    const int64_t out_plane = geometry_.out_plane();
    const int64_t* lut = lut_.data();
#pragma omp parallel for schedule(static) if (parallel && planes > 1)
    for (int64_t p = first; p < first + planes; ++p) {
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
  int rank_;
  bool returns_indices_, needs_backward_;
  Primitives prims_;  // the whole tensor's: backward, and the forward pd it needs as a hint
  PlaneForward main_, tail_;
  int64_t chunk_planes_ = 0, chunks_ = 0;
  memory::desc workspace_;
  std::vector<int64_t> lut_;
};

// Why Backend::Auto runs a max pool on mininn's loop although oneDNN's JIT
// can run it, or "" to run oneDNN. A window of at most 2 per axis reads each
// input about once, and mininn's single pass (maximum and int64 index
// together, naive_fast.cpp) is then cheaper than oneDNN's JIT with the NaN
// scan, the -FLT_MAX fix-up and the workspace conversion around it. Measured
// (one thread, ms, mininn vs oneDNN, MaxPool2d 2/2 forward + backward):
// 16x128x56x56 2.9+1.6 vs 4.8+4.3, 4x64x112x112 1.0+0.9 vs 1.3+1.2,
// 32x32x32x32 0.38+0.18 vs 0.32+0.45, 16x32x48x48 0.43+0.19 vs 0.35+0.32;
// with int64 indices out 2.9 vs 5.3 ... 0.43 vs 0.57; inference 1.5 vs 3.7
// ... 0.24 vs 0.31; MaxPool3d 2/2 on 8x32x4x32x32 0.24+0.11 vs 0.28+0.41.
// Rows under 16 outputs lose (28x28: 0.50 vs 0.43 inference, 0.89+0.26 vs
// 0.54+0.48 training), so they stay on oneDNN.
//
// 3-wide windows with stride 2 along W (ResNet's stem pool 3x3/2; 1-d and
// 2-d, what was measured) read each input about 2.25 times, and win only on
// long rows (2 threads, inference and training forward + backward, ms): 32x64x112x112
// (rows of 56) 8.2 vs 8.5, 10.0+11.9 vs 10.1+13.6; 16x64x80x80 (40) 2.2 vs
// 2.0, 2.41+2.90 vs 2.33+2.93; 16x128x56x56 (28) 2.7 vs 1.9.
std::string small_window_on_mininn(const Geometry& g) {
  constexpr int64_t kMinRow = 16, kMinRowStride2Width3 = 48;
  const Axis &d = g.axes[0], &h = g.axes[1], &w = g.axes[2];
  bool small = true;
  for (const Axis& a : g.axes) small = small && a.kernel <= 2 && a.dilation == 1;
  const bool stem = d.kernel == 1 && h.kernel <= 3 && h.dilation == 1 && w.kernel == 3 && w.stride == 2 &&
                    w.dilation == 1;
  const char* windows = nullptr;
  if (small && w.out >= kMinRow)
    windows = "windows of at most 2 per axis";
  else if (stem && w.out >= kMinRowStride2Width3)
    windows = "3-wide windows at stride 2";
  else
    return "";
  return fmt::format(
      "a max pool with {} over rows of {} outputs: mininn's single pass (maximum and int64 index together) beats "
      "oneDNN's JIT plus its NaN scan, -FLT_MAX fix-up and index conversion",
      windows, w.out);
}

}  // namespace

std::unique_ptr<Kernel> build_max(const Geometry& g, int rank, bool returns_indices, bool adaptive,
                                  const KernelConfig& config, std::string& why) {
  if (g.planes == 0) {
    why = "empty input (batch 0): nothing to compute";
    return nullptr;
  }
  if (!returns_indices)
    if (auto kernel = build_layout_pool(g, rank, algorithm::pooling_max, config, why)) return kernel;
  Problem p = problem_of(g, rank, g.planes, algorithm::pooling_max);
  const bool workspace = returns_indices || config.needs_backward;
  NaivePreference prefer;
  if (!adaptive) prefer = {true, small_window_on_mininn(g)};
  Primitives prims;
  if (!prims.build(p, workspace, config.needs_backward, config.backend, why, false, prefer)) return nullptr;
  auto kernel = std::make_unique<MaxPoolKernel>(g, rank, returns_indices, config.needs_backward, std::move(prims));
  try {
    kernel->build();
  } catch (const dnnl::error& e) {
    why = fmt::format("oneDNN 2.6 cannot create this pooling ({})", e.what());
    return nullptr;
  }
  if (workspace && !kernel->workspace_is_plain()) {
    why = "oneDNN chose a workspace layout mininn cannot decode into indices";
    return nullptr;
  }
  return kernel;
}

}  // namespace mininn::pool::onednn::detail
