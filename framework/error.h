// The one exception type of mininn is public (include/mininn/error.h); this
// header adds the fmt-formatted helpers the library throws it with. The CLI
// prints what() after "error: ", so a message must read well on one line.
#pragma once

#include <mininn/error.h>

#include <fmt/format.h>

#include <string>
#include <utility>

namespace mininn {

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
