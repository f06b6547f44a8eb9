// Squeeze-excite, MBConv and basic block: forward against blocks composed by hand from LibTorch ops, every
// elastic choice forward + backward with gradients reaching shared weights, transforms and step sizes.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "nn_test_support.h"
#include "oqa/nn/activation.h"
#include "oqa/nn/dynamic_basic_block.h"
#include "oqa/nn/dynamic_mbconv.h"
#include "oqa/nn/dynamic_squeeze_excite.h"
#include "oqa/nn/make_divisible.h"

using namespace oqa;
using namespace oqa_test;
using namespace torch::indexing;

namespace {

// Eval-mode batch norm of the first C channels, written out.
torch::Tensor bn_ref(const nn::DynamicBatchNorm2d& bn, const torch::Tensor& x) {
  const int64_t c = x.size(1);
  auto v = [&](const torch::Tensor& t) { return t.detach().index({Slice(0, c)}).view({1, c, 1, 1}); };
  return (x - v(bn->running_mean)) / (v(bn->running_var) + bn->options.eps()).sqrt() * v(bn->weight) +
         v(bn->bias);
}

// Random BN statistics and affine parameters so that batch norm is not the identity.
void randomize_batch_norms(torch::nn::Module& m) {
  torch::NoGradGuard g;
  for (auto& kv : m.named_buffers(true)) {
    if (kv.key().find("running_mean") != std::string::npos) kv.value().normal_(0, 0.3);
    if (kv.key().find("running_var") != std::string::npos) kv.value().uniform_(0.5, 2.0);
  }
  for (auto& kv : m.named_parameters(true)) {
    if (kv.key().find("bn.weight") != std::string::npos) kv.value().uniform_(0.5, 1.5);
    if (kv.key().find("bn.bias") != std::string::npos) kv.value().normal_(0, 0.3);
  }
}

torch::Tensor w(const nn::DynamicConvBnAct& unit, int64_t out, int64_t in) {
  return unit->conv->weight.detach().index({Slice(0, out), Slice(0, in)});
}

// A conv's weight cut to `out` channels: the hand transform down to kernel k (centre crops times transforms).
torch::Tensor dw_kernel(const nn::DynamicQConv2d& conv, int64_t out, int64_t k) {
  torch::Tensor x = conv->weight.detach().index({Slice(0, out)});
  for (int64_t from = conv->options.kernel_size(); from > k; from -= 2) {
    const int64_t to = from - 2;
    torch::Tensor c = x.index({Slice(), Slice(), Slice(1, 1 + to), Slice(1, 1 + to)}).reshape({out, to * to});
    x = c.matmul(conv->transform(from, to).detach()).reshape({out, 1, to, to});
  }
  return x;
}

}  // namespace

TEST(DynamicSqueezeExcite, MatchesPoolReduceExpandScale) {
  torch::manual_seed(1);
  nn::DynamicSqueezeExcite se(nn::DynamicSqueezeExciteOptions(32).reduction(4).divisor(4));
  {
    torch::NoGradGuard g;
    se->reduce->conv->bias.normal_();
    se->expand->conv->bias.normal_();
  }
  torch::Tensor x = torch::randn({2, 20, 5, 5});
  const int64_t r = nn::make_divisible(20 / 4, 4);  // 5 -> 8
  EXPECT_EQ(se->reduced_channels(20), 8);
  torch::Tensor p = x.mean({2, 3}, true);
  torch::Tensor h =
      at::relu(at::conv2d(p, w(se->reduce, r, 20), se->reduce->conv->bias.detach().index({Slice(0, r)})));
  torch::Tensor g = at::hardsigmoid(
      at::conv2d(h, w(se->expand, 20, r), se->expand->conv->bias.detach().index({Slice(0, 20)})));
  EXPECT_TRUE(torch::allclose(se->forward(x), x * g, 1e-5, 1e-5));
}

TEST(DynamicMBConv, EveryKernelAndExpandMatchesComposedBlock) {
  torch::manual_seed(2);
  nn::DynamicMBConv block(nn::DynamicMBConvOptions(8, 8).act(nn::Activation::kHswish).se(true));
  perturb_transforms(*block);
  randomize_batch_norms(*block);
  block->eval();
  ASSERT_TRUE(block->has_residual());
  torch::Tensor x = torch::randn({2, 8, 9, 9});
  for (int64_t k : {3, 5, 7})
    for (int64_t e : {3, 4, 6}) {
      block->set_active(k, e);
      const int64_t mid = nn::make_divisible(8.0 * e, 8);
      torch::Tensor y = at::hardswish(bn_ref(block->expand->bn, at::conv2d(x, w(block->expand, mid, 8))));
      y = at::conv2d(y, dw_kernel(block->dw->conv, mid, k), {}, {1, 1}, {k / 2, k / 2}, {1, 1}, mid);
      y = at::hardswish(bn_ref(block->dw->bn, y));
      const int64_t r = nn::make_divisible(static_cast<double>(mid / 4), 8);
      torch::Tensor h = at::relu(at::conv2d(y.mean({2, 3}, true), w(block->se->reduce, r, mid),
                                            block->se->reduce->conv->bias.detach().index({Slice(0, r)})));
      y = y * at::hardsigmoid(at::conv2d(h, w(block->se->expand, mid, r),
                                         block->se->expand->conv->bias.detach().index({Slice(0, mid)})));
      torch::Tensor ref = x + bn_ref(block->project->bn, at::conv2d(y, w(block->project, 8, mid)));
      EXPECT_TRUE(torch::allclose(block->forward(x), ref, 1e-4, 1e-5)) << "k=" << k << " e=" << e;
    }
}

