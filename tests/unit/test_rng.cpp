// Generator against values printed by torch 1.13 (float bit patterns), and
// against std::mt19937 for the raw stream. tests/io checks far more cases.
#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

#include "framework/error.h"
#include "framework/rng.h"

namespace mininn {
namespace {

std::vector<uint32_t> bits_of(const std::vector<float>& values) {
  std::vector<uint32_t> out;
  for (float v : values) out.push_back(std::bit_cast<uint32_t>(v));
  return out;
}

TEST(Rng, RawStreamIsMt19937) {
  for (uint64_t seed : {0ull, 1ull, 5489ull, 4294967303ull}) {
    Generator gen(seed);
    std::mt19937 reference(static_cast<uint32_t>(seed));  // torch seeds with the low 32 bits
    for (int i = 0; i < 5000; ++i) ASSERT_EQ(gen.random(), reference()) << "seed " << seed << " draw " << i;
  }
}

TEST(Rng, Random64PutsFirstDrawHigh) {
  Generator a(3);
  Generator b(3);
  uint64_t high = b.random();
  uint64_t low = b.random();
  EXPECT_EQ(a.random64(), (high << 32) | low);
}

TEST(Rng, DefaultSeedIsTorchDefault) {
  // torch.Generator() then torch.rand(2, generator=g)
  Generator gen;
  std::vector<float> values(2);
  gen.uniform(values, 0.0, 1.0);
  EXPECT_EQ(bits_of(values), (std::vector<uint32_t>{0x3e88daecu, 0x3f5f5e04u}));
}

TEST(Rng, RandMatchesTorch) {
  // torch.manual_seed(0); torch.rand(5)
  Generator gen(0);
  std::vector<float> values(5);
  gen.uniform(values, 0.0, 1.0);
  EXPECT_EQ(bits_of(values), (std::vector<uint32_t>{0x3efe1558u, 0x3f44aa2fu, 0x3db533a8u, 0x3e073300u, 0x3e9d6686u}));
}

TEST(Rng, KaimingUniformMatchesTorch) {
  // torch.manual_seed(0); torch.empty(6).uniform_(-b, b), b = 1/sqrt(27):
  // a range that is not a power of two, where torch's fused multiply-add shows.
  Generator gen(0);
  double bound = 1.0 / std::sqrt(27.0);
  std::vector<float> values(6);
  gen.uniform(values, -bound, bound);
  EXPECT_EQ(bits_of(values),
            (std::vector<uint32_t>{0xbabcda8bu, 0x3dd36ec5u, 0xbe223254u, 0xbe1107dbu, 0xbd97cdccu, 0x3d5361c4u}));
}

TEST(Rng, SmallNormalUsesScalarPathAndCache) {
  // torch.manual_seed(0); torch.randn(5) equals randn(3) followed by randn(3)[:2]:
  // the odd Box–Muller value is cached in the generator between calls.
  const std::vector<uint32_t> expected{0x3fc53f5cu, 0xbe963c50u, 0xc00b7149u, 0x3f1184b6u, 0xbf8ad1a1u};
  Generator gen(0);
  std::vector<float> five(5);
  gen.normal(five, 0.0, 1.0);
  EXPECT_EQ(bits_of(five), expected);

  gen.manual_seed(0);
  std::vector<float> first(3);
  std::vector<float> second(3);
  gen.normal(first, 0.0, 1.0);
  gen.normal(second, 0.0, 1.0);
  EXPECT_EQ(bits_of(first), (std::vector<uint32_t>{expected[0], expected[1], expected[2]}));
  EXPECT_EQ(bits_of(second), (std::vector<uint32_t>{expected[3], expected[4], 0xbfb3052du}));
}

TEST(Rng, SmallNormalKeepsMeanAndStdInDouble) {
  // torch.manual_seed(0); torch.empty(2).normal_(0.1, 0.3)
  Generator gen(0);
  std::vector<float> values(2);
  gen.normal(values, 0.1, 0.3);
  EXPECT_EQ(bits_of(values), (std::vector<uint32_t>{0x3f0ff2d1u, 0x3c442364u}));
}

TEST(Rng, VectorNormalWithRaggedTailMatchesTorch) {
  // torch.manual_seed(0); torch.randn(20): 20 uniforms, one block of 16, then
  // 16 fresh uniforms for elements 4..19.
  Generator gen(0);
  std::vector<float> values(20);
  gen.normal(values, 0.0, 1.0);
  EXPECT_EQ(bits_of(values), (std::vector<uint32_t>{0xbf901b85u, 0xbf93808au, 0xbe804bd6u, 0xbede255du, 0x3f194d8bu,
                                                    0xbfc70d5bu, 0xbeaec6cau, 0x3fed2f4eu, 0x3eefaa55u, 0xbe217f5fu,
                                                    0x3fb8c9dbu, 0x3e8837a1u, 0x3fb1d6c0u, 0x3fcb0d00u, 0x3f72409cu,
                                                    0xbf57fb33u, 0x3f6e8c30u, 0x3fa12737u, 0x4000519au, 0x3d5c1b3au}));
}

TEST(Rng, VectorNormalMeanAndStdMatchTorch) {
  // torch.manual_seed(0); torch.empty(16).normal_(1.0, 0.1)
  Generator gen(0);
  std::vector<float> values(16);
  gen.normal(values, 1.0, 0.1);
  EXPECT_EQ(bits_of(values),
            (std::vector<uint32_t>{0x3f632db2u, 0x3f627fe4u, 0x3f7995cfu, 0x3f74e488u, 0x3f8add0eu, 0x3f88db93u,
                                   0x3f77e8fbu, 0x3f49d9b3u, 0x3f842008u, 0x3f5fa89cu, 0x3f847ad3u, 0x3f83f1b1u,
                                   0x3f8188b2u, 0x3f8fd78fu, 0x3f8e4b75u, 0x3f79ab70u}));
}

TEST(Rng, RandpermMatchesTorch) {
  Generator gen(0);
  std::vector<int64_t> order(10);
  gen.randperm(order);
  EXPECT_EQ(order, (std::vector<int64_t>{4, 1, 7, 5, 3, 9, 0, 8, 6, 2}));
}

TEST(Rng, RandpermOfOneDrawsNothing) {
  // torch.manual_seed(7); torch.randperm(1); torch.rand(1) -> 0.5349225401878357
  Generator gen(7);
  std::vector<int64_t> order(1);
  gen.randperm(order);
  EXPECT_EQ(order[0], 0);
  std::vector<float> next(1);
  gen.uniform(next, 0.0, 1.0);
  EXPECT_EQ(next[0], 0.5349225401878357f);
}

TEST(Rng, ManualSeedForgetsCachedNormal) {
  Generator gen(0);
  std::vector<float> one(1);
  gen.normal(one, 0.0, 1.0);  // leaves a cached value
  gen.manual_seed(0);
  gen.normal(one, 0.0, 1.0);
  EXPECT_EQ(std::bit_cast<uint32_t>(one[0]), 0x3fc53f5cu);
}

TEST(Rng, SetStateReplaysAStream) {
  // A seeded generator twists before its first draw, so its seeding words
  // with index 624 must replay the same stream.
  uint32_t words[624];
  words[0] = 11;
  for (uint32_t i = 1; i < 624; ++i) words[i] = 1812433253u * (words[i - 1] ^ (words[i - 1] >> 30)) + i;
  Generator seeded(11);
  Generator replay(0);
  replay.set_state(words, 624);
  for (int i = 0; i < 700; ++i) ASSERT_EQ(replay.random(), seeded.random()) << i;
}

TEST(Rng, BadArgumentsAreErrors) {
  Generator gen(0);
  std::vector<float> values(4);
  EXPECT_THROW(gen.uniform(values, 1.0, 0.0), Error);
  EXPECT_THROW(gen.uniform(values, -3e38, 3e38), Error);
  EXPECT_THROW(gen.normal(values, 0.0, -1.0), Error);
  EXPECT_THROW(gen.set_state(std::vector<uint32_t>(5), 0), Error);
  EXPECT_THROW(gen.set_state(std::vector<uint32_t>(624), 625), Error);
}

}  // namespace
}  // namespace mininn
