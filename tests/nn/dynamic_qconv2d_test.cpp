// DynamicQConv2d: elastic kernel (hand-transformed reference), channel slicing, depthwise, quantized forward
// against the composed LSQ reference, gradients to weight / transforms / step sizes, errors naming the field.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "nn_test_support.h"
#include "oqa/nn/dynamic_qconv2d.h"
#include "oqa/quant/lsq.h"

using namespace oqa;
using namespace oqa_test;
using namespace torch::indexing;

namespace {

// The 7x7 weight cut to `out` x `in`, transformed by hand: centre 5x5 times T(7->5), then centre 3x3 times
// T(5->3).
torch::Tensor hand_kernel(const nn::DynamicQConv2d& conv, int64_t out, int64_t in, int64_t k) {
  torch::Tensor w = conv->weight.detach().index({Slice(0, out), Slice(0, in)});
  if (k <= 5) {
    torch::Tensor c = w.index({Slice(), Slice(), Slice(1, 6), Slice(1, 6)}).reshape({out, in, 25});
    w = torch::einsum("oip,pq->oiq", {c, conv->transform(7, 5).detach()}).reshape({out, in, 5, 5});
  }
  if (k == 3) {
    torch::Tensor c = w.index({Slice(), Slice(), Slice(1, 4), Slice(1, 4)}).reshape({out, in, 9});
    w = torch::einsum("oip,pq->oiq", {c, conv->transform(5, 3).detach()}).reshape({out, in, 3, 3});
  }
  return w;
}

nn::DynamicQConv2d elastic_conv() {
  nn::DynamicQConv2d conv(nn::DynamicQConv2dOptions(6, 8, 7).kernel_choices({3, 5, 7}).stride(2));
  perturb_transforms(*conv);
  return conv;
}

quant::QuantSpec spec(int bits, bool is_signed, quant::Granularity g, bool symmetric) {
  quant::QuantSpec s;
  s.bits = bits;
  s.is_signed = is_signed;
  s.granularity = g;
  s.symmetric = symmetric;
  return s;
}

}  // namespace

TEST(DynamicQConv2d, EveryKernelAndWidthMatchesHandTransformedConv) {
  torch::manual_seed(1);
  auto conv = elastic_conv();
  for (int64_t k : {7, 5, 3})
    for (int64_t out : {3, 8})
      for (int64_t in : {2, 6}) {
        conv->set_active(out, k);
        torch::Tensor x = torch::randn({2, in, 9, 9});
        torch::Tensor ref = at::conv2d(x, hand_kernel(conv, out, in, k), {}, {2, 2}, {k / 2, k / 2});
        torch::Tensor y = conv->forward(x);
        ASSERT_EQ(y.sizes(), ref.sizes()) << "k=" << k;
        EXPECT_TRUE(torch::allclose(y, ref, 1e-5, 1e-5)) << "k=" << k << " out=" << out << " in=" << in;
      }
}

TEST(DynamicQConv2d, LargestKernelIsTheStoredWeightAndTransformsStartAsIdentity) {
  nn::DynamicQConv2d conv(nn::DynamicQConv2dOptions(3, 4, 5).kernel_choices({3, 5}));
  EXPECT_TRUE(torch::equal(conv->active_weight(3), conv->weight));
  EXPECT_TRUE(torch::equal(conv->transform(5, 3), torch::eye(9)));
  conv->set_active(0, 3);
  EXPECT_TRUE(
      torch::equal(conv->active_weight(3), conv->weight.index({Slice(), Slice(), Slice(1, 4), Slice(1, 4)})));
}

TEST(DynamicQConv2d, DepthwiseUsesTheInputWidthAsGroups) {
  torch::manual_seed(2);
  nn::DynamicQConv2d conv(nn::DynamicQConv2dOptions(8, 8, 5).kernel_choices({3, 5}).depthwise(true));
  perturb_transforms(*conv);
  conv->set_active(0, 3);
  torch::Tensor x = torch::randn({2, 5, 7, 7});
  torch::Tensor w5 = conv->weight.detach().index({Slice(0, 5)});
  torch::Tensor c = w5.index({Slice(), Slice(), Slice(1, 4), Slice(1, 4)}).reshape({5, 1, 9});
  torch::Tensor w3 = torch::einsum("oip,pq->oiq", {c, conv->transform(5, 3).detach()}).reshape({5, 1, 3, 3});
  torch::Tensor ref = at::conv2d(x, w3, {}, {1, 1}, {1, 1}, {1, 1}, 5);
  EXPECT_EQ(conv->active_out_channels(5), 5);
  EXPECT_TRUE(torch::allclose(conv->forward(x), ref, 1e-5, 1e-5));
}

