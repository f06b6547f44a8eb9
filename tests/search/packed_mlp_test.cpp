// PackedMlp (the predictor's bfloat16 forward): a hand-computed case, and every register-tile shape against a
// LibTorch composition that rounds inputs, weights and hidden activations to bfloat16 the same way.
#include <gtest/gtest.h>

#include <ATen/Parallel.h>
#include <torch/torch.h>

#include "oqa/search/packed_mlp.h"

using oqa::search::PackedMlp;

namespace {

torch::Tensor bf16_rounded(const torch::Tensor& t) {
  return t.to(torch::kBFloat16).to(torch::kDouble);
}

// The MLP in float64 with bfloat16 inputs, weights, biases and hidden activations (ReLU between layers).
torch::Tensor reference(const std::vector<torch::Tensor>& w, const std::vector<torch::Tensor>& b,
                        const torch::Tensor& x) {
  torch::Tensor h = bf16_rounded(x);
  for (size_t i = 0; i < w.size(); ++i) {
    h = torch::addmm(bf16_rounded(b[i]), h, bf16_rounded(w[i]).t());
    if (i + 1 < w.size()) h = bf16_rounded(torch::relu(h));
  }
  return h;
}

std::vector<float> run(const PackedMlp& mlp, const torch::Tensor& x) {
  std::vector<float> y(static_cast<size_t>(x.size(0) * mlp.outputs()));
  const torch::Tensor xc = x.contiguous();
  mlp.forward(xc.data_ptr<float>(), x.size(0), y.data());
  return y;
}

}  // namespace

TEST(PackedMlp, HandComputedLayersAreExact) {
  if (!PackedMlp::available()) GTEST_SKIP() << "this CPU has no AVX512-BF16";
  // Layer 1 (3 -> 2): [0.5 -1.25 2; 1 1 -0.75] x + [0.25, -4]; layer 2 (2 -> 1): [1.5 -2] h + 1.
  const std::vector<torch::Tensor> w = {torch::tensor({{0.5f, -1.25f, 2.0f}, {1.0f, 1.0f, -0.75f}}),
                                        torch::tensor({{1.5f, -2.0f}})};
  const std::vector<torch::Tensor> b = {torch::tensor({0.25f, -4.0f}), torch::tensor({1.0f})};
  const PackedMlp mlp(w, b);
  EXPECT_EQ(mlp.inputs(), 3);
  EXPECT_EQ(mlp.outputs(), 1);
  // x = (1, 2, -3): h = relu(0.5 - 2.5 - 6 + 0.25, 1 + 2 + 2.25 - 4) = relu(-7.75, 1.25) = (0, 1.25);
  // y = 1.5 * 0 - 2 * 1.25 + 1 = -1.5.  x = (4, 0, 1): h = relu(2 + 2 + 0.25, 4 - 0.75 - 4) = (4.25, 0);
  // y = 6.375 + 1 = 7.375.
  const std::vector<float> y = run(mlp, torch::tensor({{1.0f, 2.0f, -3.0f}, {4.0f, 0.0f, 1.0f}}));
  ASSERT_EQ(y.size(), 2u);
  EXPECT_EQ(y[0], -1.5f);
  EXPECT_EQ(y[1], 7.375f);
}

TEST(PackedMlp, MatchesABfloat16ReferenceOnEveryTileShape) {
  if (!PackedMlp::available()) GTEST_SKIP() << "this CPU has no AVX512-BF16";
  torch::manual_seed(7);
  // Odd input width (padded pair), 400 outputs (four-vector tiles and a one-vector tail), 37 outputs
  // (padded to 48: a three-vector tile), several outputs on the last layer.
  const std::vector<int64_t> widths = {135, 400, 37, 3};
  std::vector<torch::Tensor> w, b;
  for (size_t i = 0; i + 1 < widths.size(); ++i) {
    w.push_back(torch::randn({widths[i + 1], widths[i]}) / std::sqrt(static_cast<double>(widths[i])));
    b.push_back(torch::randn({widths[i + 1]}) * 0.1);
  }
  const PackedMlp mlp(w, b);
  const int threads = at::get_num_threads();
  for (int64_t rows : {1, 5, 6, 7, 47, 48, 49, 300}) {
    const torch::Tensor x = torch::randn({rows, widths[0]});
    const torch::Tensor want = reference(w, b, x.to(torch::kDouble));
    at::set_num_threads(1);
    const std::vector<float> got = run(mlp, x);
    at::set_num_threads(2);
    const std::vector<float> got2 = run(mlp, x);  // 300 rows: blocks on two threads
    at::set_num_threads(threads);
    const double scale = want.abs().max().item<double>();
    const double* ref = want.contiguous().data_ptr<double>();
    for (size_t i = 0; i < got.size(); ++i) {
      // Float32 sums in another order may round a hidden activation to the neighbouring bfloat16.
      ASSERT_NEAR(got[i], ref[i], 1e-2 * scale) << "rows " << rows << " output " << i;
      ASSERT_EQ(got2[i], got[i]) << "rows " << rows << " output " << i << ": threads change the result";
    }
  }
}

TEST(PackedMlp, RejectsLayersThatDoNotChain) {
  if (!PackedMlp::available()) GTEST_SKIP() << "this CPU has no AVX512-BF16";
  EXPECT_ANY_THROW(
      PackedMlp({torch::zeros({4, 3}), torch::zeros({1, 5})}, {torch::zeros({4}), torch::zeros({1})}));
}
