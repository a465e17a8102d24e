#include "framework/error.h"
#include "framework/tensor.h"

#include <gtest/gtest.h>

namespace mininn {
namespace {

TEST(Tensor, ZerosHasShapeAndZeroValues) {
  Tensor t = Tensor::zeros({2, 3});
  EXPECT_EQ(t.numel(), 6);
  EXPECT_EQ(to_string(t.shape()), "[2, 3]");
  for (float v : t.floats()) EXPECT_EQ(v, 0.0f);
}

TEST(Tensor, DefaultHandleIsUndefined) {
  EXPECT_FALSE(Tensor().defined());
  EXPECT_TRUE(Tensor::empty({0}).defined());
}

TEST(Tensor, WrongDtypeAccessThrows) {
  Tensor t = Tensor::zeros({2}, DType::Int64);
  EXPECT_THROW(t.f32(), Error);
}

TEST(Tensor, OverflowingShapeIsAnError) {
  try {
    Tensor::empty({int64_t{1} << 40, int64_t{1} << 40});
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("overflows"), std::string::npos) << e.what();
  }
}

TEST(Tensor, ByteLimitRefusesBeforeAllocating) {
  size_t old = max_tensor_bytes();
  set_max_tensor_bytes(1024);
  EXPECT_THROW(Tensor::empty({1024}), Error);
  EXPECT_NO_THROW(Tensor::empty({256}));
  set_max_tensor_bytes(old);
}

}  // namespace
}  // namespace mininn
