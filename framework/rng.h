// PyTorch's CPU random number generator, reproduced bit for bit: the same
// seed gives the same draws as torch.manual_seed(seed) followed by the same
// calls, so a model's default initialisation equals the PyTorch module's.
#pragma once

#include <cstdint>
#include <span>

namespace mininn {

class Generator {
 public:
  explicit Generator(uint64_t seed = 67280421310721ULL);  // torch's default seed

  uint32_t random();    // one 32-bit mt19937 draw
  uint64_t random64();  // two draws, as torch combines them

  // Tensor.uniform_(from, to) on a contiguous float32 tensor.
  void uniform(std::span<float> out, float from, float to);
  // Tensor.normal_(mean, std) on a contiguous float32 tensor.
  void normal(std::span<float> out, float mean, float std);
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
  double normal_double();
};

}  // namespace mininn
