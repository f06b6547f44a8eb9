// DynamicBatchNorm2d: sliced normalisation against the formula, sliced running statistics (momentum and
// cumulative), eval mode and reset.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "nn_test_support.h"
#include "oqa/nn/dynamic_batch_norm.h"

using namespace oqa;
using namespace torch::indexing;

namespace {

nn::DynamicBatchNorm2d make_bn(int64_t c, std::optional<double> momentum) {
  nn::DynamicBatchNorm2d bn(nn::DynamicBatchNorm2dOptions(c).momentum(momentum));
  torch::NoGradGuard g;
  bn->weight.uniform_(0.5, 1.5);
  bn->bias.normal_();
  return bn;
}

}  // namespace

TEST(DynamicBatchNorm2d, TrainModeNormalisesWithBatchStatisticsOfTheSlice) {
  torch::manual_seed(1);
  auto bn = make_bn(5, 0.1);
  torch::Tensor x = torch::randn({4, 3, 6, 6}) * 3 + 1;
  torch::Tensor y = bn->forward(x);
  torch::Tensor mean = x.mean({0, 2, 3}), var = x.var({0, 2, 3}, /*unbiased=*/false);
  torch::Tensor w = bn->weight.detach().index({Slice(0, 3)}), b = bn->bias.detach().index({Slice(0, 3)});
  torch::Tensor ref =
      (x - mean.view({1, 3, 1, 1})) / (var.view({1, 3, 1, 1}) + 1e-5).sqrt() * w.view({1, 3, 1, 1}) +
      b.view({1, 3, 1, 1});
  EXPECT_TRUE(torch::allclose(y, ref, 1e-4, 1e-4));
  // Running statistics: the first 3 entries move by momentum 0.1 (unbiased variance), the others keep their
  // init.
  torch::Tensor uvar = x.var({0, 2, 3}, /*unbiased=*/true);
  EXPECT_TRUE(torch::allclose(bn->running_mean.index({Slice(0, 3)}), 0.1 * mean, 1e-5, 1e-6));
  EXPECT_TRUE(torch::allclose(bn->running_var.index({Slice(0, 3)}), 0.9 + 0.1 * uvar, 1e-5, 1e-6));
  EXPECT_TRUE(torch::equal(bn->running_mean.index({Slice(3)}), torch::zeros({2})));
  EXPECT_TRUE(torch::equal(bn->running_var.index({Slice(3)}), torch::ones({2})));
  EXPECT_EQ(bn->num_batches_tracked.item<int64_t>(), 1);
}

TEST(DynamicBatchNorm2d, CumulativeAverageWithoutMomentumAndEvalUsesIt) {
  torch::manual_seed(2);
  auto bn = make_bn(4, std::nullopt);
  torch::Tensor a = torch::randn({2, 4, 3, 3}) + 2, b = torch::randn({2, 4, 3, 3}) - 1,
                c = torch::randn({2, 4, 3, 3});
  for (const auto& x : {a, b, c}) bn->forward(x);
  torch::Tensor mean = (a.mean({0, 2, 3}) + b.mean({0, 2, 3}) + c.mean({0, 2, 3})) / 3;
  torch::Tensor var = (a.var({0, 2, 3}) + b.var({0, 2, 3}) + c.var({0, 2, 3})) / 3;
  EXPECT_TRUE(torch::allclose(bn->running_mean, mean, 1e-5, 1e-5));
  EXPECT_TRUE(torch::allclose(bn->running_var, var, 1e-5, 1e-5));

  bn->eval();
  torch::Tensor x = torch::randn({1, 2, 3, 3});
  torch::Tensor rm = bn->running_mean.index({Slice(0, 2)}).view({1, 2, 1, 1});
  torch::Tensor rv = bn->running_var.index({Slice(0, 2)}).view({1, 2, 1, 1});
  torch::Tensor ref =
      (x - rm) / (rv + 1e-5).sqrt() * bn->weight.detach().index({Slice(0, 2)}).view({1, 2, 1, 1}) +
      bn->bias.detach().index({Slice(0, 2)}).view({1, 2, 1, 1});
  EXPECT_TRUE(torch::allclose(bn->forward(x), ref, 1e-5, 1e-5));
  nn::StaticBatchNorm s = bn->to_static(2);
  EXPECT_TRUE(torch::equal(s.running_mean, bn->running_mean.index({Slice(0, 2)})));
  EXPECT_EQ(s.weight.numel(), 2);
}

TEST(DynamicBatchNorm2d, ResetRunningStatsRestartsTheCumulativeAverage) {
  torch::manual_seed(3);
  auto bn = make_bn(4, std::nullopt);
  bn->forward(torch::randn({2, 4, 3, 3}) + 5);
  bn->reset_running_stats();
  EXPECT_TRUE(torch::equal(bn->running_mean, torch::zeros({4})));
  EXPECT_TRUE(torch::equal(bn->running_var, torch::ones({4})));
  EXPECT_EQ(bn->num_batches_tracked.item<int64_t>(), 0);
  // After a reset, one batch with a cumulative average: the running mean is that batch's mean.
  torch::Tensor x = torch::randn({2, 4, 3, 3});
  bn->forward(x);
  EXPECT_TRUE(torch::allclose(bn->running_mean, x.mean({0, 2, 3}), 1e-5, 1e-6));
}

TEST(DynamicBatchNorm2d, TooManyChannelsNamesTheField) {
  auto bn = make_bn(3, 0.1);
  EXPECT_EQ(oqa_test::error_field([&] { bn->forward(torch::randn({1, 4, 2, 2})); }), "channels");
}
