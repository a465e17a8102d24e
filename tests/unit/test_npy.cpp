// .npy reading and writing: round trips, every conversion, and every way a
// file can be wrong (each error must name the file and the problem).
// tests/io compares against numpy itself.
#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "framework/error.h"
#include "framework/npy.h"

namespace mininn {
namespace {

namespace fs = std::filesystem;

// A .npy file built by hand: preamble for `version`, the header text as
// given (padded with spaces and a newline to 64 bytes), then `data`.
std::string npy_bytes(const std::string& dict, const std::string& data, int version = 1) {
  const size_t preamble = version == 1 ? 10 : 12;
  size_t total = (preamble + dict.size() + 1 + 63) / 64 * 64;
  std::string header = dict + std::string(total - preamble - dict.size() - 1, ' ') + "\n";
  std::string out = "\x93NUMPY";
  out += static_cast<char>(version);
  out += '\0';
  uint32_t length = static_cast<uint32_t>(header.size());
  for (size_t i = 0; i < (version == 1 ? 2u : 4u); ++i) out += static_cast<char>((length >> (8 * i)) & 0xff);
  return out + header + data;
}

std::string dict_for(const std::string& descr, const std::string& shape, bool fortran = false) {
  return "{'descr': '" + descr + "', 'fortran_order': " + (fortran ? "True" : "False") + ", 'shape': " + shape + ", }";
}

template <typename T>
std::string raw(const std::vector<T>& values) {
  return std::string(reinterpret_cast<const char*>(values.data()), values.size() * sizeof(T));
}

Tensor parse(const std::string& bytes, std::optional<DType> want = std::nullopt) {
  return parse_npy(bytes.data(), bytes.size(), "case.npy", want);
}

// The parse must fail, with a message that starts with the file name and
// mentions `problem`.
void expect_rejected(const std::string& bytes, const std::string& problem, std::optional<DType> want = std::nullopt) {
  try {
    parse(bytes, want);
    ADD_FAILURE() << "accepted a file that should fail with: " << problem;
  } catch (const Error& e) {
    std::string what = e.what();
    EXPECT_EQ(what.rfind("case.npy: ", 0), 0u) << what;
    EXPECT_NE(what.find(problem), std::string::npos) << "message: " << what << "\nwanted: " << problem;
  }
}

class TempDir : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ =
        fs::temp_directory_path() / ("mininn_npy_" + std::to_string(::testing::UnitTest::GetInstance()->random_seed()) +
                                     "_" + ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string path(const std::string& name) const { return (dir_ / name).string(); }
  fs::path dir_;
};

using NpyFile = TempDir;

TEST_F(NpyFile, FloatRoundTrip) {
  for (const Shape& shape : {Shape{2, 3}, Shape{}, Shape{0}, Shape{5}, Shape{1, 1, 1}, Shape{2, 0, 3}}) {
    Tensor t = Tensor::empty(shape);
    for (int64_t i = 0; i < t.numel(); ++i) t.f32()[i] = 0.5f * static_cast<float>(i) - 1.0f;
    write_npy(path("a.npy"), t);
    Tensor back = read_npy(path("a.npy"));
    EXPECT_EQ(back.dtype(), DType::Float32);
    EXPECT_EQ(back.shape(), shape);
    for (int64_t i = 0; i < t.numel(); ++i) EXPECT_EQ(back.f32()[i], t.f32()[i]);
  }
}

TEST_F(NpyFile, IntRoundTripKeepsExtremes) {
  Tensor t = Tensor::empty({4}, DType::Int64);
  t.i64()[0] = std::numeric_limits<int64_t>::min();
  t.i64()[1] = -1;
  t.i64()[2] = 0;
  t.i64()[3] = std::numeric_limits<int64_t>::max();
  write_npy(path("i.npy"), t);
  Tensor back = read_npy(path("i.npy"));
  ASSERT_EQ(back.dtype(), DType::Int64);
  for (int i = 0; i < 4; ++i) EXPECT_EQ(back.i64()[i], t.i64()[i]);
}

TEST_F(NpyFile, WritesExactlyWhatNumpyWrites) {
  // np.save(f, np.arange(3, dtype=np.float32)): 128 header bytes, then the data.
  Tensor t = Tensor::empty({3});
  for (int i = 0; i < 3; ++i) t.f32()[i] = static_cast<float>(i);
  write_npy(path("n.npy"), t);
  std::ifstream in(path("n.npy"), std::ios::binary);
  std::string bytes{std::istreambuf_iterator<char>(in), {}};
  std::string dict = "{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }";
  std::string expected = std::string("\x93NUMPY\x01\x00\x76\x00", 10) + dict +
                         std::string(128 - 10 - dict.size() - 1, ' ') + "\n" + raw(std::vector<float>{0, 1, 2});
  EXPECT_EQ(bytes, expected);
  EXPECT_EQ(bytes.size(), 140u);
}

TEST_F(NpyFile, ScalarAndMatrixHeadersAreNumpys) {
  Tensor scalar = Tensor::full({}, 2.5f);
  write_npy(path("s.npy"), scalar);
  std::ifstream in(path("s.npy"), std::ios::binary);
  std::string bytes{std::istreambuf_iterator<char>(in), {}};
  EXPECT_NE(bytes.find("'shape': (), }"), std::string::npos);
  EXPECT_EQ(bytes.size(), 128u + 4u);  // the dict does not fit in 64 bytes, so 128

  write_npy(path("m.npy"), Tensor::zeros({2, 3}, DType::Int64));
  std::ifstream in2(path("m.npy"), std::ios::binary);
  std::string bytes2{std::istreambuf_iterator<char>(in2), {}};
  EXPECT_NE(bytes2.find("{'descr': '<i8', 'fortran_order': False, 'shape': (2, 3), }"), std::string::npos);
  EXPECT_EQ(bytes2.size(), 128u + 48u);
}

TEST_F(NpyFile, WriteLeavesNoTempFilesAndReplacesOldFile) {
  write_npy(path("w.npy"), Tensor::zeros({100}));
  write_npy(path("w.npy"), Tensor::zeros({2}));
  EXPECT_EQ(read_npy(path("w.npy")).numel(), 2);
  int files = 0;
  for (const auto& entry : fs::directory_iterator(dir_)) {
    (void)entry;
    ++files;
  }
  EXPECT_EQ(files, 1);
}

TEST_F(NpyFile, WriteIntoMissingDirectoryNamesTheFile) {
  std::string target = path("no/such/dir/x.npy");
  try {
    write_npy(target, Tensor::zeros({2}));
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(target), std::string::npos) << e.what();
  }
  EXPECT_THROW(write_npy(path("u.npy"), Tensor()), Error);
}

TEST_F(NpyFile, MissingFileAndDirectoryNameTheFile) {
  for (const std::string& target : {path("missing.npy"), dir_.string()}) {
    try {
      read_npy(target);
      FAIL() << "expected an error for " << target;
    } catch (const Error& e) {
      EXPECT_EQ(std::string(e.what()).rfind(target + ": ", 0), 0u) << e.what();
    }
  }
}

TEST(Npy, ReadsEveryIntegerWidthAsInt64) {
  EXPECT_EQ(parse(npy_bytes(dict_for("|i1", "(3,)"), raw(std::vector<int8_t>{-128, 0, 127}))).i64()[0], -128);
  EXPECT_EQ(parse(npy_bytes(dict_for("<i1", "(1,)"), raw(std::vector<int8_t>{-5}))).i64()[0], -5);
  EXPECT_EQ(parse(npy_bytes(dict_for("<i2", "(2,)"), raw(std::vector<int16_t>{-32768, 7}))).i64()[0], -32768);
  EXPECT_EQ(parse(npy_bytes(dict_for("<i4", "(1,)"), raw(std::vector<int32_t>{-2000000000}))).i64()[0], -2000000000);
  EXPECT_EQ(parse(npy_bytes(dict_for("<i8", "(1,)"), raw(std::vector<int64_t>{-(int64_t{1} << 40)}))).i64()[0],
            -(int64_t{1} << 40));
  EXPECT_EQ(parse(npy_bytes(dict_for("|u1", "(1,)"), raw(std::vector<uint8_t>{255}))).i64()[0], 255);
  EXPECT_EQ(parse(npy_bytes(dict_for("<u1", "(1,)"), raw(std::vector<uint8_t>{200}))).i64()[0], 200);
  EXPECT_EQ(parse(npy_bytes(dict_for("<u2", "(1,)"), raw(std::vector<uint16_t>{65535}))).i64()[0], 65535);
  EXPECT_EQ(parse(npy_bytes(dict_for("<u4", "(1,)"), raw(std::vector<uint32_t>{4294967295u}))).i64()[0], 4294967295);
  EXPECT_EQ(parse(npy_bytes(dict_for("<u8", "(1,)"), raw(std::vector<uint64_t>{uint64_t{1} << 63 >> 1}))).i64()[0],
            int64_t{1} << 62);
  Tensor flags = parse(npy_bytes(dict_for("|b1", "(3,)"), raw(std::vector<uint8_t>{1, 0, 1})));
  EXPECT_EQ(flags.dtype(), DType::Int64);
  EXPECT_EQ(flags.i64()[0] + flags.i64()[1] + flags.i64()[2], 2);
  EXPECT_EQ(parse(npy_bytes(dict_for("=i4", "(1,)"), raw(std::vector<int32_t>{9}))).i64()[0], 9);
}

TEST(Npy, Uint64BeyondInt64IsAnError) {
  std::string bytes = npy_bytes(dict_for("<u8", "(2,)"), raw(std::vector<uint64_t>{1, uint64_t{1} << 63}));
  expect_rejected(bytes, "uint64 element 1 is 9223372036854775808, which does not fit in int64");
  // As float32 it is just a large number.
  EXPECT_EQ(parse(bytes, DType::Float32).f32()[1], 9223372036854775808.0f);
}

TEST(Npy, FloatsBecomeFloat32) {
  Tensor d = parse(npy_bytes(dict_for("<f8", "(3,)"), raw(std::vector<double>{0.1, 1e300, -2.5})));
  ASSERT_EQ(d.dtype(), DType::Float32);
  EXPECT_EQ(d.f32()[0], 0.1f);
  EXPECT_TRUE(std::isinf(d.f32()[1]));
  EXPECT_EQ(d.f32()[2], -2.5f);
  EXPECT_EQ(parse(npy_bytes(dict_for("=f4", "(1,)"), raw(std::vector<float>{3.25f}))).f32()[0], 3.25f);
}

TEST(Npy, Float16IncludingSubnormalsInfAndNan) {
  // 0x0001: smallest subnormal 2^-24; 0x03ff: largest subnormal; 0x3c00: 1;
  // 0xc000: -2; 0x7bff: 65504; 0x7c00: inf; 0xfc00: -inf; 0x7e00: NaN; 0x8000: -0.
  std::vector<uint16_t> halves{0x0001, 0x03ff, 0x3c00, 0xc000, 0x7bff, 0x7c00, 0xfc00, 0x7e00, 0x8000};
  Tensor t = parse(npy_bytes(dict_for("<f2", "(9,)"), raw(halves)));
  const float* v = t.f32();
  EXPECT_EQ(v[0], std::ldexp(1.0f, -24));
  EXPECT_EQ(v[1], 1023.0f * std::ldexp(1.0f, -24));
  EXPECT_EQ(v[2], 1.0f);
  EXPECT_EQ(v[3], -2.0f);
  EXPECT_EQ(v[4], 65504.0f);
  EXPECT_EQ(v[5], std::numeric_limits<float>::infinity());
  EXPECT_EQ(v[6], -std::numeric_limits<float>::infinity());
  EXPECT_TRUE(std::isnan(v[7]));
  EXPECT_EQ(std::bit_cast<uint32_t>(v[8]), 0x80000000u);
}

TEST(Npy, WantFloat32ConvertsIntegers) {
  Tensor t =
      parse(npy_bytes(dict_for("<i8", "(2,)"), raw(std::vector<int64_t>{-3, (int64_t{1} << 24) + 1})), DType::Float32);
  ASSERT_EQ(t.dtype(), DType::Float32);
  EXPECT_EQ(t.f32()[0], -3.0f);
  EXPECT_EQ(t.f32()[1], 16777216.0f);  // rounded to nearest even, as numpy's astype
  Tensor b = parse(npy_bytes(dict_for("|b1", "(2,)"), raw(std::vector<uint8_t>{0, 1})), DType::Float32);
  EXPECT_EQ(b.f32()[1], 1.0f);
}

TEST(Npy, WantInt64RefusesFloats) {
  expect_rejected(npy_bytes(dict_for("<f4", "(1,)"), raw(std::vector<float>{1})), "floating-point data (dtype '<f4')",
                  DType::Int64);
  EXPECT_EQ(parse(npy_bytes(dict_for("<i4", "(1,)"), raw(std::vector<int32_t>{4})), DType::Int64).i64()[0], 4);
}

TEST(Npy, ZeroDimensionalArrayHasRankZero) {
  Tensor t = parse(npy_bytes(dict_for("<f4", "()"), raw(std::vector<float>{7.5f})));
  EXPECT_EQ(t.rank(), 0u);
  EXPECT_EQ(t.numel(), 1);
  EXPECT_EQ(t.f32()[0], 7.5f);
}

TEST(Npy, HeaderSyntaxVariantsAreAccepted) {
  std::string data = raw(std::vector<float>{1, 2, 3, 4, 5, 6});
  for (const std::string& dict : {
           std::string("{'shape': (2, 3), 'fortran_order': False, 'descr': '<f4'}"),
           std::string("{ \"descr\" : \"<f4\" ,\n 'fortran_order' :False,'shape':(2,3)}"),
           std::string("{'descr': '<f4', 'fortran_order': False, 'shape': (2L, 3L), }"),
           std::string("{'descr': '<f4', 'fortran_order': False, 'shape': [2, 3]}"),
       }) {
    Tensor t = parse(npy_bytes(dict, data));
    EXPECT_EQ(t.shape(), (Shape{2, 3})) << dict;
    EXPECT_EQ(t.f32()[5], 6.0f) << dict;
  }
  // Versions 2.0 and 3.0 have a 4-byte header length.
  for (int version : {2, 3}) {
    Tensor t = parse(npy_bytes(dict_for("<f4", "(6,)"), data, version));
    EXPECT_EQ(t.numel(), 6) << version;
  }
}

TEST(Npy, FortranOrderOnlyWhenItCannotMatter) {
  std::string data = raw(std::vector<float>{1, 2, 3, 4, 5, 6});
  Tensor row = parse(npy_bytes(dict_for("<f4", "(1, 6, 1)", true), data));
  EXPECT_EQ(row.f32()[4], 5.0f);
  expect_rejected(npy_bytes(dict_for("<f4", "(2, 3)", true), data), "Fortran-ordered arrays are not supported");
}

TEST(Npy, RejectsBadMagicAndVersions) {
  std::string good = npy_bytes(dict_for("<f4", "(1,)"), raw(std::vector<float>{1}));
  std::string bad = good;
  bad[1] = 'X';
  expect_rejected(bad, "not a .npy file");
  expect_rejected("", "not a .npy file");
  expect_rejected("PK\x03\x04", "not a .npy file");
  std::string v4 = good;
  v4[6] = 4;
  expect_rejected(v4, "unsupported .npy format version 4.0");
}

TEST(Npy, RejectsTruncatedHeaders) {
  std::string good = npy_bytes(dict_for("<f4", "(1,)"), raw(std::vector<float>{1}));
  expect_rejected(good.substr(0, 7), "truncated header");
  expect_rejected(good.substr(0, 9), "truncated header");
  expect_rejected(good.substr(0, 40), "truncated header");
  std::string v2 = npy_bytes(dict_for("<f4", "(1,)"), "", 2);
  expect_rejected(v2.substr(0, 11), "truncated header");
  // A version 2 length field claiming 4 GiB must not make us allocate it.
  std::string huge = std::string("\x93NUMPY\x02\x00\xff\xff\xff\xff", 12) + "{}";
  expect_rejected(huge, "implausibly large");
  // The dict itself cut short.
  expect_rejected(npy_bytes("{'descr': '<f4', 'fortran_order': False, 'shape': (1,", ""), "malformed header");
  expect_rejected(npy_bytes("{'descr': '<f4", ""), "unterminated string");
}

TEST(Npy, RejectsTruncatedOrOverlongData) {
  std::string dict = dict_for("<f4", "(2, 3)");
  expect_rejected(npy_bytes(dict, raw(std::vector<float>(5))),
                  "truncated data: shape [2, 3] of '<f4' needs 24 bytes, the file has 20");
  expect_rejected(npy_bytes(dict, ""), "truncated data");
  expect_rejected(npy_bytes(dict, raw(std::vector<float>(6)) + "x"), "1 unexpected bytes after the data");
}

TEST(Npy, RejectsUnsupportedDtypes) {
  expect_rejected(npy_bytes(dict_for(">f4", "(1,)"), raw(std::vector<float>{1})), "big-endian data (dtype '>f4')");
  expect_rejected(npy_bytes(dict_for(">i8", "(1,)"), raw(std::vector<int64_t>{1})), "big-endian");
  expect_rejected(npy_bytes(dict_for("|O", "(1,)"), "12345678"), "object arrays");
  expect_rejected(
      npy_bytes("{'descr': [('x', '<f4'), ('y', '<i4')], 'fortran_order': False, 'shape': (1,), }", "12345678"),
      "structured dtypes");
  expect_rejected(npy_bytes(dict_for("<c8", "(1,)"), "12345678"), "unsupported dtype '<c8'");
  expect_rejected(npy_bytes(dict_for("<U3", "(1,)"), "123456789012"), "unsupported dtype '<U3'");
  expect_rejected(npy_bytes(dict_for("<M8[ns]", "(1,)"), "12345678"), "unsupported dtype");
  // One-byte types have no byte order, whatever the prefix says.
  EXPECT_EQ(parse(npy_bytes(dict_for(">u1", "(1,)"), "\x07")).i64()[0], 7);
}

TEST(Npy, RejectsBadShapes) {
  expect_rejected(npy_bytes(dict_for("<f4", "(-1,)"), ""), "negative extent -1");
  expect_rejected(npy_bytes(dict_for("<f4", "(4611686018427387904, 4)"), ""), "overflows");
  expect_rejected(npy_bytes(dict_for("<f4", "(99999999999999999999,)"), ""), "does not fit in 64 bits");
  expect_rejected(npy_bytes(dict_for("<f4", "(2, 'x')"), ""), "'shape' must be a tuple of integers");
  expect_rejected(npy_bytes(dict_for("<f4", "(True,)"), ""), "'shape' must be a tuple of integers");
  expect_rejected(npy_bytes(dict_for("<f4", "3"), ""), "'shape' must be a tuple");
}

TEST(Npy, HugeShapeFailsBeforeAllocating) {
  // 2^40 float64 elements: 4 TiB as float32, over the default 16 GiB limit;
  // the file itself is tiny.
  expect_rejected(npy_bytes(dict_for("<f8", "(1099511627776,)"), ""), "over the limit");
  size_t old = max_tensor_bytes();
  set_max_tensor_bytes(64);
  expect_rejected(npy_bytes(dict_for("<f4", "(17,)"), raw(std::vector<float>(17))), "over the limit of 64 bytes");
  EXPECT_NO_THROW(parse(npy_bytes(dict_for("<f4", "(16,)"), raw(std::vector<float>(16)))));
  set_max_tensor_bytes(old);
}

TEST(Npy, RejectsMalformedDicts) {
  std::string data = raw(std::vector<float>{1});
  expect_rejected(npy_bytes("{'descr': '<f4', 'shape': (1,)}", data), "header lacks 'fortran_order'");
  expect_rejected(npy_bytes("{'descr': '<f4', 'fortran_order': False}", data), "header lacks 'shape'");
  expect_rejected(npy_bytes("{'descr': '<f4', 'fortran_order': False, 'shape': (1,), 'extra': 1}", data),
                  "unexpected key 'extra'");
  expect_rejected(npy_bytes("{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': (1,)}", data),
                  "repeats the key 'descr'");
  expect_rejected(npy_bytes("{'descr': '<f4', 'fortran_order': 0, 'shape': (1,)}", data), "True or False");
  expect_rejected(npy_bytes("('descr', '<f4')", data), "not a dict");
  expect_rejected(npy_bytes("{'descr': '<f4', 'fortran_order': False, 'shape': (1,)} junk", data), "unexpected text");
  expect_rejected(npy_bytes(std::string(40, '(') + std::string(40, ')'), data), "nested too deeply");
  expect_rejected(npy_bytes("{'descr': @}", data), "unexpected character '@'");
}

// Random damage to valid files: every outcome must be a tensor or an Error,
// never a crash, a hang or another exception (run under ASan+UBSan too).
TEST(Npy, DamagedFilesNeverCrash) {
  std::vector<std::string> seeds{
      npy_bytes(dict_for("<f4", "(2, 3)"), raw(std::vector<float>(6, 1.5f))),
      npy_bytes(dict_for("<f2", "(5,)"), raw(std::vector<uint16_t>{1, 2, 3, 0x7c00, 0xfc01})),
      npy_bytes(dict_for("<u8", "(2,)"), raw(std::vector<uint64_t>{1, 2}), 2),
      npy_bytes(dict_for("|b1", "()"), "\x01", 3),
      npy_bytes("{'descr': [('x', '<f4')], 'fortran_order': False, 'shape': (1,)}", "1234"),
  };
  std::mt19937 random(12345);
  auto below = [&](size_t n) { return n ? static_cast<size_t>(random() % n) : 0; };
  int parsed = 0;
  for (int iteration = 0; iteration < 20000; ++iteration) {
    std::string bytes = seeds[below(seeds.size())];
    for (size_t edits = 1 + below(4); edits > 0; --edits) {
      switch (below(5)) {
        case 0:  // flip a byte
          if (!bytes.empty()) bytes[below(bytes.size())] = static_cast<char>(random());
          break;
        case 1:  // truncate
          bytes.resize(below(bytes.size() + 1));
          break;
        case 2:  // insert junk
          bytes.insert(below(bytes.size() + 1), std::string(1 + below(8), static_cast<char>(random())));
          break;
        case 3:  // a digit somewhere in the header, to grow or shrink extents
          if (bytes.size() > 12) bytes[10 + below(std::min<size_t>(bytes.size() - 10, 60))] = "0123456789(),'"[below(14)];
          break;
        default:  // change the header length field
          if (bytes.size() > 9) bytes[8 + below(2)] = static_cast<char>(random());
      }
    }
    try {
      Tensor t = parse(bytes);
      ++parsed;
      EXPECT_GE(t.numel(), 0);
    } catch (const Error&) {
    }
  }
  EXPECT_GT(parsed, 0);  // some damage is harmless (a flipped data byte)
}

}  // namespace
}  // namespace mininn
