// Layout propagation's oneDNN side: a TensorLayout is the memory descriptor
// a value is kept in between two oneDNN kernels (nChw16c, nhwc, ...), so the
// producer's primitive writes it and the consumer's reads it as it is.
// Only ops/*/onednn*.cpp and graph/ see this header; elsewhere a layout is an
// opaque TensorLayoutRef (ops/op.h).
#pragma once

#include "ops/onednn/runtime.h"
#include "ops/op.h"

#include <string>

namespace mininn {

struct TensorLayout {
  dnnl::memory::desc desc;
  std::string name;  // "nChw16c"
};

}  // namespace mininn

namespace mininn::onednn {

// The layout a value in `desc` is handed over in: null (plain) when `desc`
// is the plain layout, or when it pads — a channel-blocked layout of a
// channel count that is not a multiple of the block takes more bytes than
// the value, and the graph's buffers are planned by the value's own size.
TensorLayoutRef propagated_layout(const memory::desc& desc);

// The descriptor of a value of `dims` in `layout` (plain for null).
memory::desc desc_of(const TensorLayoutRef& layout, const Dims& dims);

// oneDNN's name of a layout, from its dimension letters: tag_name(d, "nchw")
// gives "nchw", "nhwc" or "nChw16c"; tag_name(w, "oihw") "OIhw16i16o".
std::string tag_name(const memory::desc& desc, const std::string& letters);

// "input 0: nchw -> nChw16c"-style line for Dispatch::conversions.
std::string conversion(const std::string& what, const memory::desc& from, const memory::desc& to,
                       const std::string& letters);

}  // namespace mininn::onednn