TEST(DynamicMBConv, EveryChoiceTrainsWithQuantizersAndReachesSharedParameters) {
  torch::manual_seed(3);
  nn::DynamicMBConv block(nn::DynamicMBConvOptions(8, 16).stride(2).se(true));
  quant::QuantSpec s;
  s.bits = 4;
  for (auto* unit : {&block->expand, &block->dw, &block->project})
    (*unit)->conv->quantizer->set_specs({s, s});
  block->train();
  for (int64_t k : {3, 5, 7})
    for (int64_t e : {3, 4, 6}) {
      zero_grads(*block);
      block->set_active(k, e);
      torch::Tensor y = block->forward(torch::randn({4, 8, 8, 8}));
      ASSERT_EQ(y.sizes(), (std::vector<int64_t>{4, 16, 4, 4}));
      (y * torch::randn_like(y)).sum().backward();
      const std::string what = "k=" + std::to_string(k) + " e=" + std::to_string(e);
      for (const char* name : {"expand.conv.weight", "dw.conv.weight", "project.conv.weight", "dw.bn.weight",
                               "se.reduce.conv.weight", "se.expand.conv.bias"})
        EXPECT_TRUE(has_grad(*block, name)) << what << " " << name;
      for (const char* unit : {"expand", "dw", "project"})
        for (const char* q : {"weight", "input"})
          EXPECT_TRUE(has_grad(*block, std::string(unit) + ".conv.quantizer." + q + ".step_" + s.key()))
              << what;
      EXPECT_EQ(has_grad(*block, "dw.conv.transform_7to5"), k <= 5) << what;
      EXPECT_EQ(has_grad(*block, "dw.conv.transform_5to3"), k == 3) << what;
      // Hidden channels beyond the active expand ratio get nothing.
      const int64_t mid = nn::make_divisible(8.0 * e, 8);
      EXPECT_EQ(param(*block, "expand.conv.weight").grad().index({Slice(mid)}).abs().sum().item<double>(), 0)
          << what;
    }
  EXPECT_EQ(error_field([&] { block->set_active(3, 5); }), "expand");
}

TEST(DynamicBasicBlock, ElasticWidthsMatchComposedBlockAndTrain) {
  torch::manual_seed(4);
  nn::DynamicBasicBlock block(nn::DynamicBasicBlockOptions(8, 12, 16).stride(2));
  ASSERT_TRUE(block->has_projection());
  randomize_batch_norms(*block);
  block->eval();
  torch::Tensor x = torch::randn({2, 6, 8, 8});
  for (int64_t mid : {6, 12})
    for (int64_t out : {8, 16}) {
      block->set_active(mid, out);
      torch::Tensor y =
          at::relu(bn_ref(block->conv1->bn, at::conv2d(x, w(block->conv1, mid, 6), {}, {2, 2}, {1, 1})));
      y = bn_ref(block->conv2->bn, at::conv2d(y, w(block->conv2, out, mid), {}, {1, 1}, {1, 1}));
      torch::Tensor s = bn_ref(block->shortcut->bn, at::conv2d(x, w(block->shortcut, out, 6), {}, {2, 2}));
      EXPECT_TRUE(torch::allclose(block->forward(x), at::relu(y + s), 1e-4, 1e-5)) << mid << " " << out;
    }
  block->train();
  block->set_active(6, 8);
  block->forward(x).sum().backward();
  for (const char* name : {"conv1.conv.weight", "conv2.conv.weight", "shortcut.conv.weight", "conv2.bn.bias"})
    EXPECT_TRUE(has_grad(*block, name)) << name;

  nn::DynamicBasicBlock identity(nn::DynamicBasicBlockOptions(8, 8, 8));
  EXPECT_FALSE(identity->has_projection());
  identity->set_active(4, 4);
  EXPECT_EQ(error_field([&] { identity->forward(torch::randn({1, 8, 4, 4})); }), "out_channels");
}
