// Sixteen planes at a time, one plane per SIMD lane. Internal to ops/pool.
//
// The windows of a pool are the same in every plane, so a vector whose lanes
// are 16 planes runs the scalar reference loop unchanged: every lane sees the
// same operations in the same order as the scalar loop on its own plane, and
// the results are identical bit for bit (same sums in the same order, same
// comparisons, same divisions). Planes are contiguous in memory (NCHW), so a
// group of 16 is first turned "planes-last" in a small scratch buffer with
// transposes, and the outputs are turned back the same way.
//
// A vector is a GCC vector extension of 16 floats (one zmm register), and
// everything here is AVX-512 code: include this header only from a file that
// defines its kernels between MININN_AVX512_BEGIN and MININN_AVX512_END, and
// call them only when cpu_has_avx512() (framework/simd.h says why).
#pragma once

#include "framework/simd.h"

#include <immintrin.h>

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

#define MININN_LANES_INLINE [[gnu::always_inline]] inline

// Transposes the 16x16 matrix whose row r is rows[r], in registers: the
// textbook AVX-512 sequence of 64 one-instruction shuffles. Interleave the
// elements of row pairs, then the element pairs of pair-of-rows, then swap
// 128-bit blocks twice; every (r, c) ends at (c, r). Each pattern below gives,
// for element c of the result, the element it takes from (a, b), with b's
// elements counted from 16; in x86 terms:
constexpr int unpack_low(int c) { return c / 4 * 4 + c % 4 / 2 + c % 2 * 16; }  // unpcklps: a0 b0 a1 b1 per block
constexpr int unpack_high(int c) { return unpack_low(c) + 2; }                  // unpckhps: a2 b2 a3 b3
constexpr int low_pairs(int c) { return c / 4 * 4 + (c % 4 < 2 ? c % 4 : 16 + c % 4 - 2); }  // shufps 0x44: a0 a1 b0 b1
constexpr int high_pairs(int c) { return low_pairs(c) + 2; }                                 // shufps 0xee: a2 a3 b2 b3
constexpr int even_blocks(int c) { return c / 8 * 16 + c / 4 % 2 * 8 + c % 4; }  // shuf_f32x4 0x88: blocks a0 a2 b0 b2
constexpr int odd_blocks(int c) { return even_blocks(c) + 4; }                  // shuf_f32x4 0xdd: blocks a1 a3 b1 b3

template <int... c>
MININN_LANES_INLINE void transpose(Floats rows[kLanes], std::integer_sequence<int, c...>) {
  Floats t[kLanes], u[kLanes];
  for (int i = 0; i < kLanes; i += 2) {
    t[i] = __builtin_shufflevector(rows[i], rows[i + 1], unpack_low(c)...);
    t[i + 1] = __builtin_shufflevector(rows[i], rows[i + 1], unpack_high(c)...);
  }
  for (int i = 0; i < kLanes; i += 4)
    for (int j = 0; j < 2; ++j) {
      u[i + 2 * j] = __builtin_shufflevector(t[i + j], t[i + j + 2], low_pairs(c)...);
      u[i + 2 * j + 1] = __builtin_shufflevector(t[i + j], t[i + j + 2], high_pairs(c)...);
    }
  for (int i = 0; i < 4; ++i)
    for (int h = 0; h < kLanes; h += 8) {
      t[i + h] = __builtin_shufflevector(u[i + h], u[i + h + 4], even_blocks(c)...);
      t[i + h + 4] = __builtin_shufflevector(u[i + h], u[i + h + 4], odd_blocks(c)...);
    }
  for (int i = 0; i < 8; ++i) {
    rows[i] = __builtin_shufflevector(t[i], t[i + 8], even_blocks(c)...);
    rows[i + 8] = __builtin_shufflevector(t[i], t[i + 8], odd_blocks(c)...);
  }
}
MININN_LANES_INLINE void transpose(Floats rows[kLanes]) { transpose(rows, std::make_integer_sequence<int, kLanes>()); }

// Up to 16 positions of 16 planes, in registers: tile[k][lane] =
// from[lane * stride + k] for k < count (0 beyond). Masked loads never
// touch memory past a plane's `count` positions. (Stores go the other way
// one by one: masked stores are slow on AMD's AVX-512.)
MININN_LANES_INLINE void load_tile(const float* from, int64_t stride, int64_t count, Floats tile[kLanes]) {
  const __mmask16 mask = static_cast<__mmask16>((1u << count) - 1);
  for (int lane = 0; lane < kLanes; ++lane) tile[lane] = _mm512_maskz_loadu_ps(mask, from + lane * stride);
  transpose(tile);
}

