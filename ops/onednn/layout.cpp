#include "ops/onednn/layout.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <numeric>

namespace mininn {

std::string layout_name(const TensorLayoutRef& layout) { return layout ? layout->name : "plain"; }

}  // namespace mininn

namespace mininn::onednn {

std::string tag_name(const memory::desc& desc, const std::string& letters) {
  const dnnl_memory_desc_t& d = desc.data;
  if (d.format_kind != dnnl_blocked || d.ndims != static_cast<int>(letters.size())) return "blocked";
  const dnnl_blocking_desc_t& b = d.format_desc.blocking;
  std::vector<int> order(d.ndims);
  std::iota(order.begin(), order.end(), 0);
  // Outermost first; a tie (a dimension of size 1) keeps the logical order.
  std::stable_sort(order.begin(), order.end(), [&](int x, int y) { return b.strides[x] > b.strides[y]; });
  std::string name;
  for (int dim : order) {
    bool blocked = false;
    for (int i = 0; i < b.inner_nblks; ++i) blocked = blocked || b.inner_idxs[i] == dim;
    name += blocked ? static_cast<char>(std::toupper(letters[dim])) : letters[dim];
  }
  for (int i = 0; i < b.inner_nblks; ++i) name += fmt::format("{}{}", b.inner_blks[i], letters[b.inner_idxs[i]]);
  return name;
}

TensorLayoutRef propagated_layout(const memory::desc& desc) {
  if (desc.is_zero() || is_plain(desc)) return nullptr;
  const memory::desc plain_desc = plain(desc.dims(), desc.data_type());
  if (desc.get_size() != plain_desc.get_size()) return nullptr;
  const std::string letters = desc.data.ndims == 4 ? "nchw" : desc.data.ndims == 5 ? "ncdhw" : "ncw";
  return std::make_shared<const TensorLayout>(TensorLayout{desc, tag_name(desc, letters)});
}

memory::desc desc_of(const TensorLayoutRef& layout, const Dims& dims) { return layout ? layout->desc : plain(dims); }

std::string conversion(const std::string& what, const memory::desc& from, const memory::desc& to,
                       const std::string& letters) {
  return fmt::format("{}: {} -> {}", what, tag_name(from, letters), tag_name(to, letters));
}

}  // namespace mininn::onednn
