#include "fuzz/common.h"

#include <mininn/tensor.h>

#include <omp.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>

namespace mininn::fuzz {

void use_small_limits() {
  set_max_tensor_bytes(size_t{1} << 20);
  set_max_graph_bytes(size_t{4} << 20);
  omp_set_num_threads(1);  // libgomp read OMP_NUM_THREADS before main: set it here
}

MemoryFile::MemoryFile() {
  fd_ = memfd_create("mininn-fuzz", MFD_CLOEXEC);
  if (fd_ < 0) {
    std::perror("memfd_create");
    std::abort();
  }
  path_ = "/proc/self/fd/" + std::to_string(fd_);
}

MemoryFile::~MemoryFile() { ::close(fd_); }

const std::string& MemoryFile::hold(const uint8_t* data, size_t size) {
  bool ok = ::ftruncate(fd_, 0) == 0;
  size_t done = 0;
  while (ok && done < size) {
    ssize_t wrote = ::pwrite(fd_, data + done, size - done, static_cast<off_t>(done));
    ok = wrote > 0;
    done += ok ? static_cast<size_t>(wrote) : 0;
  }
  if (!ok) {
    std::perror("memfd write");
    std::abort();
  }
  return path_;
}

}  // namespace mininn::fuzz
