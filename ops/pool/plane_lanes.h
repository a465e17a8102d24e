// Sixteen planes at a time, one plane per SIMD lane. Internal to ops/pool.
//
// The windows of a pool are the same in every plane, so a vector whose lanes
// are 16 planes runs the scalar reference loop unchanged: every lane sees the
// same operations in the same order as the scalar loop on its own plane, and
// the results are identical bit for bit (same sums in the same order, same
// comparisons, same divisions). Planes are contiguous in memory (NCHW), so a
// group of 16 is first turned "planes-last" in a small scratch buffer with
// 8x8 transposes, and the outputs are turned back the same way.
//
// A vector is a GCC vector extension of 16 floats (one zmm register), and
// everything here is AVX-512 code: include this header only from a file that
// defines its kernels between MININN_AVX512_BEGIN and MININN_AVX512_END, and
// call them only when cpu_has_avx512() (framework/simd.h says why).
#pragma once

#include "framework/simd.h"

#include <cstdint>
#include <cstring>
#include <utility>
#include <vector>

MININN_AVX512_BEGIN

namespace mininn::pool::lanes {

inline constexpr int64_t kLanes = 16;

// Aligned to 64 bytes explicitly: GCC aligns a vector type to what the ISA
// it compiles for can load in one go (16 bytes on baseline x86-64), and
// AVX-512 code must be able to trust the alignment of a buffer that
// baseline code allocated.
typedef float Floats __attribute__((vector_size(kLanes * sizeof(float)), aligned(64)));    // one value of 16 planes
typedef int32_t Ints __attribute__((vector_size(kLanes * sizeof(int32_t)), aligned(64)));  // also a lane mask (0 / -1)
typedef float Floats8 __attribute__((vector_size(8 * sizeof(float))));

#define MININN_LANES_INLINE [[gnu::always_inline]] inline

// One butterfly stage of transpose8: for every row pair (r, r + s) with bit
// s clear in r, the elements whose column has bit s set in row r trade
// places with those whose column has it clear in row r + s. (Shuffle
// indices count the second row's elements from 8.)
template <int s, int... column>
MININN_LANES_INLINE void butterfly(Floats8 rows[8], std::integer_sequence<int, column...>) {
  for (int r = 0; r < 8; ++r) {
    if (r & s) continue;
    Floats8 low = __builtin_shufflevector(rows[r], rows[r + s], (column & s ? column - s + 8 : column)...);
    rows[r + s] = __builtin_shufflevector(rows[r], rows[r + s], (column & s ? column + 8 : column + s)...);
    rows[r] = low;
  }
}

// The 8x8 tile whose row r starts at from + r * from_stride, transposed to
// to + c * to_stride (row c of the result is column c of the tile): after
// the stages for bits 1, 2 and 4 every element (r, c) has moved to (c, r).
// Four 8x8 tiles cost about what one 16x16 tile in zmm registers does.
MININN_LANES_INLINE void transpose8(const float* from, int64_t from_stride, float* to, int64_t to_stride) {
  Floats8 rows[8];
  for (int r = 0; r < 8; ++r) std::memcpy(&rows[r], from + r * from_stride, sizeof(Floats8));
  constexpr auto columns = std::make_integer_sequence<int, 8>();
  butterfly<1>(rows, columns);
  butterfly<2>(rows, columns);
  butterfly<4>(rows, columns);
  for (int c = 0; c < 8; ++c) std::memcpy(to + c * to_stride, &rows[c], sizeof(Floats8));
}

// Planes-last copy of 16 planes: to[i][lane] = from[lane * stride + i] for
// i < count. Blocks of 16 positions go through four 8x8 transposes, the
// last count % 16 are copied one by one.
MININN_LANES_INLINE void gather(const float* from, int64_t stride, int64_t count, Floats* to) {
  float* out = reinterpret_cast<float*>(to);  // written with memcpy only
  int64_t i = 0;
  for (; i + kLanes <= count; i += kLanes)
    for (int lanes = 0; lanes < kLanes; lanes += 8)
      for (int k = 0; k < kLanes; k += 8)
        transpose8(from + lanes * stride + i + k, stride, out + (i + k) * kLanes + lanes, kLanes);
  for (; i < count; ++i)
    for (int lane = 0; lane < kLanes; ++lane) to[i][lane] = from[lane * stride + i];
}

// The inverse: to[lane * stride + i] = from[i][lane] for i < count.
MININN_LANES_INLINE void scatter(const Floats* from, int64_t count, float* to, int64_t stride) {
  const float* in = reinterpret_cast<const float*>(from);
  int64_t i = 0;
  for (; i + kLanes <= count; i += kLanes)
    for (int lanes = 0; lanes < kLanes; lanes += 8)
      for (int k = 0; k < kLanes; k += 8)
        transpose8(in + (i + k) * kLanes + lanes, kLanes, to + lanes * stride + i + k, stride);
  for (; i < count; ++i)
    for (int lane = 0; lane < kLanes; ++lane) to[lane * stride + i] = from[i][lane];
}

// Per-thread scratch of at least `count` vectors, kept between calls (the
// OpenMP threads live as long as the process): a call allocates only when a
// larger plane than ever before comes along. (The struct spells out the
// vector's alignment, which GCC drops from a template argument.)
template <typename Vector>
inline Vector* scratch(size_t count) {
  struct alignas(64) Slot {
    Vector value;
  };
  thread_local std::vector<Slot> buffer;
  if (buffer.size() < count) buffer.resize(count);
  return &buffer.data()->value;
}

// The largest scratch a kernel may ask for, in vectors (512 KiB, half of
// this machine's L2 per core). Larger planes run the scalar loops.
inline constexpr int64_t kMaxScratch = 8192;

}  // namespace mininn::pool::lanes

MININN_AVX512_END