TEST(DynamicQConv2d, GroupedConvSlicesPerGroup) {
  torch::manual_seed(3);
  nn::DynamicQConv2d conv(nn::DynamicQConv2dOptions(8, 8, 3).groups(2).bias(true));
  {
    torch::NoGradGuard g;
    conv->bias.normal_();
  }
  conv->set_active(6, 0);
  torch::Tensor x = torch::randn({1, 4, 5, 5});
  torch::Tensor w = conv->weight.detach().index({Slice(0, 6), Slice(0, 2)});
  torch::Tensor ref = at::conv2d(x, w, conv->bias.detach().index({Slice(0, 6)}), {1, 1}, {1, 1}, {1, 1}, 2);
  EXPECT_TRUE(torch::allclose(conv->forward(x), ref, 1e-5, 1e-5));
}

TEST(DynamicQConv2d, QuantizedForwardEqualsComposedLsqReference) {
  torch::manual_seed(4);
  auto conv = elastic_conv();
  const quant::QuantSpec ws = spec(4, true, quant::Granularity::kPerChannel, false);
  const quant::QuantSpec xs = spec(3, false, quant::Granularity::kPerTensor, true);
  conv->quantizer->set_specs({ws, xs});
  conv->set_active(5, 3);
  torch::Tensor x = torch::rand({2, 4, 9, 9});
  torch::Tensor y = conv->forward(x);  // initialises both entries from these tensors
  const auto& we = conv->quantizer->weight->entry(ws);
  const auto& xe = conv->quantizer->input->entry(xs);
  torch::Tensor w = hand_kernel(conv, 5, 4, 3);
  torch::Tensor wq = quant::lsq_quantize_reference(w, we.step_size.detach().index({Slice(0, 5)}),
                                                   we.offset.detach().index({Slice(0, 5)}), ws, 1.0);
  torch::Tensor xq = quant::lsq_quantize_reference(x, xe.step_size.detach(), {}, xs, 1.0);
  torch::Tensor ref = at::conv2d(xq, wq, {}, {2, 2}, {1, 1});
  EXPECT_TRUE(torch::allclose(y, ref, 1e-5, 1e-5));
  // A 3-bit unsigned input has at most 8 distinct values.
  EXPECT_LE(std::get<0>(at::_unique(xq.flatten())).numel(), 8);
}

TEST(DynamicQConv2d, GradientsReachWeightTransformsAndStepSizesForEveryChoice) {
  torch::manual_seed(5);
  auto conv = elastic_conv();
  const quant::QuantSpec ws = spec(4, true, quant::Granularity::kPerTensor, true);
  const quant::QuantSpec xs = spec(4, true, quant::Granularity::kPerTensor, true);
  conv->quantizer->set_specs({ws, xs});
  for (int64_t k : {7, 5, 3})
    for (int64_t out : {4, 8}) {
      zero_grads(*conv);
      conv->set_active(out, k);
      torch::Tensor x = torch::randn({2, 5, 9, 9});
      (conv->forward(x) * torch::randn({2, out, 5, 5})).sum().backward();
      const std::string what = "k=" + std::to_string(k) + " out=" + std::to_string(out);
      torch::Tensor g = conv->weight.grad();
      ASSERT_TRUE(g.defined()) << what;
      EXPECT_GT(g.index({Slice(0, out), Slice(0, 5)}).abs().sum().item<double>(), 0) << what;
      // Outside the active slice (channels, inputs, kernel border) nothing moves.
      EXPECT_EQ(g.index({Slice(out)}).abs().sum().item<double>(), 0) << what;
      EXPECT_EQ(g.index({Slice(), Slice(5)}).abs().sum().item<double>(), 0) << what;
      if (k < 7) {
        EXPECT_EQ(g.index({Slice(), Slice(), 0}).abs().sum().item<double>(), 0) << what;
      }
      EXPECT_EQ(has_grad(*conv, "transform_7to5"), k <= 5) << what;
      EXPECT_EQ(has_grad(*conv, "transform_5to3"), k == 3) << what;
      EXPECT_TRUE(has_grad(*conv, "quantizer.weight.step_" + ws.key())) << what;
      EXPECT_TRUE(has_grad(*conv, "quantizer.input.step_" + xs.key())) << what;
    }
}

TEST(DynamicQConv2d, BadChoicesAndInputsNameTheField) {
  auto conv = elastic_conv();
  EXPECT_EQ(error_field([&] { conv->set_active(0, 4); }), "kernel_size");
  EXPECT_EQ(error_field([&] { conv->set_active(9, 0); }), "out_channels");
  EXPECT_EQ(error_field([&] { conv->forward(torch::randn({1, 7, 9, 9})); }), "in_channels");
  EXPECT_EQ(error_field([&] { nn::DynamicQConv2d(nn::DynamicQConv2dOptions(4, 4, 4)); }), "kernel_size");
  EXPECT_EQ(error_field([&] { nn::DynamicQConv2d(nn::DynamicQConv2dOptions(4, 4, 5).kernel_choices({7})); }),
            "kernel_choices");
}
