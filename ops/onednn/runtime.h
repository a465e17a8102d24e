// The shared oneDNN runtime of the op kernels: one CPU engine, one stream per
// thread, counted primitive creation, and the plain-layout descriptors and
// buffers every kernel needs. Only ops/*/onednn.cpp include this header.
//
// Rules every oneDNN kernel follows:
//   * everything that oneDNN creates (primitive descriptors, primitives,
//     reorders) is created in make_* at compile time, through create();
//   * scratchpads, workspaces and reordered copies live in the KernelState,
//     so several Executions may run one compiled kernel at once
//     (scratchpad_mode::user, see attributes());
//   * forward/backward bind pointers (bind) and execute, nothing else.
#pragma once

#include "ops/onednn/stats.h"

#include <oneapi/dnnl/dnnl.hpp>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

namespace mininn::onednn {

using dnnl::memory;
using Dims = memory::dims;

const dnnl::engine& engine();
// This thread's in-order stream on engine(); with the OpenMP runtime
// execution is synchronous, run() still waits for completeness.
dnnl::stream& stream();

// Primitive attributes with scratchpad_mode::user: the caller passes the
// scratchpad (DNNL_ARG_SCRATCHPAD) from its KernelState.
dnnl::primitive_attr attributes();

// Creates a primitive from its descriptor and counts it, in `counter` (the
// kernel's primitives_created) and in primitives_created_total().
void note_created(int& counter);
template <typename Primitive, typename PrimitiveDesc>
Primitive create(const PrimitiveDesc& pd, int& counter) {
  Primitive primitive(pd);
  note_created(counter);
  return primitive;
}

// A reorder between two layouts of the same tensor, with the scratchpad it
// needs (usually none) in user mode too.
struct Reorder {
  dnnl::reorder primitive;
  size_t scratchpad = 0;
};
Reorder create_reorder(const memory::desc& from, const memory::desc& to, int& counter);

// The implementation oneDNN chose ("jit:avx512_core", "ref:any", ...).
std::string implementation(const dnnl::primitive_desc_base& pd);
// oneDNN's scalar reference kernels: correct, but slower than our loops.
bool is_reference(const dnnl::primitive_desc_base& pd);

// Plain row-major f32 descriptor (ncw, nchw, ncdhw, oihw, goihw, x ...).
memory::desc plain(const Dims& dims, memory::data_type type = memory::data_type::f32);
// True when `desc` is the plain row-major layout of its dims.
bool is_plain(const memory::desc& desc);

// An owning, 64-byte aligned byte buffer (scratchpads, workspaces, reordered
// copies). Zero-filled on request.
class Buffer {
 public:
  Buffer() = default;
  explicit Buffer(size_t bytes, bool zeroed = false);
  void* data() const { return data_.get(); }
  size_t size() const { return size_; }

 private:
  struct Free {
    void operator()(void* p) const;
  };
  std::unique_ptr<void, Free> data_;
  size_t size_ = 0;
};

// Bytes of the largest scratchpad among `pds` (one buffer serves them all:
// a kernel runs its primitives one after the other).
template <typename... Pds>
size_t scratchpad_bytes(const Pds&... pds) {
  size_t bytes = 0;
  ((bytes = std::max(bytes, pds ? pds.scratchpad_desc().get_size() : size_t{0})), ...);
  return bytes;
}

// Memory objects are created once per KernelState, together with the
// argument maps of each primitive; a run only rebinds the caller's tensors
// (bind) and executes, so it allocates and creates nothing.
using Args = std::unordered_map<int, memory>;
// A memory over caller storage, bound at run time.
memory external(const memory::desc& desc);
// A memory over a buffer the state owns.
memory over(const memory::desc& desc, const Buffer& buffer);
inline void bind(const memory& m, const void* data) { m.set_data_handle(const_cast<void*>(data)); }

// Runs `primitive` on this thread's stream and waits.
void run(const dnnl::primitive& primitive, const Args& args);

// True when x[0..count) holds a NaN; vectorised and OpenMP-parallel (the
// whole input is read once: the price of matching PyTorch's NaN rule).
// `parallel` false: on the calling thread only (inside a parallel region).
bool contains_nan(const float* x, int64_t count, bool parallel = true);
// True when x[0..count) holds `value` (same scan).
bool contains(const float* x, int64_t count, float value, bool parallel = true);

}  // namespace mininn::onednn
