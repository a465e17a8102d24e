// MININN_MULTIVERSIONED: compiles a hot loop for AVX-512, AVX2 and baseline
// x86-64, the loader picking one for the CPU at hand (GCC's target_clones).
// The library itself targets baseline x86-64 (128-bit SSE2), so a loop that
// vectorises gains up to 4x from wider vectors this way. Put it on a function
// whose loops carry the work; what it inlines is compiled for each ISA too.
//
// Not under ThreadSanitizer: the ISA is picked by an ifunc resolver that the
// dynamic loader calls before TSan's runtime is up, and the instrumented
// resolver then crashes the process at start.
#pragma once

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
