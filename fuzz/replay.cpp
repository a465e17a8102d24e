// Runs a fuzz target's LLVMFuzzerTestOneInput once on each file given (a
// folder: every file in it), without libFuzzer: how the committed corpus,
// findings included, is replayed by ctest with any compiler.
//
//   replay_npy [--timeout SECONDS] fuzz/corpus/npy [more files or folders]
//
// A crash fails as it would under libFuzzer (run it in the ASan build to see
// memory errors); an input slower than --timeout fails too.
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);
extern "C" __attribute__((weak)) int LLVMFuzzerInitialize(int* argc, char*** argv);

int main(int argc, char** argv) {
  if (LLVMFuzzerInitialize) LLVMFuzzerInitialize(&argc, &argv);
  double timeout = 0;
  std::vector<std::filesystem::path> files;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--timeout" && i + 1 < argc) {
      timeout = std::atof(argv[++i]);
      continue;
    }
    std::error_code ec;
    if (std::filesystem::is_directory(arg, ec)) {
      std::vector<std::filesystem::path> inside;
      for (const auto& entry : std::filesystem::directory_iterator(arg))
        if (entry.is_regular_file()) inside.push_back(entry.path());
      std::sort(inside.begin(), inside.end());
      files.insert(files.end(), inside.begin(), inside.end());
    } else if (std::filesystem::is_regular_file(arg, ec)) {
      files.emplace_back(arg);
    } else {
      std::fprintf(stderr, "replay: %s is neither a file nor a folder\n", arg.c_str());
      return 2;
    }
  }
  if (files.empty()) {
    std::fprintf(stderr, "replay: no inputs (usage: %s [--timeout SECONDS] FILE_OR_FOLDER...)\n", argv[0]);
    return 2;
  }
  double slowest = 0;
  std::string slowest_name;
  for (const auto& file : files) {
    std::ifstream in(file, std::ios::binary);
    std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    auto start = std::chrono::steady_clock::now();
    LLVMFuzzerTestOneInput(bytes.data(), bytes.size());
    double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (seconds > slowest) {
      slowest = seconds;
      slowest_name = file.filename().string();
    }
    if (timeout > 0 && seconds > timeout) {
      std::fprintf(stderr, "replay: %s took %.1f s, over the %.1f s timeout\n", file.string().c_str(), seconds, timeout);
      return 1;
    }
  }
  std::printf("replay: %zu inputs, slowest %s (%.3f s)\n", files.size(), slowest_name.c_str(), slowest);
  return 0;
}
