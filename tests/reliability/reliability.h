// Shared by the reliability tests (tests/reliability/main.cpp runs them).
#pragma once

#include <string>

namespace testing {
// This test binary's path, to start it again as a helper process.
std::string reliability_binary();
}  // namespace testing

namespace mininn {
// The helper of the kill -9 test: rewrites `path` until killed.
[[noreturn]] void write_forever(const std::string& path);
}  // namespace mininn
