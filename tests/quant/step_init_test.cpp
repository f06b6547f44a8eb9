// Step-size init 2*mean|x|/sqrt(Qp), its lower bound, the offset init and the gradient scale.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>

#include "oqa/quant/step_init.h"

namespace oqa::quant {
namespace {

TEST(StepInit, PerTensorByHand) {
  QuantSpec spec{4, false};  // Qp = 15
  auto x = torch::tensor({1.0f, -2.0f, 3.0f, -4.0f});
  auto s = init_step_size(x, spec);
  ASSERT_EQ(s.sizes(), torch::IntArrayRef({1}));
  EXPECT_NEAR(s.item<double>(), 2.0 * 2.5 / std::sqrt(15.0), 1e-6);
  EXPECT_NEAR(grad_scale_for(x, spec), 1.0 / std::sqrt(4.0 * 15.0), 1e-12);
}

TEST(StepInit, PerChannelByHand) {
  QuantSpec spec{3, true, Granularity::kPerChannel, 0};  // Qp = 3
  auto x = torch::tensor({{1.0f, -2.0f}, {3.0f, -4.0f}, {0.0f, 0.5f}});
  auto s = init_step_size(x, spec);
  ASSERT_EQ(s.sizes(), torch::IntArrayRef({3}));
  EXPECT_NEAR(s[0].item<double>(), 2.0 * 1.5 / std::sqrt(3.0), 1e-6);
  EXPECT_NEAR(s[1].item<double>(), 2.0 * 3.5 / std::sqrt(3.0), 1e-6);
  EXPECT_NEAR(s[2].item<double>(), 2.0 * 0.25 / std::sqrt(3.0), 1e-6);
  EXPECT_NEAR(grad_scale_for(x, spec), 1.0 / std::sqrt(2.0 * 3.0), 1e-12);  // N = 2 per channel
  spec.axis = 1;
  auto s1 = init_step_size(x, spec);
  ASSERT_EQ(s1.sizes(), torch::IntArrayRef({2}));
  EXPECT_NEAR(s1[1].item<double>(), 2.0 * (6.5 / 3.0) / std::sqrt(3.0), 1e-6);
}

TEST(StepInit, LowerBoundForZeros) {
  QuantSpec spec{8, true, Granularity::kPerChannel};
  auto s = init_step_size(torch::zeros({4, 3}), spec);
  EXPECT_TRUE(torch::all(s > 0).item<bool>());
  EXPECT_NEAR(s.min().item<double>(), kMinStepSize, 1e-12);
  EXPECT_NEAR(init_step_size(torch::zeros({5}), QuantSpec{2}, 1e-3).item<double>(), 1e-3, 1e-9);
}

TEST(StepInit, Offset) {
  auto x = torch::tensor({-0.375f, 1.0f, 2.0f});
  EXPECT_EQ(init_offset(x, QuantSpec{4, true, Granularity::kPerTensor, 0, false}).item<float>(), 0.0f);
  EXPECT_EQ(init_offset(x, QuantSpec{4, false, Granularity::kPerTensor, 0, false}).item<float>(), -0.375f);
  EXPECT_EQ(init_offset(x.abs(), QuantSpec{4, false, Granularity::kPerTensor, 0, false}).item<float>(), 0.0f);
}

}  // namespace
}  // namespace oqa::quant
