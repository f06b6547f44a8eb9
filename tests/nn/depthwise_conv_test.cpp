// Depthwise convolution with oqa's weight gradient: output, input gradient and weight gradient equal
// LibTorch's grouped conv2d (autograd) over kernels 3..7, strides 1 and 2, maps from 2x2 (cropped kernels)
// to 14x14; the weight-gradient kernel alone against a hand-computed case.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "oqa/nn/depthwise_conv.h"

using namespace oqa;

namespace {

struct Grads {
  torch::Tensor y, gx, gw;
};

Grads run(bool ours, const torch::Tensor& x0, const torch::Tensor& w0, const torch::Tensor& gy, int64_t s) {
  torch::Tensor x = x0.clone().requires_grad_(true), w = w0.clone().requires_grad_(true);
  const int64_t p = w.size(2) / 2;
  torch::Tensor y =
      ours ? nn::depthwise_conv2d(x, w, s, p) : at::conv2d(x, w, {}, {s, s}, {p, p}, {1, 1}, w.size(0));
  y.backward(gy);
  return {y.detach(), x.grad(), w.grad()};
}

void expect_close(const torch::Tensor& a, const torch::Tensor& b, const std::string& what) {
  ASSERT_EQ(a.sizes(), b.sizes()) << what;
  const double scale = 1 + b.abs().max().item<double>();
  EXPECT_LE((a - b).abs().max().item<double>(), 1e-5 * scale) << what;
}

}  // namespace

TEST(DepthwiseConv, MatchesGroupedConvForwardAndBothGradients) {
  torch::manual_seed(3);
  int cases = 0;
  for (int64_t k : {3, 5, 7})
    for (int64_t s : {1, 2})
      for (int64_t map : {2, 3, 4, 7, 14}) {
        const int64_t n = 3, c = 5, p = k / 2, out = (map + 2 * p - k) / s + 1;
        const torch::Tensor x = torch::randn({n, c, map, map}), w = torch::randn({c, 1, k, k});
        const torch::Tensor gy = torch::randn({n, c, out, out});
        const Grads want = run(false, x, w, gy, s), got = run(true, x, w, gy, s);
        const std::string what =
            "k" + std::to_string(k) + " s" + std::to_string(s) + " map" + std::to_string(map);
        expect_close(got.y, want.y, what + " output");
        expect_close(got.gx, want.gx, what + " input gradient");
        expect_close(got.gw, want.gw, what + " weight gradient");
        ++cases;
      }
  EXPECT_EQ(cases, 30);
}

TEST(DepthwiseConv, WeightGradientByHand) {
  // One image, one channel, 2x2 map, 3x3 kernel, padding 1: dL/dw[a][b] = sum_ij g[i][j] x[i + a - 1][j + b -
  // 1].
  const torch::Tensor x = torch::tensor({1.0f, 2.0f, 3.0f, 4.0f}).reshape({1, 1, 2, 2});
  const torch::Tensor g = torch::tensor({1.0f, 0.0f, 0.0f, 2.0f}).reshape({1, 1, 2, 2});
  const torch::Tensor gw = nn::depthwise_weight_grad(x, g, 3, 1, 1).reshape({3, 3});
  // centre tap: 1 * 1 + 2 * 4 = 9; top-left tap: g[1][1] * x[0][0] = 2; bottom-right: g[0][0] * x[1][1] = 4
  EXPECT_FLOAT_EQ(gw[1][1].item<float>(), 9.0f);
  EXPECT_FLOAT_EQ(gw[0][0].item<float>(), 2.0f);
  EXPECT_FLOAT_EQ(gw[2][2].item<float>(), 4.0f);
  EXPECT_FLOAT_EQ(gw[0][2].item<float>(), 0.0f);  // g[0][0] meets x[-1][1], g[1][1] meets x[0][2]: padding
}
