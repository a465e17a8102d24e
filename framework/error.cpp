#include "framework/error.h"

namespace mininn {
namespace {

std::string render(const std::string& message, const Error::Where& where) {
  std::string out;
  if (!where.path.empty()) out += where.path + ": ";
  if (!where.node.empty()) {
    out += "node '" + where.node + "'";
    if (!where.op.empty()) out += " (" + where.op + ")";
    out += ": ";
  }
  return out + message;
}

}  // namespace

Error::Error(std::string message, Where where)
    : std::runtime_error(render(message, where)), message_(std::move(message)), where_(std::move(where)) {}

Error Error::in(const Where& outer) const {
  Where merged = where_;
  if (merged.path.empty()) merged.path = outer.path;
  if (merged.node.empty()) merged.node = outer.node;
  if (merged.op.empty()) merged.op = outer.op;
  return Error(message_, merged);
}

}  // namespace mininn
