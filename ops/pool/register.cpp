// The pooling family's schemas: one table per op, instantiated for 1d/2d/3d.
#include "ops/families.h"
#include "ops/pool/pool.h"
#include "ops/registry.h"

#include <fmt/format.h>

namespace mininn {
namespace {

using pool::make_adaptive_avg_pool;
using pool::make_adaptive_max_pool;
using pool::make_avg_pool;
using pool::make_fractional_max_pool;
using pool::make_lp_pool;
using pool::make_max_pool;
using pool::make_max_unpool;

const InputSpec kInput{"input", "(N, C, *spatial) or unbatched (C, *spatial) float32"};

AttrSpec kernel_size() { return {"kernel_size", AttrType::Ints, "", "the size of the window"}; }
AttrSpec stride() {
  return {"stride", AttrType::Ints, "null", "the step of the window; null means kernel_size", {}, true};
}
AttrSpec padding(const char* doc) { return {"padding", AttrType::Ints, "0", doc}; }
AttrSpec ceil_mode() {
  return {"ceil_mode", AttrType::Bool, "false",
          "round the output size up; a last window starting in the right padding is dropped"};
}

template <typename Make>
auto creator(int rank, Make make) {
  return [rank, make](const Attrs& attrs) { return make(rank, attrs); };
}

}  // namespace

void register_pool_ops(Registry& registry) {
  for (int rank = 1; rank <= 3; ++rank) {
    const std::string d = fmt::format("{}d", rank);

    registry.add({"MaxPool" + d, "pool", fmt::format("{}-d max pooling, optionally returning the argmax indices", rank),
                  rank,
                  {kernel_size(), stride(), padding("implicit -inf padding on both sides, at most kernel_size/2"),
                   {"dilation", AttrType::Ints, "1", "the spacing between window elements"},
                   {"return_indices", AttrType::Bool, "false",
                    "also output the int64 flat index of each maximum within its input plane"},
                   ceil_mode()},
                  {kInput},
                  {"output", "indices"},
                  creator(rank, make_max_pool)});

    std::vector<AttrSpec> avg_attrs = {
        kernel_size(), stride(), padding("implicit zero padding on both sides, at most kernel_size/2"), ceil_mode(),
        {"count_include_pad", AttrType::Bool, "true", "count the zero padding in the divisor"}};
    if (rank > 1)
      avg_attrs.push_back({"divisor_override", AttrType::Int, "null",
                           "divide every window by this instead (non-zero); null means the window size",
                           {},
                           true});
    registry.add({"AvgPool" + d, "pool", fmt::format("{}-d average pooling", rank), rank, avg_attrs, {kInput},
                  {"output"}, creator(rank, make_avg_pool)});

    registry.add({"AdaptiveAvgPool" + d, "pool",
                  fmt::format("{}-d average pooling to a given output size, with overlapping windows", rank),
                  rank,
                  {{"output_size", AttrType::Sizes, "",
                    "the output size; a null entry keeps that input size"}},
                  {kInput},
                  {"output"},
                  creator(rank, make_adaptive_avg_pool)});

    registry.add({"AdaptiveMaxPool" + d, "pool", fmt::format("{}-d max pooling to a given output size", rank), rank,
                  {{"output_size", AttrType::Sizes, "", "the output size; a null entry keeps that input size"},
                   {"return_indices", AttrType::Bool, "false",
                    "also output the int64 flat index of each maximum within its input plane"}},
                  {kInput},
                  {"output", "indices"},
                  creator(rank, make_adaptive_max_pool)});

    registry.add({"MaxUnpool" + d, "pool",
                  fmt::format("{}-d partial inverse of MaxPool{}: scatters values to their indices, zeros elsewhere",
                              rank, d),
                  rank,
                  {kernel_size(), stride(), padding("the padding of the MaxPool being inverted"),
                   {"output_size", AttrType::IntList, "null",
                    "the output's spatial size (or full shape); must lie strictly within stride of the default "
                    "(in-1)*stride + kernel_size - 2*padding",
                    {},
                    true}},
                  {kInput, {"indices", "int64 indices from a MaxPool with return_indices, shaped like input"}},
                  {"output"},
                  creator(rank, make_max_unpool)});

    registry.add({"LPPool" + d, "pool",
                  fmt::format("{}-d power-average pooling: (sum of x^p over each window)^(1/p)", rank), rank,
                  {{"norm_type", AttrType::Float, "",
                    "the power p, non-zero; x^p is taken without abs, as in PyTorch (negative inputs give NaN for "
                    "fractional p)"},
                   kernel_size(), stride(), ceil_mode()},
                  {kInput},
                  {"output"},
                  creator(rank, make_lp_pool)});

    if (rank >= 2)
      registry.add({"FractionalMaxPool" + d, "pool",
                    fmt::format("{}-d max pooling over windows placed at random fractional steps", rank), rank,
                    {kernel_size(),
                     {"output_size", AttrType::Ints, "null",
                      "the output size; give exactly one of output_size and output_ratio", {}, true},
                     {"output_ratio", AttrType::Floats, "null",
                      "the output size as a fraction of the input size, each in (0, 1): int(input_size * ratio)", {},
                      true},
                     {"return_indices", AttrType::Bool, "false",
                      "also output the int64 flat index of each maximum within its input plane"}},
                    {kInput,
                     {"samples",
                      fmt::format("PyTorch's _random_samples: (N, C, {}) float32 window offsets in [0, 1]; default: "
                                  "torch.rand(N, C, {}) after torch.manual_seed(model seed)",
                                  rank, rank),
                      true}},
                    {"output", "indices"},
                    creator(rank, make_fractional_max_pool)});
  }
}

}  // namespace mininn
