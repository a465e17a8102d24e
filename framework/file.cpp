#include "framework/file.h"

#include "framework/error.h"

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <utility>

#include <fmt/format.h>

#include <unistd.h>

namespace mininn {

std::string read_file(const std::string& path, size_t max_bytes) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) fail("{}: no such file", path);
  uintmax_t size = std::filesystem::file_size(path, ec);
  if (ec) fail("{}: cannot read: {}", path, ec.message());
  if (size > max_bytes) fail("{}: the file is {} bytes, over the limit of {} bytes", path, size, max_bytes);
  std::ifstream file(path, std::ios::binary);
  if (!file) fail("{}: cannot open: {}", path, std::strerror(errno));
  std::string bytes(static_cast<size_t>(size), '\0');
  file.read(bytes.data(), static_cast<std::streamsize>(size));
  if (file.gcount() != static_cast<std::streamsize>(size)) fail("{}: short read", path);
  return bytes;
}

AtomicFile::AtomicFile(std::string path) : path_(std::move(path)) {
  std::random_device entropy;
  temp_ = fmt::format("{}.tmp-{:08x}{}", path_, entropy(), ::getpid());
  file_ = std::fopen(temp_.c_str(), "wbx");  // x: never reuse someone else's file
  if (!file_) fail("{}: cannot write: {}", path_, std::strerror(errno));
}

AtomicFile::~AtomicFile() {
  if (!file_) return;
  std::fclose(file_);
  std::remove(temp_.c_str());
}

void AtomicFile::write(std::string_view bytes) {
  check(file_ != nullptr, "{}: write after commit", path_);
  if (std::fwrite(bytes.data(), 1, bytes.size(), file_) != bytes.size())
    fail("{}: writing failed: {}", path_, std::strerror(errno));
}

void AtomicFile::commit() {
  check(file_ != nullptr, "{}: committed twice", path_);
  // On disk before the rename, so that even a power cut leaves the old file
  // or the whole new one.
  int error = 0;
  if (std::fflush(file_) != 0 || ::fsync(fileno(file_)) != 0) error = errno;
  if (std::fclose(file_) != 0 && !error) error = errno;
  file_ = nullptr;
  if (error) {
    std::remove(temp_.c_str());
    fail("{}: writing failed: {}", path_, std::strerror(error));
  }
  if (std::rename(temp_.c_str(), path_.c_str()) != 0) {
    int saved = errno;
    std::remove(temp_.c_str());
    fail("{}: cannot move the written file into place: {}", path_, std::strerror(saved));
  }
}

void write_file_atomically(const std::string& path, std::string_view bytes) {
  AtomicFile file(path);
  file.write(bytes);
  file.commit();
}

float half_to_float(uint16_t bits) {
  uint32_t sign = (bits & 0x8000u) << 16, exponent = (bits >> 10) & 0x1f, mantissa = bits & 0x3ff;
  uint32_t out;
  if (exponent == 0x1f) {
    out = sign | 0x7f800000u | (mantissa << 13);  // inf, NaN (payload kept)
  } else if (exponent != 0) {
    out = sign | ((exponent + 112) << 23) | (mantissa << 13);
  } else if (mantissa == 0) {
    out = sign;
  } else {  // subnormal: normalise
    int shift = 0;
    while (!(mantissa & 0x400)) {
      mantissa <<= 1;
      ++shift;
    }
    out = sign | (static_cast<uint32_t>(113 - shift) << 23) | ((mantissa & 0x3ff) << 13);
  }
  float f;
  std::memcpy(&f, &out, 4);
  return f;
}

float bfloat16_to_float(uint16_t bits) {
  uint32_t out = static_cast<uint32_t>(bits) << 16;
  float f;
  std::memcpy(&f, &out, 4);
  return f;
}

}  // namespace mininn
