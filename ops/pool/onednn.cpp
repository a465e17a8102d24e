#include "ops/pool/onednn.h"

namespace mininn::pool::onednn {

std::unique_ptr<Kernel> make_max_pool(const Geometry&, const Window&, bool, const KernelConfig&, std::string& why) {
  why = "the oneDNN backend is not built yet";
  return nullptr;
}

std::unique_ptr<Kernel> make_avg_pool(const Geometry&, const Window&, const AvgOptions&, const KernelConfig&,
                                      std::string& why) {
  why = "the oneDNN backend is not built yet";
  return nullptr;
}

std::unique_ptr<Kernel> make_adaptive_avg_pool(const Geometry&, const KernelConfig&, std::string& why) {
  why = "the oneDNN backend is not built yet";
  return nullptr;
}

std::unique_ptr<Kernel> make_adaptive_max_pool(const Geometry&, bool, const KernelConfig&, std::string& why) {
  why = "the oneDNN backend is not built yet";
  return nullptr;
}

}  // namespace mininn::pool::onednn
