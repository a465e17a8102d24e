#include "ops/onednn/runtime.h"

#include "framework/simd.h"

#include <fmt/format.h>
#include <omp.h>

#include <atomic>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <new>

namespace mininn::onednn {
namespace {

std::atomic<int64_t> g_created{0};

const char* isa_name(dnnl::cpu_isa isa) {
  using dnnl::cpu_isa;
  switch (isa) {
    case cpu_isa::sse41:
      return "sse41";
    case cpu_isa::avx:
      return "avx";
    case cpu_isa::avx2:
      return "avx2";
    case cpu_isa::avx2_vnni:
      return "avx2_vnni";
    case cpu_isa::avx512_core:
      return "avx512_core";
    case cpu_isa::avx512_core_vnni:
      return "avx512_core_vnni";
    case cpu_isa::avx512_core_bf16:
      return "avx512_core_bf16";
    case cpu_isa::avx512_core_amx:
      return "avx512_core_amx";
    default:
      return "other ISA";
  }
}

memory::format_tag plain_tag(size_t rank) {
  using tag = memory::format_tag;
  switch (rank) {
    case 1:
      return tag::a;
    case 2:
      return tag::ab;
    case 3:
      return tag::abc;
    case 4:
      return tag::abcd;
    case 5:
      return tag::abcde;
    case 6:
      return tag::abcdef;
  }
  throw std::invalid_argument(fmt::format("no plain oneDNN layout for rank {}", rank));
}

// Blocks of the scans below, compiled for several ISAs (framework/simd.h);
// the loops have no early exit so they vectorise.
MININN_MULTIVERSIONED bool block_has_nan(const float* x, int64_t count) {
  int found = 0;
  for (int64_t i = 0; i < count; ++i) found |= x[i] != x[i];
  return found != 0;
}

MININN_MULTIVERSIONED bool block_has(const float* x, int64_t count, float value) {
  int found = 0;
  for (int64_t i = 0; i < count; ++i) found |= x[i] == value;
  return found != 0;
}

// Runs `has(block, size)` over x in blocks, in parallel for large inputs,
// skipping the rest once one block answers yes.
template <typename Has>
bool scan_blocks(const float* x, int64_t count, bool parallel, Has has) {
  constexpr int64_t kBlock = int64_t{1} << 14;
  const int64_t blocks = (count + kBlock - 1) / kBlock;
  if (blocks <= 4 || !parallel || omp_in_parallel()) return has(x, count);
  std::atomic<bool> found{false};
#pragma omp parallel for schedule(static)
  for (int64_t b = 0; b < blocks; ++b) {
    if (found.load(std::memory_order_relaxed)) continue;
    if (has(x + b * kBlock, std::min(kBlock, count - b * kBlock))) found.store(true);
  }
  return found.load();
}

}  // namespace

int64_t primitives_created_total() { return g_created.load(); }

std::string describe() {
  const dnnl_version_t* v = dnnl::version();
  return fmt::format("oneDNN {}.{}.{} ({}, {} OpenMP threads)", v->major, v->minor, v->patch,
                     isa_name(dnnl::get_effective_cpu_isa()), omp_get_max_threads());
}

const dnnl::engine& engine() {
  static const dnnl::engine cpu(dnnl::engine::kind::cpu, 0);
  return cpu;
}

dnnl::stream& stream() {
  thread_local dnnl::stream per_thread(engine());
  return per_thread;
}

dnnl::primitive_attr attributes() {
  dnnl::primitive_attr attr;
  attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);
  return attr;
}

void note_created(int& counter) {
  ++counter;
  ++g_created;
}

Reorder create_reorder(const memory::desc& from, const memory::desc& to, int& counter) {
  dnnl::reorder::primitive_desc pd(engine(), from, engine(), to, attributes());
  return {create<dnnl::reorder>(pd, counter), pd.scratchpad_desc().get_size()};
}

std::string implementation(const dnnl::primitive_desc_base& pd) { return pd.impl_info_str(); }

bool is_reference(const dnnl::primitive_desc_base& pd) { return implementation(pd).rfind("ref", 0) == 0; }

memory::desc plain(const Dims& dims, memory::data_type type) {
  return memory::desc(dims, type, plain_tag(dims.size()));
}

bool is_plain(const memory::desc& desc) { return desc == plain(desc.dims(), desc.data_type()); }

Buffer::Buffer(size_t bytes, bool zeroed) : size_(bytes) {
  size_t rounded = (std::max<size_t>(bytes, 1) + 63) / 64 * 64;
  data_.reset(std::aligned_alloc(64, rounded));
  if (!data_) throw std::bad_alloc();
  if (zeroed) std::memset(data_.get(), 0, rounded);
}

void Buffer::Free::operator()(void* p) const { std::free(p); }

memory external(const memory::desc& desc) { return memory(desc, engine(), DNNL_MEMORY_NONE); }

memory over(const memory::desc& desc, const Buffer& buffer) { return memory(desc, engine(), buffer.data()); }

void run(const dnnl::primitive& primitive, const Args& args) {
  dnnl::stream& s = stream();
  primitive.execute(s, args);
  s.wait();
}

bool contains_nan(const float* x, int64_t count, bool parallel) {
  return scan_blocks(x, count, parallel, block_has_nan);
}

bool contains(const float* x, int64_t count, float value, bool parallel) {
  return scan_blocks(x, count, parallel,
                     [value](const float* block, int64_t size) { return block_has(block, size, value); });
}

}  // namespace mininn::onednn
