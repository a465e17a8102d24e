// SIMD without -march: the library targets baseline x86-64, and code that
// pays for wide vectors is compiled for wider ISAs and picked at run time.
// Either way the same IEEE operations run in the same order, so results do
// not depend on the machine (the build uses -std=c++20: no FMA contraction).
#pragma once

// 1. A loop the compiler vectorises by itself, compiled once per ISA and
//    picked at load time:
//      MININN_MULTIVERSIONED bool block_has_nan(const float* x, int64_t count);
//
// Not under ThreadSanitizer: the ISA is picked by an ifunc resolver that the
// dynamic loader calls before TSan's runtime is up, and the instrumented
// resolver then crashes the process at start.
#if defined(__SANITIZE_THREAD__)
#define MININN_TSAN_BUILD 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define MININN_TSAN_BUILD 1
#endif
#endif

#if defined(MININN_TSAN_BUILD) || !defined(__x86_64__)
#define MININN_MULTIVERSIONED
#else
#define MININN_MULTIVERSIONED __attribute__((target_clones("avx512f", "avx2", "default")))
#endif

// The same for a function template. Clang (14) cannot take the address of,
// or reliably call, an instance of a multiversioned template, so under Clang
// a template is compiled once, for baseline x86-64: slower, same results.
#if defined(__clang__)
#define MININN_MULTIVERSIONED_TEMPLATE
#else
#define MININN_MULTIVERSIONED_TEMPLATE MININN_MULTIVERSIONED
#endif

// 2. Code written with 64-byte GCC vector extensions (ops/pool/plane_lanes.h),
//    compiled for AVX-512F between MININN_AVX512_BEGIN and MININN_AVX512_END
//    and called only when cpu_has_avx512(). Target clones do not serve here:
//    GCC's front end turns a comparison of 64-byte vectors into scalar code
//    when the ISA it parses for lacks one, before any clone is made; inside
//    the region it parses for AVX-512 and keeps one instruction.
#if defined(__x86_64__) && defined(__clang__)
#define MININN_AVX512_BEGIN _Pragma("clang attribute push(__attribute__((target(\"avx512f\"))), apply_to = function)")
#define MININN_AVX512_END _Pragma("clang attribute pop")
#elif defined(__x86_64__)
#define MININN_AVX512_BEGIN _Pragma("GCC push_options") _Pragma("GCC target(\"avx512f\")")
#define MININN_AVX512_END _Pragma("GCC pop_options")
#else
#define MININN_AVX512_BEGIN
#define MININN_AVX512_END
#endif

namespace mininn {

inline bool cpu_has_avx512() {
#if defined(__x86_64__)
  static const bool has = __builtin_cpu_supports("avx512f");
  return has;
#else
  return false;
#endif
}

}  // namespace mininn