// Whole planes go through memory in 8x8 tiles instead: a 16x16 tile needs
// every zmm register, and gathering that way measured ~25 % slower. (In
// registers, as load_tile hands it over, the 16x16 tile is the better one:
// 8-wide stores read back as one 16-wide vector stall store forwarding.)
typedef float Floats8 __attribute__((vector_size(8 * sizeof(float))));

// One stage of transpose8: for every row pair (r, r + s) with bit s clear in
// r, the elements whose column has bit s set in row r trade places with
// those whose column has it clear in row r + s. (b's elements count from 8.)
template <int s, int... column>
MININN_LANES_INLINE void butterfly8(Floats8 rows[8], std::integer_sequence<int, column...>) {
  for (int r = 0; r < 8; ++r) {
    if (r & s) continue;
    Floats8 low = __builtin_shufflevector(rows[r], rows[r + s], (column & s ? column - s + 8 : column)...);
    rows[r + s] = __builtin_shufflevector(rows[r], rows[r + s], (column & s ? column + 8 : column + s)...);
    rows[r] = low;
  }
}

// The 8x8 tile whose row r starts at from + r * from_stride, transposed to
// to + c * to_stride: after the stages for bits 1, 2 and 4 every element
// (r, c) has moved to (c, r).
MININN_LANES_INLINE void transpose8(const float* from, int64_t from_stride, float* to, int64_t to_stride) {
  Floats8 rows[8];
  for (int r = 0; r < 8; ++r) std::memcpy(&rows[r], from + r * from_stride, sizeof(Floats8));
  constexpr auto columns = std::make_integer_sequence<int, 8>();
  butterfly8<1>(rows, columns);
  butterfly8<2>(rows, columns);
  butterfly8<4>(rows, columns);
  for (int c = 0; c < 8; ++c) std::memcpy(to + c * to_stride, &rows[c], sizeof(Floats8));
}

// Planes-last copy of 16 planes: to[i][lane] = from[lane * stride + i] for
// i < count; blocks of 16 positions in four 8x8 tiles, the rest in one
// masked tile.
MININN_LANES_INLINE void gather(const float* from, int64_t stride, int64_t count, Floats* to) {
  float* out = reinterpret_cast<float*>(to);  // written with memcpy only
  int64_t i = 0;
  for (; i + kLanes <= count; i += kLanes)
    for (int lanes = 0; lanes < kLanes; lanes += 8)
      for (int k = 0; k < kLanes; k += 8)
        transpose8(from + lanes * stride + i + k, stride, out + (i + k) * kLanes + lanes, kLanes);
  if (i < count) {
    Floats tile[kLanes];
    load_tile(from + i, stride, count - i, tile);
    for (int64_t k = 0; k < count - i; ++k) to[i + k] = tile[k];
  }
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

// Indices back to their planes, widened to int64: to[lane * stride + i] =
// from[i][lane] for i < count. The int32 bits of 16 outputs at a time go
// through the float transpose; the rest are copied one by one (masked
// stores are slow on AMD's AVX-512).
MININN_LANES_INLINE void scatter_indices(const Ints* from, int64_t count, int64_t* to, int64_t stride) {
  typedef int32_t Ints8 __attribute__((vector_size(8 * sizeof(int32_t))));
  typedef int64_t Longs8 __attribute__((vector_size(8 * sizeof(int64_t))));
  int64_t i = 0;
  for (; i + kLanes <= count; i += kLanes) {
    Floats tile[kLanes];
    std::memcpy(tile, from + i, sizeof tile);
    transpose(tile);
    for (int lane = 0; lane < kLanes; ++lane) {
      Ints row;
      std::memcpy(&row, &tile[lane], sizeof row);
      const Longs8 low = __builtin_convertvector(Ints8(__builtin_shufflevector(row, row, 0, 1, 2, 3, 4, 5, 6, 7)), Longs8);
      const Longs8 high =
          __builtin_convertvector(Ints8(__builtin_shufflevector(row, row, 8, 9, 10, 11, 12, 13, 14, 15)), Longs8);
      std::memcpy(to + lane * stride + i, &low, sizeof low);
      std::memcpy(to + lane * stride + i + 8, &high, sizeof high);
    }
  }
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
