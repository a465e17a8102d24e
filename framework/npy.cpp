#include "framework/npy.h"

#include "framework/error.h"
#include "framework/file.h"

#include <algorithm>
#include <bit>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <limits>
#include <memory>
#include <string_view>
#include <vector>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

static_assert(std::endian::native == std::endian::little, "npy I/O assumes a little-endian host");

namespace mininn {
namespace {

constexpr char kMagic[] = "\x93NUMPY";
constexpr size_t kMagicSize = 6;
// numpy's own reader refuses headers over 10 kB by default; we allow more
// but not enough for a hostile length field to make us allocate gigabytes.
constexpr size_t kMaxHeaderBytes = size_t{1} << 20;
constexpr size_t kMaxRank = 64;
constexpr int kMaxNesting = 16;

// ---- The header: a Python literal dict --------------------------------------

// The subset of Python literals numpy writes (and a little more, so that a
// structured dtype or an odd value gets a clear message instead of "syntax
// error").
struct Literal {
  enum class Kind { String, Bool, None, Int, Sequence, Dict } kind = Kind::None;
  std::string text;               // String
  bool flag = false;              // Bool
  int64_t number = 0;             // Int
  std::vector<Literal> items;     // Sequence elements, Dict values
  std::vector<std::string> keys;  // Dict keys, parallel to items
};

class LiteralParser {
 public:
  explicit LiteralParser(std::string_view text) : text_(text) {}

  Literal parse_document() {
    Literal value = parse_value(0);
    // numpy pads the header with spaces and a newline; some writers use NULs.
    while (!at_end() && (is_space(text_[pos_]) || text_[pos_] == '\0')) ++pos_;
    check(at_end(), "unexpected text after the header dict at offset {}", pos_);
    return value;
  }

 private:
  std::string_view text_;
  size_t pos_ = 0;

  static bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\v'; }
  void skip_space() {
    while (!at_end() && is_space(text_[pos_])) ++pos_;
  }
  bool at_end() const { return pos_ >= text_.size(); }
  char peek() const { return at_end() ? '\0' : text_[pos_]; }
  bool consume(char c) {
    skip_space();
    if (peek() != c) return false;
    ++pos_;
    return true;
  }
  void expect(char c, const char* where) {
    if (!consume(c)) {
      fail("malformed header: expected '{}' {} at offset {}", c, where, pos_);
    }
  }

  Literal parse_value(int depth) {
    check(depth < kMaxNesting, "malformed header: nested too deeply");
    skip_space();
    check(!at_end(), "malformed header: it ends where a value should be");
    char c = peek();
    if (c == '\'' || c == '"') return parse_string();
    if (c == '(') return parse_sequence(')', depth);
    if (c == '[') return parse_sequence(']', depth);
    if (c == '{') return parse_dict(depth);
    if (c == '-' || c == '+' || (c >= '0' && c <= '9')) return parse_int();
    for (const char* word : {"True", "False", "None"}) {
      size_t length = std::strlen(word);
      if (text_.substr(pos_, length) == word) {
        pos_ += length;
        Literal value;
        value.kind = word[0] == 'N' ? Literal::Kind::None : Literal::Kind::Bool;
        value.flag = word[0] == 'T';
        return value;
      }
    }
    fail("malformed header: unexpected character '{}' at offset {}", c, pos_);
  }

  Literal parse_string() {
    char quote = text_[pos_++];
    Literal value;
    value.kind = Literal::Kind::String;
    while (true) {
      check(!at_end(), "malformed header: unterminated string");
      char c = text_[pos_++];
      if (c == quote) break;
      if (c == '\\') {
        check(!at_end(), "malformed header: unterminated string");
        c = text_[pos_++];
      }
      value.text += c;
    }
    return value;
  }

