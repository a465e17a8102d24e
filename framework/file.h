// Whole-file reads with a size limit, and atomic writes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>

namespace mininn {

// The whole file; an Error naming it when it is missing, unreadable or larger
// than `max_bytes`.
std::string read_file(const std::string& path, size_t max_bytes);

// A file written under a temporary name in the same folder
// ("<path>.tmp-<random>"), flushed to disk and renamed into place by
// commit(): until then a file already at `path` stays as it was, so a failed
// or interrupted run never leaves a half-written file where a good one was.
// Destroyed without commit() (an error, an exception), it removes the
// temporary file. Only kill -9 or a crash can leave that temporary behind,
// never a partial file under the real name.
class AtomicFile {
 public:
  explicit AtomicFile(std::string path);
  ~AtomicFile();
  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;

  void write(std::string_view bytes);
  void commit();
  const std::string& path() const { return path_; }

 private:
  std::string path_, temp_;
  std::FILE* file_ = nullptr;
};

// The whole file at once, through an AtomicFile.
void write_file_atomically(const std::string& path, std::string_view bytes);

// IEEE half and bfloat16 to float, every value exact (subnormals, inf, NaN).
float half_to_float(uint16_t bits);
float bfloat16_to_float(uint16_t bits);

}  // namespace mininn
