// DynamicQLinear: sliced forward, quantized forward against the composed LSQ reference, gradients, errors.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "nn_test_support.h"
#include "oqa/nn/dynamic_qlinear.h"
#include "oqa/quant/lsq.h"

using namespace oqa;
using namespace oqa_test;
using namespace torch::indexing;

TEST(DynamicQLinear, SlicedForwardFlattensAndMatchesLinear) {
  torch::manual_seed(1);
  nn::DynamicQLinear fc(nn::DynamicQLinearOptions(12, 6));
  fc->set_active(4);
  torch::Tensor x = torch::randn({3, 8, 1, 1});
  torch::Tensor ref = at::linear(x.flatten(1), fc->weight.detach().index({Slice(0, 4), Slice(0, 8)}),
                                 fc->bias.detach().index({Slice(0, 4)}));
  EXPECT_TRUE(torch::allclose(fc->forward(x), ref, 1e-6, 1e-6));
}

TEST(DynamicQLinear, QuantizedForwardAndGradients) {
  torch::manual_seed(2);
  nn::DynamicQLinear fc(nn::DynamicQLinearOptions(10, 6));
  quant::QuantSpec ws;
  ws.bits = 3;
  ws.granularity = quant::Granularity::kPerChannel;
  quant::QuantSpec xs;
  xs.bits = 5;
  xs.symmetric = false;
  xs.is_signed = false;
  fc->quantizer->set_specs({ws, xs});
  fc->set_active(5);
  torch::Tensor x = torch::randn({4, 7}, torch::requires_grad());
  torch::Tensor y = fc->forward(x);
  const auto& we = fc->quantizer->weight->entry(ws);
  const auto& xe = fc->quantizer->input->entry(xs);
  torch::Tensor wq = quant::lsq_quantize_reference(fc->weight.detach().index({Slice(0, 5), Slice(0, 7)}),
                                                   we.step_size.detach().index({Slice(0, 5)}), {}, ws, 1.0);
  torch::Tensor xq =
      quant::lsq_quantize_reference(x.detach(), xe.step_size.detach(), xe.offset.detach(), xs, 1.0);
  EXPECT_TRUE(torch::allclose(y, at::linear(xq, wq, fc->bias.detach().index({Slice(0, 5)})), 1e-5, 1e-5));

  y.pow(2).sum().backward();
  EXPECT_TRUE(has_grad(*fc, "weight"));
  EXPECT_TRUE(has_grad(*fc, "bias"));
  EXPECT_TRUE(has_grad(*fc, "quantizer.weight.step_" + ws.key()));
  EXPECT_TRUE(has_grad(*fc, "quantizer.input.step_" + xs.key()));
  EXPECT_EQ(fc->weight.grad().index({Slice(5)}).abs().sum().item<double>(), 0);
  EXPECT_TRUE(x.grad().defined());
}

TEST(DynamicQLinear, BadWidthsNameTheField) {
  nn::DynamicQLinear fc(nn::DynamicQLinearOptions(4, 3));
  EXPECT_EQ(error_field([&] { fc->set_active(4); }), "out_features");
  EXPECT_EQ(error_field([&] { fc->forward(torch::randn({1, 5})); }), "in_features");
}