  Literal parse_int() {
    bool negative = false;
    if (peek() == '+' || peek() == '-') negative = text_[pos_++] == '-';
    check(peek() >= '0' && peek() <= '9', "malformed header: bad number at offset {}", pos_);
    // Accumulated as a negative number so that INT64_MIN parses too.
    int64_t value = 0;
    while (peek() >= '0' && peek() <= '9') {
      int digit = text_[pos_++] - '0';
      if (__builtin_mul_overflow(value, 10, &value) || __builtin_sub_overflow(value, digit, &value)) {
        fail("integer in the header does not fit in 64 bits");
      }
    }
    if (peek() == 'L' || peek() == 'l') ++pos_;  // Python 2 long, as old numpy wrote shapes
    if (!negative) {
      check(value != std::numeric_limits<int64_t>::min(), "integer in the header does not fit in 64 bits");
      value = -value;
    }
    Literal literal;
    literal.kind = Literal::Kind::Int;
    literal.number = value;
    return literal;
  }

  Literal parse_sequence(char close, int depth) {
    ++pos_;
    Literal value;
    value.kind = Literal::Kind::Sequence;
    while (!consume(close)) {
      value.items.push_back(parse_value(depth + 1));
      if (!consume(',')) {
        expect(close, "closing a tuple or list");
        break;
      }
    }
    return value;
  }

  Literal parse_dict(int depth) {
    ++pos_;
    Literal value;
    value.kind = Literal::Kind::Dict;
    while (!consume('}')) {
      skip_space();
      check(peek() == '\'' || peek() == '"', "malformed header: dict keys must be strings (offset {})", pos_);
      std::string key = parse_string().text;
      expect(':', "after a dict key");
      check(std::find(value.keys.begin(), value.keys.end(), key) == value.keys.end(), "header repeats the key '{}'",
            key);
      value.items.push_back(parse_value(depth + 1));
      value.keys.push_back(std::move(key));
      if (!consume(',')) {
        expect('}', "closing the header dict");
        break;
      }
    }
    return value;
  }
};

// ---- Element types -----------------------------------------------------------

enum class ElementKind { Float, Signed, Unsigned, Bool };

struct ElementType {
  ElementKind kind = ElementKind::Float;
  size_t size = 4;
  std::string descr;
};

ElementType parse_descr(const std::string& descr) {
  std::string_view rest = descr;
  char order = '=';
  if (!rest.empty() && std::string_view("<>|=").find(rest[0]) != std::string_view::npos) {
    order = rest[0];
    rest.remove_prefix(1);
  }
  ElementType type;
  type.descr = descr;
  check(rest != "O", "object arrays (dtype '{}', pickled Python objects) are not supported", descr);
  static const struct {
    std::string_view code;
    ElementKind kind;
    size_t size;
  } kKnown[] = {{"f2", ElementKind::Float, 2},    {"f4", ElementKind::Float, 4},    {"f8", ElementKind::Float, 8},
                {"i1", ElementKind::Signed, 1},   {"i2", ElementKind::Signed, 2},   {"i4", ElementKind::Signed, 4},
                {"i8", ElementKind::Signed, 8},   {"u1", ElementKind::Unsigned, 1}, {"u2", ElementKind::Unsigned, 2},
                {"u4", ElementKind::Unsigned, 4}, {"u8", ElementKind::Unsigned, 8}, {"b1", ElementKind::Bool, 1}};
  for (const auto& known : kKnown) {
    if (rest != known.code) continue;
    check(order != '>' || known.size == 1, "big-endian data (dtype '{}') is not supported; save it as '<{}'", descr,
          known.code);
    type.kind = known.kind;
    type.size = known.size;
    return type;
  }
  fail("unsupported dtype '{}' (supported: float16/32/64, int8..int64, uint8..uint64, bool)", descr);
}

// ---- Layout: what the header says --------------------------------------------

struct Layout {
  ElementType type;
  Shape shape;
  int64_t numel = 1;
  size_t data_offset = 0;
  size_t data_bytes = 0;
};

Shape parse_shape(const Literal& value) {
  check(value.kind == Literal::Kind::Sequence, "'shape' must be a tuple of integers");
  check(value.items.size() <= kMaxRank, "shape has {} dimensions, more than the {} supported", value.items.size(),
        kMaxRank);
  Shape shape;
  for (const Literal& extent : value.items) {
    check(extent.kind == Literal::Kind::Int, "'shape' must be a tuple of integers");
    check(extent.number >= 0, "shape has a negative extent {}", extent.number);
    shape.push_back(extent.number);
  }
  return shape;
}

// The header of a .npy file: its text starts after the preamble, whose
// length field says where the data begins.
Layout parse_header(std::string_view header) {
  Literal dict = LiteralParser(header).parse_document();
  check(dict.kind == Literal::Kind::Dict, "malformed header: not a dict");
  const Literal* descr = nullptr;
  const Literal* fortran = nullptr;
  const Literal* shape = nullptr;
  for (size_t i = 0; i < dict.items.size(); ++i) {
    const std::string& key = dict.keys[i];
    if (key == "descr") {
      descr = &dict.items[i];
    } else if (key == "fortran_order") {
      fortran = &dict.items[i];
    } else if (key == "shape") {
      shape = &dict.items[i];
    } else {
      fail("header has an unexpected key '{}' (a .npy header holds descr, fortran_order and shape)", key);
    }
  }
  check(descr && fortran && shape, "header lacks '{}'", !descr ? "descr" : !fortran ? "fortran_order" : "shape");
  check(descr->kind != Literal::Kind::Sequence, "structured dtypes (record arrays) are not supported");
  check(descr->kind == Literal::Kind::String, "'descr' must be a dtype string such as '<f4'");
  check(fortran->kind == Literal::Kind::Bool, "'fortran_order' must be True or False");

  Layout layout;
  layout.type = parse_descr(descr->text);
  layout.shape = parse_shape(*shape);
  layout.numel = checked_numel(layout.shape);
  // Fortran order only changes the element order when two or more extents
  // exceed 1; such files are refused rather than transposed.
  if (fortran->flag) {
    auto non_unit = std::count_if(layout.shape.begin(), layout.shape.end(), [](int64_t e) { return e > 1; });
    check(non_unit <= 1, "Fortran-ordered arrays are not supported (shape {}); save np.ascontiguousarray(a)",
          to_string(layout.shape));
  }
  layout.data_bytes =
      static_cast<size_t>(checked_mul(layout.numel, static_cast<int64_t>(layout.type.size), "data size in bytes"));
  return layout;
}

// ---- Reading -------------------------------------------------------------------

// Where the bytes come from: a file read piece by piece, or memory.
class ByteSource {
 public:
  virtual ~ByteSource() = default;
  virtual size_t size() const = 0;
  // Copies [offset, offset + count), which the caller has checked is inside size().
  virtual void read(size_t offset, void* dest, size_t count) = 0;
};

class MemorySource : public ByteSource {
 public:
  MemorySource(const void* data, size_t size) : data_(static_cast<const std::byte*>(data)), size_(size) {}
  size_t size() const override { return size_; }
  void read(size_t offset, void* dest, size_t count) override {
    if (count) std::memcpy(dest, data_ + offset, count);
  }

