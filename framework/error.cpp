#include "framework/error.h"

namespace mininn {
namespace {

std::string render(const std::string& message, const Error::Where& where) {
  std::string node;
  if (!where.node.empty())
    node = where.op.empty() ? fmt::format("node '{}': ", where.node) : fmt::format("node '{}' ({}): ", where.node, where.op);
  return fmt::format("{}{}{}{}", where.path, where.path.empty() ? "" : ": ", node, message);
}

}  // namespace

Error::Error(std::string message, Where where)
    : std::runtime_error(render(message, where)), message_(std::move(message)), where_(std::move(where)) {}

Error Error::in(const Where& outer) const {
  Where merged = where_;
  // An inner path inside the outer one ("nodes[0].attrs.k" in "nodes[0]") is
  // kept; an unrelated one (a file named by a JSON entry) goes after it.
  if (merged.path.empty()) merged.path = outer.path;
  else if (!outer.path.empty() && merged.path.rfind(outer.path, 0) != 0) merged.path = outer.path + ": " + merged.path;
  if (merged.node.empty()) merged.node = outer.node;
  if (merged.op.empty()) merged.op = outer.op;
  return Error(message_, merged);
}

}  // namespace mininn
