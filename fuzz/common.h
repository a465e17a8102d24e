// What the fuzz targets share: small resource limits, and a file in memory
// for readers that take a path.
//
// Each fuzz/<target>.cpp defines LLVMFuzzerTestOneInput (and may define
// LLVMFuzzerInitialize). Linked with -fsanitize=fuzzer it is a libFuzzer
// target (MININN_FUZZ=ON, clang); linked with replay.cpp it is a plain
// program that runs the committed corpus once, with any compiler.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace mininn::fuzz {

// Limits small enough that no input can allocate much or run for long:
// 1 MiB per tensor, 4 MiB per graph, one OpenMP thread.
void use_small_limits();

// A memory-backed file (memfd) with a path that every reader accepts.
class MemoryFile {
 public:
  MemoryFile();
  ~MemoryFile();
  MemoryFile(const MemoryFile&) = delete;
  MemoryFile& operator=(const MemoryFile&) = delete;

  // Replaces the contents; returns the path to read them from.
  const std::string& hold(const uint8_t* data, size_t size);

 private:
  int fd_ = -1;
  std::string path_;
};

}  // namespace mininn::fuzz