 private:
  const std::byte* data_;
  size_t size_;
};

class FileSource : public ByteSource {
 public:
  explicit FileSource(const std::string& path) : file_(nullptr, &std::fclose) {
    // Opened without blocking, so that a FIFO named by a model cannot hang
    // the loader before the regular-file check refuses it.
    int fd = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    check(fd >= 0, "cannot open file: {}", std::strerror(errno));
    struct stat info {};
    if (::fstat(fd, &info) != 0 || !S_ISREG(info.st_mode)) {
      ::close(fd);
      fail("not a regular file");
    }
    file_.reset(::fdopen(fd, "rb"));
    if (!file_) {
      ::close(fd);
      fail("cannot open file: {}", std::strerror(errno));
    }
    size_ = static_cast<size_t>(info.st_size);
  }
  size_t size() const override { return size_; }
  void read(size_t offset, void* dest, size_t count) override {
    if (!count) return;
    check(std::fseek(file_.get(), static_cast<long>(offset), SEEK_SET) == 0, "cannot seek: {}", std::strerror(errno));
    check(std::fread(dest, 1, count, file_.get()) == count, "read failed (file changed while reading?)");
  }

 private:
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> file_;
  size_t size_ = 0;
};

uint32_t read_le(const unsigned char* bytes, size_t count) {
  uint32_t value = 0;
  for (size_t i = count; i-- > 0;) value = (value << 8) | bytes[i];
  return value;
}

Layout read_layout(ByteSource& source) {
  const size_t size = source.size();
  unsigned char preamble[12] = {};
  source.read(0, preamble, std::min(size, sizeof(preamble)));
  check(size >= kMagicSize && std::memcmp(preamble, kMagic, kMagicSize) == 0,
        "not a .npy file (it does not start with \\x93NUMPY)");
  check(size >= 10, "truncated header: the file ends inside the preamble");
  const int major = preamble[6];
  const int minor = preamble[7];
  check((major == 1 || major == 2 || major == 3) && minor == 0, "unsupported .npy format version {}.{}", major, minor);
  const size_t length_size = major == 1 ? 2 : 4;
  check(size >= 8 + length_size, "truncated header: the file ends inside the preamble");
  const size_t header_size = read_le(preamble + 8, length_size);
  const size_t header_start = 8 + length_size;
  check(header_size <= kMaxHeaderBytes, "header length {} is implausibly large", header_size);
  check(header_size <= size - header_start, "truncated header: it says {} bytes, the file has {} after the preamble",
        header_size, size - header_start);
  std::string header(header_size, '\0');
  source.read(header_start, header.data(), header_size);

  Layout layout = parse_header(header);
  layout.data_offset = header_start + header_size;
  return layout;
}

template <typename T, typename Store>
void convert_each(const std::byte* src, size_t count, Store&& store) {
  for (size_t i = 0; i < count; ++i) {
    T value;
    std::memcpy(&value, src + i * sizeof(T), sizeof(T));
    store(i, value);
  }
}

// Converts `count` elements at `src` (unaligned, little-endian) to float32.
void convert_to_float(const std::byte* src, size_t count, const ElementType& type, float* dst) {
  auto store = [dst](size_t i, auto value) { dst[i] = static_cast<float>(value); };
  switch (type.kind) {
    case ElementKind::Float:
      if (type.size == 2)
        return convert_each<uint16_t>(src, count, [dst](size_t i, uint16_t h) { dst[i] = half_to_float(h); });
      if (type.size == 4) return std::memcpy(dst, src, count * 4), void();
      return convert_each<double>(src, count, store);
    case ElementKind::Signed:
      if (type.size == 1) return convert_each<int8_t>(src, count, store);
      if (type.size == 2) return convert_each<int16_t>(src, count, store);
      if (type.size == 4) return convert_each<int32_t>(src, count, store);
      return convert_each<int64_t>(src, count, store);
    case ElementKind::Unsigned:
      if (type.size == 1) return convert_each<uint8_t>(src, count, store);
      if (type.size == 2) return convert_each<uint16_t>(src, count, store);
      if (type.size == 4) return convert_each<uint32_t>(src, count, store);
      return convert_each<uint64_t>(src, count, store);
    case ElementKind::Bool:
      return convert_each<uint8_t>(src, count, [dst](size_t i, uint8_t b) { dst[i] = b ? 1.0f : 0.0f; });
  }
}

// Converts `count` integer elements to int64; `first` is the index of the
// first one in the array, for the message about a uint64 that does not fit.
void convert_to_int64(const std::byte* src, size_t count, const ElementType& type, int64_t* dst, size_t first) {
  auto store = [dst](size_t i, auto value) { dst[i] = static_cast<int64_t>(value); };
  switch (type.kind) {
    case ElementKind::Float:
      fail("internal error: float data reached the int64 conversion");
    case ElementKind::Signed:
      if (type.size == 1) return convert_each<int8_t>(src, count, store);
      if (type.size == 2) return convert_each<int16_t>(src, count, store);
      if (type.size == 4) return convert_each<int32_t>(src, count, store);
      return std::memcpy(dst, src, count * 8), void();
    case ElementKind::Unsigned:
      if (type.size == 1) return convert_each<uint8_t>(src, count, store);
      if (type.size == 2) return convert_each<uint16_t>(src, count, store);
      if (type.size == 4) return convert_each<uint32_t>(src, count, store);
      return convert_each<uint64_t>(src, count, [dst, first](size_t i, uint64_t value) {
        check(value <= static_cast<uint64_t>(std::numeric_limits<int64_t>::max()),
              "uint64 element {} is {}, which does not fit in int64", first + i, value);
        dst[i] = static_cast<int64_t>(value);
      });
    case ElementKind::Bool:
      return convert_each<uint8_t>(src, count, [dst](size_t i, uint8_t b) { dst[i] = b ? 1 : 0; });
  }
}

Tensor load(ByteSource& source, std::optional<DType> want) {
  Layout layout = read_layout(source);
  const bool is_float = layout.type.kind == ElementKind::Float;
  check(!(want == DType::Int64 && is_float), "holds floating-point data (dtype '{}') where integers are required",
        layout.type.descr);
  const DType dtype = want.value_or(is_float ? DType::Float32 : DType::Int64);

  // Every size check happens before anything is allocated.
  check_tensor_bytes(layout.shape, dtype, "array");
  const size_t available = source.size() - layout.data_offset;
  check(available >= layout.data_bytes, "truncated data: shape {} of '{}' needs {} bytes, the file has {}",
        to_string(layout.shape), layout.type.descr, layout.data_bytes, available);
  check(available == layout.data_bytes, "{} unexpected bytes after the data (shape {} of '{}' needs {} bytes)",
        available - layout.data_bytes, to_string(layout.shape), layout.type.descr, layout.data_bytes);

  Tensor tensor = Tensor::empty(layout.shape, dtype);
  const size_t numel = static_cast<size_t>(layout.numel);
  const size_t item = layout.type.size;
  // Same-size types are read straight into the tensor; the others through a
  // bounded buffer, so that a big float64 file does not need twice its size.
  if ((dtype == DType::Float32 && layout.type.kind == ElementKind::Float && item == 4) ||
      (dtype == DType::Int64 && layout.type.kind == ElementKind::Signed && item == 8)) {
    source.read(layout.data_offset, tensor.raw(), layout.data_bytes);
    return tensor;
  }
  constexpr size_t kChunkElements = size_t{1} << 16;
  std::vector<std::byte> buffer(std::min(numel, kChunkElements) * item);
  for (size_t first = 0; first < numel; first += kChunkElements) {
    size_t count = std::min(kChunkElements, numel - first);
    source.read(layout.data_offset + first * item, buffer.data(), count * item);
    if (dtype == DType::Float32) {
      convert_to_float(buffer.data(), count, layout.type, tensor.f32() + first);
    } else {
      convert_to_int64(buffer.data(), count, layout.type, tensor.i64() + first, first);
    }
  }
  return tensor;
}

// numpy's header: the dict, padded with spaces and a newline so that the data
// starts at a multiple of 64 bytes.
std::string make_header(const Tensor& tensor) {
  std::string shape = "(";
  for (size_t i = 0; i < tensor.rank(); ++i) shape += (i ? ", " : "") + std::to_string(tensor.dim(i));
  shape += tensor.rank() == 1 ? ",)" : ")";
  std::string dict = fmt::format("{{'descr': '{}', 'fortran_order': False, 'shape': {}, }}",
                                 tensor.dtype() == DType::Float32 ? "<f4" : "<i8", shape);
  const size_t preamble = 10;  // version 1.0: magic, version, 2-byte length
  size_t total = preamble + dict.size() + 1;
  total = (total + 63) / 64 * 64;
  std::string header(kMagic, kMagicSize);
  header += '\x01';
  header += '\x00';
  const size_t length = total - preamble;
  check(length <= 0xffff, "header of {} bytes does not fit format version 1.0", length);
  header += static_cast<char>(length & 0xff);
  header += static_cast<char>(length >> 8);
  header += dict;
  header.append(total - header.size() - 1, ' ');
  header += '\n';
  return header;
}

}  // namespace

Tensor read_npy(const std::string& path, std::optional<DType> want) {
  try {
    FileSource source(path);
    return load(source, want);
  } catch (const Error& e) {
    throw e.in({path, "", ""});
  }
}

Tensor parse_npy(const void* data, size_t size, const std::string& name, std::optional<DType> want) {
  try {
    MemorySource source(data, size);
    return load(source, want);
  } catch (const Error& e) {
    throw e.in({name, "", ""});
  }
}

void write_npy(const std::string& path, const Tensor& tensor) {
  if (!tensor.defined()) throw Error("cannot write an undefined tensor", {path, "", ""});
  std::string bytes = make_header(tensor);
  bytes.append(static_cast<const char*>(tensor.raw()), tensor.nbytes());
  write_file_atomically(path, bytes);  // its errors already name the file
}

}  // namespace mininn
