#include "framework/idx.h"

#include "framework/error.h"

#include <zlib.h>

#include <cstring>
#include <memory>
#include <vector>

namespace mininn {
namespace {

struct GzCloser {
  void operator()(gzFile_s* file) const { gzclose(file); }
};
using GzFile = std::unique_ptr<gzFile_s, GzCloser>;

// gzopen reads plain files too (transparently), so one path serves both.
GzFile open(const std::string& path) {
  GzFile file(gzopen(path.c_str(), "rb"));
  check(file != nullptr, "{}: cannot open", path);
  gzbuffer(file.get(), 1 << 17);
  return file;
}

// Reads exactly `size` bytes; anything less is a truncated file.
void read_exactly(gzFile_s* file, void* out, size_t size, const std::string& path, const char* what) {
  auto* bytes = static_cast<unsigned char*>(out);
  size_t done = 0;
  while (done < size) {
    unsigned chunk = static_cast<unsigned>(std::min<size_t>(size - done, 1u << 30));
    int got = gzread(file, bytes + done, chunk);
    if (got < 0) {
      int code = 0;
      const char* message = gzerror(file, &code);
      fail("{}: corrupt file while reading {}: {}", path, what, message ? message : "read error");
    }
    if (got == 0) fail("{}: truncated: {} needs {} bytes, but the file ends after {}", path, what, size, done);
    done += static_cast<size_t>(got);
  }
}

struct ElementType {
  unsigned char code;
  const char* name;
  size_t size;
  bool integer;
};

constexpr ElementType kTypes[] = {{0x08, "uint8", 1, true},    {0x09, "int8", 1, true},     {0x0B, "int16", 2, true},
                                  {0x0C, "int32", 4, true},    {0x0D, "float32", 4, false}, {0x0E, "float64", 8, false}};

uint64_t big_endian(const unsigned char* p, size_t size) {
  uint64_t v = 0;
  for (size_t i = 0; i < size; ++i) v = (v << 8) | p[i];
  return v;
}

// One element at `p` (big-endian) as a double: exact for every IDX type.
double element(const unsigned char* p, const ElementType& type) {
  uint64_t bits = big_endian(p, type.size);
  switch (type.code) {
    case 0x08: return static_cast<double>(static_cast<uint8_t>(bits));
    case 0x09: return static_cast<double>(static_cast<int8_t>(bits));
    case 0x0B: return static_cast<double>(static_cast<int16_t>(bits));
    case 0x0C: return static_cast<double>(static_cast<int32_t>(bits));
    case 0x0D: {
      uint32_t b = static_cast<uint32_t>(bits);
      float f;
      std::memcpy(&f, &b, 4);
      return f;
    }
    default: {
      double d;
      std::memcpy(&d, &bits, 8);
      return d;
    }
  }
}

}  // namespace

bool looks_like_idx(const std::string& path) {
  FILE* file = std::fopen(path.c_str(), "rb");
  if (!file) return false;
  unsigned char head[4] = {1, 1, 1, 1};
  size_t got = std::fread(head, 1, 4, file);
  std::fclose(file);
  if (got >= 2 && head[0] == 0x1f && head[1] == 0x8b) return true;  // gzip
  return got == 4 && head[0] == 0 && head[1] == 0 && head[3] >= 1;
}

Tensor read_idx(const std::string& path, DType want, float divisor) {
  GzFile file = open(path);
  unsigned char header[4];
  read_exactly(file.get(), header, 4, path, "the IDX header");
  check(header[0] == 0 && header[1] == 0, "{}: not an IDX file (it does not start with two zero bytes)", path);
  const ElementType* type = nullptr;
  for (const ElementType& t : kTypes)
    if (t.code == header[2]) type = &t;
  check(type != nullptr, "{}: unknown IDX element type 0x{:02x}", path, header[2]);
  const int rank = header[3];
  check(rank >= 1, "{}: an IDX file needs at least one dimension", path);
  std::vector<unsigned char> dims(4 * static_cast<size_t>(rank));
  read_exactly(file.get(), dims.data(), dims.size(), path, "the IDX dimensions");
  Shape shape;
  for (int d = 0; d < rank; ++d) shape.push_back(static_cast<int64_t>(big_endian(&dims[4 * d], 4)));
  check(want == DType::Float32 || type->integer, "{}: holds {} values, but integers (labels) are needed", path,
        type->name);
  check_tensor_bytes(shape, want, path);
  const int64_t count = checked_numel(shape);
  Tensor out = Tensor::empty(shape, want);

  // Converted in chunks, so a large file never needs a second full-size buffer.
  std::vector<unsigned char> chunk(std::min<size_t>(static_cast<size_t>(count) * type->size, size_t{1} << 22) + 8);
  const int64_t per_chunk = static_cast<int64_t>((chunk.size() - 8) / type->size);
  for (int64_t start = 0; start < count; start += per_chunk) {
    int64_t n = std::min(per_chunk, count - start);
    read_exactly(file.get(), chunk.data(), static_cast<size_t>(n) * type->size, path, "the IDX data");
    for (int64_t i = 0; i < n; ++i) {
      double v = element(chunk.data() + i * type->size, *type);
      if (want == DType::Float32) out.f32()[start + i] = static_cast<float>(v) / divisor;
      else out.i64()[start + i] = static_cast<int64_t>(v);
    }
  }
  unsigned char extra;
  check(gzread(file.get(), &extra, 1) == 0, "{}: more data than its dimensions {} need", path, to_string(shape));
  return out;
}

}  // namespace mininn
