// PyTorch's CPU random number generator, reproduced bit for bit: the same
// seed gives the same draws as torch.manual_seed(seed) followed by the same
// calls, so a model's default initialisation equals the PyTorch module's.
//
//   Generator gen(0);                      // torch.manual_seed(0)
//   gen.uniform(w.floats(), -b, b);        // w.uniform_(-b, b)
//   gen.normal(x.floats(), 0.0, 1.0);      // x.normal_(0, 1)
//   gen.randperm(order.ints());            // torch.randperm(n)
//
// Checked against torch 1.13 (x86-64, AVX2 kernels) by tests/io: every
// 24-bit uniform value through the vectorised normal path, many seeds and
// sizes for the rest. What torch computes, in short:
//   uniform_  fmaf(float(r & 0xFFFFFF) * 2^-24, to - from, from), one 32-bit
//             draw r per element, from/to rounded to float first, float math
//             with one fused multiply-add.
//   normal_   numel >= 16: all uniforms first, then Box–Muller in float on
//             blocks of 16 (u1 = 1 - first 8, u2 = last 8) with Cephes-style
//             polynomial log/sin/cos (avx_mathfun.h) and fused multiply-adds
//             where GCC fused them; a ragged tail redraws 16 fresh uniforms
//             for the last 16 elements. numel < 16: double Box–Muller from
//             53-bit draws, one value kept for the next call.
//   randperm  Fisher–Yates from the front, z = r % (n - i), one 32-bit draw
//             per step (torch 2.x changed this for n >= 2^32 / 20).
#pragma once

#include <cstdint>
#include <span>

namespace mininn {

class Generator {
 public:
  explicit Generator(uint64_t seed = 67280421310721ULL);  // torch's default seed

  void manual_seed(uint64_t seed);  // also forgets a cached normal value, as torch does
  // The raw mt19937 state: 624 words, the next one to be tempered at index
  // `next` (624: twist first). Lets tests replay a crafted stream of draws.
  void set_state(std::span<const uint32_t> words, int next);

  uint32_t random();    // one 32-bit mt19937 draw
  uint64_t random64();  // two draws, the first in the high half, as torch combines them

  // Tensor.uniform_(from, to) on a contiguous float32 tensor. The bounds are
  // rounded to float as torch does, so passing a double bound gives torch's result.
  void uniform(std::span<float> out, double from, double to);
  // Tensor.normal_(mean, std) on a contiguous float32 tensor. Double, since
  // torch keeps mean and std in double below 16 elements.
  void normal(std::span<float> out, double mean, double stddev);
  // torch.randperm(n) on CPU (int64), for data shuffling.
  void randperm(std::span<int64_t> out);

 private:
  static constexpr int kStateSize = 624;
  uint32_t state_[kStateSize];
  int next_ = 0;
  // torch caches the second of each Box–Muller pair for scalar normal draws.
  bool has_cached_normal_ = false;
  double cached_normal_ = 0;

  void twist();
  float uniform_unit_float();  // [0, 1) from 24 bits of one draw
  double normal_double();
};

}  // namespace mininn
