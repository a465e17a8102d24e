// mininn's file readers and random generator against the references: every
// case written by gen_io_cases.py (numpy, Pillow 9.4, torch 1.13) must come
// out bit for bit, or be refused with an Error naming the file.
//
//   io_conformance CASES_DIR      (or MININN_IO_CASES=CASES_DIR io_conformance)
#include "framework/error.h"
#include "framework/image.h"
#include "framework/npy.h"
#include "framework/rng.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <unistd.h>
#include <vector>

namespace mininn {
namespace {

namespace fs = std::filesystem;

std::string g_cases_dir;

using Fields = std::vector<std::string>;

Fields split(const std::string& text, char separator) {
  Fields out;
  std::string field;
  std::istringstream stream(text);
  while (std::getline(stream, field, separator)) out.push_back(field);
  if (!text.empty() && text.back() == separator) out.emplace_back();
  return out;
}

std::vector<Fields> cases_of(const std::string& kind) {
  std::ifstream in(fs::path(g_cases_dir) / "cases.tsv");
  EXPECT_TRUE(in) << "cannot read " << g_cases_dir << "/cases.tsv";
  std::vector<Fields> out;
  std::string line;
  while (std::getline(in, line)) {
    Fields fields = split(line, '\t');
    if (!fields.empty() && fields[0] == kind) out.push_back(fields);
  }
  return out;
}

std::string in_dir(const std::string& relative) { return (fs::path(g_cases_dir) / relative).string(); }

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

// ---- Images ----------------------------------------------------------------------

// Compares a (C, H, W) float tensor with Pillow's uint8 (H, W) or (H, W, 3)
// array; returns a description of the first difference, or "".
std::string compare_pixels(const Tensor& tensor, const std::string& expected, int64_t height, int64_t width,
                           int channels) {
  if (tensor.shape() != Shape{channels, height, width}) {
    return "shape " + to_string(tensor.shape()) + ", Pillow has " + to_string(Shape{channels, height, width});
  }
  if (expected.size() != static_cast<size_t>(channels * height * width)) return "bad expected file";
  const float* values = tensor.f32();
  int64_t differences = 0;
  std::string first;
  for (int64_t y = 0; y < height; ++y) {
    for (int64_t x = 0; x < width; ++x) {
      for (int c = 0; c < channels; ++c) {
        float got = values[(c * height + y) * width + x];
        float want = static_cast<uint8_t>(expected[(y * width + x) * channels + c]);
        if (got == want) continue;
        if (differences++ == 0) {
          first = "at (x=" + std::to_string(x) + ", y=" + std::to_string(y) + ", c=" + std::to_string(c) + ") got " +
                  std::to_string(got) + ", Pillow " + std::to_string(want);
        }
      }
    }
  }
  return differences ? std::to_string(differences) + " samples differ, first " + first : "";
}

TEST(ImageConformance, PixelsMatchPillowOrAreRefused) {
  int matched = 0;
  int refused = 0;
  int deliberate = 0;
  for (const Fields& f : cases_of("image")) {
    ASSERT_EQ(f.size(), 8u);
    const std::string path = in_dir(f[1]);
    if (f[2] == "match") {
      const int64_t height = std::stoll(f[4]);
      const int64_t width = std::stoll(f[5]);
      bool ok = true;
      for (ColorMode mode : {ColorMode::Gray, ColorMode::RGB}) {
        const bool gray = mode == ColorMode::Gray;
        if (!gray && f[7].empty()) continue;  // only L recorded
        try {
          Tensor image = read_image(path, mode);
          std::string difference =
              compare_pixels(image, slurp(in_dir(gray ? f[6] : f[7])), height, width, gray ? 1 : 3);
          if (!difference.empty()) {
            ok = false;
            ADD_FAILURE() << f[1] << (gray ? " as L: " : " as RGB: ") << difference;
          }
        } catch (const Error& e) {
          ok = false;
          ADD_FAILURE() << f[1] << ": Pillow decodes it, mininn says: " << e.what();
        }
      }
      matched += ok;
    } else {
      ASSERT_EQ(f[2], "refuse");
      try {
        read_image(path, ColorMode::RGB);
        ADD_FAILURE() << f[1] << ": accepted, but " << (f[3].empty() ? "Pillow fails on it" : "should be refused");
      } catch (const Error& e) {
        EXPECT_TRUE(contains(e.what(), path)) << e.what();
        EXPECT_TRUE(contains(e.what(), f[3])) << e.what() << " lacks '" << f[3] << "'";
        ++refused;
        deliberate += !f[3].empty();
      }
    }
  }
  std::printf("image cases: %d match Pillow bit for bit as L and RGB, %d refused (%d where Pillow fails too)\n",
              matched, refused, refused - deliberate);
  EXPECT_GT(matched, 200);
}

// ---- npy -------------------------------------------------------------------------

Shape parse_shape(const std::string& text) {
  Shape shape;
  for (const std::string& extent : split(text, ',')) {
    if (!extent.empty()) shape.push_back(std::stoll(extent));
  }
  return shape;
}

TEST(NpyConformance, ValuesMatchNumpyOrAreRefused) {
  int matched = 0;
  int refused = 0;
  for (const Fields& f : cases_of("npy")) {
    ASSERT_EQ(f.size(), 6u);
    const std::string path = in_dir(f[1]);
    std::optional<DType> want;
    if (f[2] == "float32") want = DType::Float32;
    if (f[2] == "int64") want = DType::Int64;
    if (f[3] == "refuse") {
      try {
        read_npy(path, want);
        ADD_FAILURE() << f[1] << " (want " << f[2] << "): accepted, should fail with '" << f[5] << "'";
      } catch (const Error& e) {
        EXPECT_TRUE(contains(e.what(), path)) << e.what();
        EXPECT_TRUE(contains(e.what(), f[5])) << e.what() << " lacks '" << f[5] << "'";
        ++refused;
      }
      continue;
    }
    try {
      Tensor t = read_npy(path, want);
      const DType dtype = f[3] == "float32" ? DType::Float32 : DType::Int64;
      EXPECT_EQ(t.dtype(), dtype) << f[1];
      EXPECT_EQ(t.shape(), parse_shape(f[4])) << f[1];
      const std::string expected = slurp(in_dir(f[5]));
      // Bitwise, so NaN payloads and signed zeros count too.
      const bool same = t.nbytes() == expected.size() && std::memcmp(t.raw(), expected.data(), t.nbytes()) == 0;
      EXPECT_TRUE(same) << f[1] << " (want " << f[2] << "): values differ from numpy's astype";
      matched += same;
    } catch (const Error& e) {
      ADD_FAILURE() << f[1] << ": " << e.what();
    }
  }
  std::printf("npy cases: %d match numpy bit for bit, %d refused as expected\n", matched, refused);
  EXPECT_GT(matched, 200);
}

TEST(NpyConformance, WritesWhatNpSaveWrites) {
  const fs::path scratch = fs::temp_directory_path() / ("mininn_io_write_" + std::to_string(::getpid()));
  fs::create_directories(scratch);
  int same = 0;
  for (const Fields& f : cases_of("npy_write")) {
    const std::string original = slurp(in_dir(f[1]));
    const std::string copy = (scratch / "copy.npy").string();
    write_npy(copy, read_npy(in_dir(f[1])));
    bool equal = slurp(copy) == original;
    EXPECT_TRUE(equal) << f[1] << ": write_npy's bytes differ from np.save's";
    same += equal;
  }
  fs::remove_all(scratch);
  std::printf("npy write cases: %d byte-identical to np.save\n", same);
  EXPECT_GT(same, 10);
}

// ---- torch's generator -----------------------------------------------------------

TEST(RngConformance, DrawsMatchTorch) {
  int matched = 0;
  int64_t values = 0;
  for (const Fields& f : cases_of("rng")) {
    ASSERT_EQ(f.size(), 4u);
    Generator gen(std::stoull(f[1]));
    std::string produced;
    for (const std::string& op : split(f[2], ';')) {
      Fields args = split(op, ',');
      const size_t n = std::stoull(args[1]);
      if (args[0] == "p") {
        std::vector<int64_t> order(n);
        gen.randperm(order);
        produced.append(reinterpret_cast<const char*>(order.data()), n * 8);
      } else {
        std::vector<float> out(n);
        const double a = std::strtod(args[2].c_str(), nullptr);
        const double b = std::strtod(args[3].c_str(), nullptr);
        if (args[0] == "u") {
          gen.uniform(out, a, b);
        } else {
          gen.normal(out, a, b);
        }
        produced.append(reinterpret_cast<const char*>(out.data()), n * 4);
      }
      values += static_cast<int64_t>(n);
    }
    bool same = produced == slurp(in_dir(f[3]));
    EXPECT_TRUE(same) << "seed " << f[1] << ", ops " << f[2] << ": differs from torch";
    matched += same;
  }
  std::printf("rng cases: %d call sequences (%lld values) match torch bit for bit\n", matched,
              static_cast<long long>(values));
  EXPECT_GT(matched, 1000);
}

uint32_t temper(uint32_t y) {
  y ^= y >> 11;
  y ^= (y << 7) & 0x9d2c5680u;
  y ^= (y << 15) & 0xefc60000u;
  return y ^ (y >> 18);
}

uint32_t untemper(uint32_t y) {
  y ^= y >> 18;
  y ^= (y << 15) & 0xefc60000u;
  uint32_t t = y;
  for (int i = 0; i < 5; ++i) t = y ^ ((t << 7) & 0x9d2c5680u);
  y = t;
  t = y;
  for (int i = 0; i < 3; ++i) t = y ^ (t >> 11);
  return t;
}

TEST(RngConformance, EveryUniformThroughVectorisedNormal) {
  const std::vector<Fields> cases = cases_of("normal_exhaustive");
  if (cases.empty()) GTEST_SKIP() << "generated with --no-exhaustive";
  for (uint32_t x : {0u, 1u, 0xdeadbeefu, 0xffffffffu, 0x80000000u}) ASSERT_EQ(temper(untemper(x)), x);
  const std::string expected = slurp(in_dir(cases[0][1]));
  constexpr size_t kPairs = size_t{1} << 24;
  ASSERT_EQ(expected.size(), kPairs * 8);
  auto second_draw = [](size_t k) { return static_cast<uint32_t>((k * 2654435761u + 12345u) % kPairs); };

  // As the generator did: 38 blocks of 16 draws per state, the first 8 of a
  // block feeding u1 = 1 - k / 2^24, the last 8 u2 = second_draw(k) / 2^24.
  constexpr size_t kPairsPerCall = 304;
  Generator gen(0);
  std::vector<uint32_t> words(624);
  std::vector<float> out(2 * kPairsPerCall);
  int64_t differences = 0;
  for (size_t start = 0; start < kPairs; start += kPairsPerCall) {
    std::fill(words.begin(), words.end(), 0u);
    for (size_t p = 0; p < kPairsPerCall && start + p < kPairs; ++p) {
      const size_t block = p / 8;
      const size_t lane = p % 8;
      words[16 * block + lane] = untemper(static_cast<uint32_t>(start + p));
      words[16 * block + 8 + lane] = untemper(second_draw(start + p));
    }
    gen.set_state(words, 0);
    gen.normal(out, 0.0, 1.0);
    for (size_t p = 0; p < kPairsPerCall && start + p < kPairs; ++p) {
      const size_t block = p / 8;
      const size_t lane = p % 8;
      for (int half = 0; half < 2; ++half) {
        float want;
        std::memcpy(&want, expected.data() + 8 * (start + p) + 4 * half, 4);
        float got = out[16 * block + 8 * half + lane];
        if (std::memcmp(&got, &want, 4) != 0 && differences++ < 5) {
          ADD_FAILURE() << "pair " << start + p << (half ? " (sin)" : " (cos)") << ": got " << got << ", torch "
                        << want;
        }
      }
    }
  }
  EXPECT_EQ(differences, 0);
  std::printf("normal_ exhaustive: all %zu 24-bit values through both halves of Box-Muller, %lld differences\n", kPairs,
              static_cast<long long>(differences));
}

}  // namespace
}  // namespace mininn

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  if (argc > 1) {
    mininn::g_cases_dir = argv[1];
  } else if (const char* dir = std::getenv("MININN_IO_CASES")) {
    mininn::g_cases_dir = dir;
  }
  if (mininn::g_cases_dir.empty()) {
    std::fprintf(stderr, "usage: %s CASES_DIR  (written by tests/io/gen_io_cases.py)\n", argv[0]);
    return 2;
  }
  return RUN_ALL_TESTS();
}
