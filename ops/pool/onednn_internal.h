// Shared by the oneDNN pooling kernels (onednn.cpp: average pooling and the
// entry points; onednn_max.cpp: max pooling). Internal to ops/pool.
#pragma once

#include "ops/onednn/runtime.h"
#include "ops/pool/onednn.h"

#include <limits>
#include <string>

namespace mininn::pool::onednn::detail {

namespace rt = mininn::onednn;
using dnnl::algorithm;
using dnnl::memory;
using dnnl::pooling_v2_backward;
using dnnl::pooling_v2_forward;
using dnnl::prop_kind;
using rt::Dims;

constexpr float kMinusInf = -std::numeric_limits<float>::infinity();
inline const char* kReferenceWhy = "oneDNN 2.6 has only its scalar reference kernel (ref:any) for this";

// The primitive a pool becomes: what oneDNN is asked to compute.
struct Problem {
  algorithm kind = algorithm::pooling_max;
  Dims src, dst;  // {1, planes, *spatial}, or the rows view of a 1-d pool
  Dims kernel, strides, dilation, pad_l, pad_r;
};

// The pool of `g` (spatial rank `rank`) over `count` consecutive planes.
// oneDNN sees the planes as channels of one image: plain NCHW puts (n, c)
// planes one after the other either way. A 1-d pool is handed over as a 2-d
// pool over rows of planes with a kernel of height 1 (same memory, same
// taps), because oneDNN 2.6 runs 1-d pooling on a plain layout in a scalar
// loop (simple_nchw) and 2-d pooling in its JIT kernels, ~3x faster.
Problem problem_of(const Geometry& g, int rank, int64_t count, algorithm kind);

// The forward primitive descriptor of `p` over plain layouts (user scratchpad).
pooling_v2_forward::primitive_desc pooling_forward_pd(const Problem& p, bool training);

// Where Backend::Auto prefers mininn's naive kernel to an implementation
// oneDNN can run (besides its scalar reference kernel, which it never takes).
struct NaivePreference {
  bool over_simple_nchw = false;  // MaxPool, AvgPool: the naive fast paths beat oneDNN's scalar simple_nchw
  std::string over_jit;           // why the naive kernel beats oneDNN's JIT too, or ""
};

// The primitives of one pooling node over the whole tensor, created at
// compile time.
struct Primitives {
  Problem problem;
  pooling_v2_forward::primitive_desc forward_pd;
  pooling_v2_forward forward;
  pooling_v2_backward::primitive_desc backward_pd;  // empty when backward is naive or not compiled
  pooling_v2_backward backward;
  bool has_backward = false;
  int created = 0;
  std::string backward_why;  // why backward is naive, if it is

  // Builds the forward pd (and primitive, when `create_forward`) and, when
  // `with_backward`, the backward ones; under Backend::Auto a direction
  // oneDNN would run in its reference kernel is left to the naive loop, and
  // so is the node where `prefer` says so. Returns false (and `why`) when
  // the forward does not run on oneDNN.
  bool build(const Problem& p, bool training, bool with_backward, Backend backend, std::string& why,
             bool create_forward = true, const NaivePreference& prefer = {});

  size_t scratchpad_bytes() const {
    return has_backward ? rt::scratchpad_bytes(forward_pd, backward_pd) : rt::scratchpad_bytes(forward_pd);
  }

  void describe(Dispatch& dispatch) const {
    dispatch.forward = "onednn";
    dispatch.backward = has_backward || backward_why.empty() ? "onednn" : "naive";
    dispatch.reason = backward_why;
  }
};

// A 2-d pool for inference on the layout its input is offered in
// (onednn_layout.cpp), or nullptr when none is offered or oneDNN cannot run
// it there: the plain kernels then take it, from a plain input. `kind` is
// the algorithm the plain kernel would use, with no padded copy of the input.
std::unique_ptr<Kernel> build_layout_pool(const Geometry& g, int rank, algorithm kind, const KernelConfig& config,
                                          std::string& why);

// Max pooling (onednn_max.cpp): `g` is a sliding-window geometry;
// `adaptive` when it is an AdaptiveMaxPool written as one.
std::unique_ptr<Kernel> build_max(const Geometry& g, int rank, bool returns_indices, bool adaptive,
                                  const KernelConfig& config, std::string& why);

}  // namespace mininn::pool::onednn::detail
