// GoogleTest's main, plus the helper modes the tests start this binary in.
#include "reliability.h"

#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>

namespace testing {
std::string reliability_binary() { return std::filesystem::read_symlink("/proc/self/exe").string(); }
}  // namespace testing

int main(int argc, char** argv) {
  if (argc == 3 && std::strcmp(argv[1], "--write-forever") == 0) mininn::write_forever(argv[2]);
  testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
