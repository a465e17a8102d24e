// When a loop is worth OpenMP threads. Waking a thread team costs a few
// microseconds, and much more when the machine is busy; a loop with less
// work than this runs on the calling thread. Kernels write
//   #pragma omp parallel for if (parallel_worth(work))
// with `work` roughly the number of element operations.
#pragma once

#include <cstdint>

namespace mininn {

inline constexpr int64_t kParallelWork = int64_t{1} << 15;

inline bool parallel_worth(int64_t work) { return work > kParallelWork; }

}  // namespace mininn
