// Small string helpers shared by the loaders' error messages.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace mininn {

// " (did you mean 'x'?)" when one candidate is close to `word`, else "".
std::string did_you_mean(std::string_view word, const std::vector<std::string>& candidates);

// "a, b, c"
std::string join(const std::vector<std::string>& items, std::string_view separator = ", ");

}  // namespace mininn
