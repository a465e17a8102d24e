// The one exception type of mininn. Every failure the library reports — a bad
// model, a bad file, a shape that does not fit — is an Error carrying where it
// happened: the JSON path, the node and its op, or the file. The CLI prints
// what() after "error: ", so the message must read well on one line.
#pragma once

#include <fmt/format.h>

#include <stdexcept>
#include <string>

namespace mininn {

class Error : public std::runtime_error {
 public:
  struct Where {
    std::string path;  // JSON path ("nodes[1].attrs.padding") or a file name
    std::string node;  // node name, if a node is involved
    std::string op;    // that node's op

    Where(std::string path = {}, std::string node = {}, std::string op = {})
        : path(std::move(path)), node(std::move(node)), op(std::move(op)) {}
  };

  explicit Error(std::string message, Where where = {});

  const std::string& message() const { return message_; }
  const Where& where() const { return where_; }

  // A copy with context added: a shape rule throws a bare message, the graph
  // loader adds the node and the path. A path already set stays, prefixed by
  // the outer path unless it lies within it.
  Error in(const Where& outer) const;

 private:
  std::string message_;
  Where where_;
};

// Throws Error with a fmt-formatted message and no context.
template <typename... Args>
[[noreturn]] void fail(fmt::format_string<Args...> format, Args&&... args) {
  throw Error(fmt::format(format, std::forward<Args>(args)...));
}

// Throws when `condition` is false.
template <typename... Args>
void check(bool condition, fmt::format_string<Args...> format, Args&&... args) {
  if (!condition) throw Error(fmt::format(format, std::forward<Args>(args)...));
}

}  // namespace mininn
