// What the oneDNN backend reports about itself, without exposing oneDNN's
// headers: tests count primitives through this, tools print the version.
#pragma once

#include <cstdint>
#include <string>

namespace mininn::onednn {

// Primitives (compute and reorder) mininn has created since the process
// started, over every kernel. A second run of a compiled graph adds none.
int64_t primitives_created_total();

// "oneDNN 2.6.3 (avx512_core_bf16, 2 OpenMP threads)".
std::string describe();

}  // namespace mininn::onednn
