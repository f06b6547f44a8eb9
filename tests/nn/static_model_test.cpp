// StaticModel: a hand-built graph (quantized conv + BN + act, pool, gate multiply, add, linear) against the
// same network composed from LibTorch ops and the LSQ reference; per-layer outputs, resizing, describe().
#include <gtest/gtest.h>
#include <torch/torch.h>
#include <nlohmann/json.hpp>

#include "oqa/nn/activation.h"
#include "oqa/nn/static_model.h"
#include "oqa/quant/lsq.h"

using namespace oqa;

namespace {

nn::StaticQuant q(int bits, bool is_signed, torch::Tensor step, torch::Tensor offset = {}) {
  nn::StaticQuant s;
  s.spec.bits = bits;
  s.spec.is_signed = is_signed;
  s.spec.symmetric = !offset.defined();
  if (step.numel() > 1) s.spec.granularity = quant::Granularity::kPerChannel;
  s.step_size = step;
  s.offset = offset;
  return s;
}

torch::Tensor ref_q(const torch::Tensor& x, const nn::StaticQuant& s) {
  return quant::lsq_quantize_reference(x, s.step_size, s.offset, s.spec, 1.0);
}

}  // namespace

TEST(StaticModel, ForwardEqualsComposedReference) {
  torch::manual_seed(1);
  nn::StaticModel m(3, 8);
  nn::StaticLayer conv;
  conv.name = "conv";
  conv.inputs = {-1};
  conv.weight = torch::randn({6, 3, 3, 3});
  conv.stride = 2;
  conv.padding = 1;
  conv.weight_quant = q(4, true, torch::rand({6}) * 0.1 + 0.05);
  conv.input_quant = q(8, true, torch::full({1}, 0.03));
  nn::StaticBatchNorm bn;
  bn.weight = torch::rand({6}) + 0.5;
  bn.bias = torch::randn({6});
  bn.running_mean = torch::randn({6}) * 0.1;
  bn.running_var = torch::rand({6}) + 0.5;
  conv.batch_norm = bn;
  conv.act = nn::Activation::kHswish;
  const int c = m.add(conv);
  const int pool = m.add_global_avg_pool(c, "pool");
  nn::StaticLayer gate;
  gate.name = "gate";
  gate.inputs = {pool};
  gate.weight = torch::randn({6, 6, 1, 1});
  gate.bias = torch::randn({6});
  gate.act = nn::Activation::kHsigmoid;
  const int g = m.add(gate);
  const int scaled = m.add_binary(nn::StaticOp::kMul, c, g, "scale");
  const int sum = m.add_binary(nn::StaticOp::kAdd, scaled, c, "add", nn::Activation::kRelu);
  const int p2 = m.add_global_avg_pool(sum, "pool2");
  nn::StaticLayer fc;
  fc.op = nn::StaticOp::kLinear;
  fc.name = "fc";
  fc.inputs = {p2};
  fc.weight = torch::randn({4, 6});
  fc.bias = torch::randn({4});
  fc.weight_quant = q(3, true, torch::full({1}, 0.2));
  fc.input_quant = q(4, false, torch::full({1}, 0.05), torch::full({1}, -0.1));
  m.add(fc);
  EXPECT_EQ(m.out_channels(p2), 6);

  torch::Tensor x = torch::randn({2, 3, 8, 8});
  torch::Tensor y =
      at::conv2d(ref_q(x, conv.input_quant), ref_q(conv.weight, conv.weight_quant), {}, {2, 2}, {1, 1});
  y = (y - bn.running_mean.view({1, 6, 1, 1})) / (bn.running_var.view({1, 6, 1, 1}) + 1e-5).sqrt() *
          bn.weight.view({1, 6, 1, 1}) +
      bn.bias.view({1, 6, 1, 1});
  y = at::hardswish(y);
  torch::Tensor gt = at::hardsigmoid(at::conv2d(y.mean({2, 3}, true), gate.weight, gate.bias));
  torch::Tensor z = at::relu(y * gt + y).mean({2, 3}, true).flatten(1);
  torch::Tensor ref = at::linear(ref_q(z, fc.input_quant), ref_q(fc.weight, fc.weight_quant), fc.bias);
  EXPECT_TRUE(torch::allclose(m.forward(x), ref, 1e-5, 1e-5));

  std::vector<torch::Tensor> outs = m.forward_all(x);
  ASSERT_EQ(outs.size(), m.layers().size());
  EXPECT_EQ(outs[static_cast<size_t>(c)].sizes(), (std::vector<int64_t>{2, 6, 4, 4}));
  EXPECT_TRUE(torch::equal(outs.back(), m.forward(x)));
  EXPECT_TRUE(torch::equal(
      nn::StaticModel::run_layer(m.layers()[static_cast<size_t>(sum)],
                                 {outs[static_cast<size_t>(scaled)], outs[static_cast<size_t>(c)]}),
      outs[static_cast<size_t>(sum)]));
  // A 12 px input is resized to the model's 8 px first.
  torch::Tensor big = torch::randn({1, 3, 12, 12});
  torch::Tensor small = at::upsample_bilinear2d(big, {8, 8}, false);
  EXPECT_TRUE(torch::allclose(m.forward(big), m.forward(small), 1e-6, 1e-6));

  nlohmann::json d = m.describe();
  EXPECT_EQ(d["layers"].size(), m.layers().size());
  EXPECT_EQ(d["layers"][0]["weight_quant"], "b4_s_pc_sym");
  EXPECT_EQ(d["layers"][0]["act"], "hswish");
  EXPECT_EQ(d["layers"][6]["input_quant"], "b4_u_pt_asym");
}

TEST(Activation, HandValuesAndNames) {
  torch::Tensor x = torch::tensor({-4.0f, -3.0f, -1.5f, 0.0f, 1.0f, 3.0f, 5.0f});
  torch::Tensor hs = torch::tensor({0.0f, 0.0f, -0.375f, 0.0f, 4.0f / 6.0f, 3.0f, 5.0f});
  torch::Tensor hg = torch::tensor({0.0f, 0.0f, 0.25f, 0.5f, 4.0f / 6.0f, 1.0f, 1.0f});
  EXPECT_TRUE(torch::allclose(nn::hswish(x), hs, 1e-6, 1e-6));
  EXPECT_TRUE(torch::allclose(nn::hsigmoid(x), hg, 1e-6, 1e-6));
  EXPECT_FALSE(nn::output_nonnegative(nn::Activation::kHswish));
  EXPECT_TRUE(nn::output_nonnegative(nn::Activation::kRelu));
  EXPECT_EQ(nn::activation_from_name("hsigmoid"), nn::Activation::kHsigmoid);
  EXPECT_FALSE(nn::activation_from_name("gelu").has_value());
}
