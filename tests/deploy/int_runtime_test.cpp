// Integer runtime: single conv / depthwise / grouped / 1x1 / linear layers against a double-precision
// composition of the quantizer formula, and whole tiny supernet subnets against the fake-quant StaticModel.
#include <cmath>

#include <gtest/gtest.h>
#include <torch/torch.h>
#include <nlohmann/json.hpp>

#include "deploy/deploy_test_support.h"
#include "oqa/deploy/int_kernels.h"
#include "oqa/deploy/int_runtime.h"

using namespace oqa;

namespace {

struct LayerCase {
  std::string name;
  nn::StaticOp op = nn::StaticOp::kConv;
  int64_t cin = 4, cout = 6, k = 3, stride = 1, pad = 1, groups = 1, res = 7;
  quant::QuantSpec act{4, false};  // unsigned symmetric
  double act_offset = 0;           // with act.symmetric = false
  int weight_bits = 4;
  bool batch_norm = true;
  nn::Activation activation = nn::Activation::kRelu;
};

nn::StaticQuant make_quant(const quant::QuantSpec& spec, torch::Tensor step, double offset) {
  nn::StaticQuant q;
  q.spec = spec;
  q.step_size = step;
  if (!spec.symmetric) q.offset = torch::full({1}, offset);
  return q;
}

// One layer with integer weight levels on its grid, per-channel step sizes, bias and batch norm.
nn::StaticModel single_layer(const LayerCase& c) {
  nn::StaticModel m(c.cin, c.res);
  nn::StaticLayer l;
  l.op = c.op;
  l.name = c.name;
  l.inputs = {-1};
  quant::QuantSpec ws{c.weight_bits, true, quant::Granularity::kPerChannel};
  const torch::Tensor sw = torch::rand({c.cout}) * 0.05 + 0.01;
  const std::vector<int64_t> shape = c.op == nn::StaticOp::kConv
                                         ? std::vector<int64_t>{c.cout, c.cin / c.groups, c.k, c.k}
                                         : std::vector<int64_t>{c.cout, c.cin * c.res * c.res};
  const torch::Tensor levels = torch::randint(ws.qn(), ws.qp() + 1, shape).to(torch::kFloat);
  l.weight = levels * (c.op == nn::StaticOp::kConv ? sw.reshape({-1, 1, 1, 1}) : sw.reshape({-1, 1}));
  l.weight_quant = make_quant(ws, sw, 0);
  l.input_quant = make_quant(c.act, torch::full({1}, 0.11f), c.act_offset);
  l.bias = torch::randn({c.cout}) * 0.1;
  l.stride = c.stride, l.padding = c.pad, l.groups = c.groups;
  if (c.batch_norm)
    l.batch_norm = nn::StaticBatchNorm{torch::rand({c.cout}) + 0.5, torch::randn({c.cout}) * 0.2,
                                       torch::randn({c.cout}) * 0.1, torch::rand({c.cout}) + 0.2, 1e-5};
  l.act = c.activation;
  m.add(std::move(l));
  return m;
}

// The layer composed in double from the definitions: levels v = clamp(round((x - b) / s)) (division in float
// as the quantizer does), x_hat = v * s + b, zero padding, conv / linear, bias, batch norm, activation.
torch::Tensor composed(const nn::StaticModel& m, const torch::Tensor& x) {
  const nn::StaticLayer& l = m.layers().at(0);
  const nn::StaticQuant& iq = l.input_quant;
  const float s = iq.step_size.item<float>(), b = iq.offset.defined() ? iq.offset.item<float>() : 0.0f;
  const torch::Tensor t = (x - b) / s;  // float32, like the kernels
  const torch::Tensor v =
      t.clamp(static_cast<double>(iq.spec.qn()), static_cast<double>(iq.spec.qp())).round();
  const torch::Tensor xh = v.to(torch::kDouble) * static_cast<double>(s) + static_cast<double>(b);
  const torch::Tensor w = l.weight.to(torch::kDouble);
  torch::Tensor y = l.op == nn::StaticOp::kConv
                        ? at::conv2d(xh, w, l.bias.to(torch::kDouble), {l.stride, l.stride},
                                     {l.padding, l.padding}, {1, 1}, l.groups)
                        : at::linear(xh.flatten(1), w, l.bias.to(torch::kDouble));
  if (l.batch_norm) {
    const nn::StaticBatchNorm& bn = *l.batch_norm;
    auto ch = [&](const torch::Tensor& p) { return p.to(torch::kDouble).reshape({1, -1, 1, 1}); };
    y = (y - ch(bn.running_mean)) / (ch(bn.running_var) + bn.eps).sqrt() * ch(bn.weight) + ch(bn.bias);
  }
  return nn::apply_activation(y, l.act).reshape({x.size(0), -1});
}

double agreement(const torch::Tensor& a, const torch::Tensor& b) {
  return a.argmax(1).eq(b.argmax(1)).to(torch::kDouble).mean().item<double>();
}

}  // namespace

TEST(IntegerRuntime, SingleLayersEqualTheComposedQuantizedArithmetic) {
  quant::QuantSpec asym3{3, false, quant::Granularity::kPerTensor, 0, false};
  quant::QuantSpec signed8{8, true};
  const std::vector<LayerCase> cases = {
      {"conv 3x3 stride 2", nn::StaticOp::kConv, 4, 6, 3, 2, 1, 1, 7},
      {"conv 3x3 asymmetric input", nn::StaticOp::kConv, 4, 6, 3, 1, 1, 1, 7, asym3, -0.3},
      {"depthwise 5x5",
       nn::StaticOp::kConv,
       4,
       4,
       5,
       1,
       2,
       4,
       7,
       {2, false},
       0,
       2,
       true,
       nn::Activation::kHswish},
      {"depthwise stride 2 asymmetric", nn::StaticOp::kConv, 6, 6, 3, 2, 1, 6, 8, asym3, -0.25},
      {"grouped conv", nn::StaticOp::kConv, 4, 6, 3, 1, 1, 2, 6, signed8, 0, 3, false, nn::Activation::kNone},
      {"1x1 odd channels", nn::StaticOp::kConv, 3, 5, 1, 1, 0, 1, 5, signed8, 0, 8, true,
       nn::Activation::kHsigmoid},
      {"linear on a feature map", nn::StaticOp::kLinear, 3, 7, 1, 1, 0, 1, 5, asym3, -0.5, 4, false,
       nn::Activation::kNone}};
  torch::manual_seed(3);
  for (const LayerCase& c : cases) {
    const nn::StaticModel m = single_layer(c);
    deploy::DeployModel dm(m);
    deploy::IntegerModel im(dm);
    EXPECT_EQ(im.summary().at("integer_layers"), 1) << c.name;
    const torch::Tensor x = torch::randn({3, c.cin, c.res, c.res});
    const torch::Tensor want = composed(m, x), got = im.forward(x).to(torch::kDouble);
    ASSERT_EQ(got.sizes(), want.sizes()) << c.name;
    EXPECT_LE((want - got).abs().max().item<double>(), 1e-5 * (1 + want.abs().max().item<double>()))
        << c.name;
    // And the fake-quant model agrees with both.
    torch::NoGradGuard no_grad;
    const torch::Tensor fq = m.forward(x).reshape({3, -1}).to(torch::kDouble);
    EXPECT_LE((want - fq).abs().max().item<double>(), 1e-4 * (1 + want.abs().max().item<double>())) << c.name;
  }
}

TEST(IntegerRuntime, TinySubnetsMatchTheFakeQuantModel) {
  struct Case {
    const char* name;
    const char* config;
    test::SubnetPick pick;
  };
  const std::vector<Case> cases = {
      {"mbv3 w4a4", oqa_test::kTinyMbv3, test::uniform(4, 4, true, true)},
      {"mbv3 w2a2 smallest", oqa_test::kTinyMbv3, test::uniform(2, 2, true, true, true)},
      {"mbv3 w8a4 asymmetric acts", oqa_test::kTinyMbv3, test::uniform(8, 4, true, false)},
      {"mbv3 mixed", oqa_test::kTinyMbv3, test::sampled(21)},
      {"resnet w4a4", oqa_test::kTinyResNet, test::uniform(4, 4, true, true)},
      {"resnet w2a2 asymmetric acts", oqa_test::kTinyResNet, test::uniform(2, 2, true, false)},
      {"resnet mixed", oqa_test::kTinyResNet, test::sampled(22)}};
  uint64_t seed = 10;
  for (const Case& c : cases) {
    const deploy::DeployModel m(test::extract_tiny(c.config, c.pick, seed++));
    deploy::IntegerModel im(m);
    const int64_t r = m.model.resolution();
    const torch::Tensor x = torch::randn({64, m.model.in_channels(), r, r}) * 1.5;
    torch::NoGradGuard no_grad;
    const torch::Tensor want = m.model.forward(x), got = im.forward(x);
    ASSERT_EQ(got.sizes(), want.sizes()) << c.name;
    // Integer accumulation is exact where the float reference rounds, so a value lying within float error of
    // a rounding boundary may land one level apart; nearly every logit must still agree closely.
    const torch::Tensor err = (want - got).abs() / (1 + want.abs().max());
    EXPECT_LE(err.median().item<double>(), 1e-5) << c.name;
    EXPECT_GE(err.lt(1e-3).to(torch::kDouble).mean().item<double>(), 0.95) << c.name;
    EXPECT_GE(agreement(want, got), 0.95) << c.name;
  }
}

TEST(IntegerRuntime, FloatLayersFallBackAndAreCounted) {
  const deploy::DeployModel m(test::extract_tiny(oqa_test::kTinyMbv3, test::uniform(4, 4, true, true), 31));
  const nlohmann::json summary = deploy::IntegerModel(m).summary();
  int float_layers = 0;
  for (const nn::StaticLayer& l : m.model.layers())
    float_layers +=
        (l.op == nn::StaticOp::kConv || l.op == nn::StaticOp::kLinear) &&
        (l.weight_quant.spec.is_float() || l.input_quant.spec.is_float() || !l.weight_quant.spec.symmetric);
  EXPECT_GT(float_layers, 0) << "the tiny space keeps its head float";
  EXPECT_EQ(summary.at("float_layers").get<int>(), float_layers);
  EXPECT_GT(summary.at("integer_layers").get<int>(), 5);
}

TEST(IntegerRuntime, RejectsInputsOfTheWrongShape) {
  const deploy::DeployModel m(test::extract_tiny(oqa_test::kTinyResNet, test::uniform(4, 4, true, true), 32));
  deploy::IntegerModel im(m);
  EXPECT_THROW(im.forward(torch::randn({2, 1, 8, 8})), util::Error);
  // Another resolution is resized, as the fake-quant model does.
  torch::NoGradGuard no_grad;
  const torch::Tensor x = torch::randn({8, 3, 16, 16});
  EXPECT_GE(agreement(m.model.forward(x), im.forward(x)), 0.85);
}

TEST(IntegerRuntime, ParallelLoopsUseEveryThread) {
  // The runtime's loops are at::parallel_for, which is serial unless its file was compiled with OpenMP.
  const int before = at::get_num_threads();
  at::set_num_threads(2);
  const int width = deploy::detail::parallel_width();
  at::set_num_threads(1);
  const int serial = deploy::detail::parallel_width();
  at::set_num_threads(before);
  EXPECT_EQ(width, 2);
  EXPECT_EQ(serial, 1);
}

TEST(IntegerRuntime, BatchSplitAcrossThreadsGivesTheSameLogits) {
  const deploy::DeployModel m(test::extract_tiny(oqa_test::kTinyMbv3, test::sampled(41), 33));
  deploy::IntegerModel im(m);
  const int64_t r = m.model.resolution();
  const torch::Tensor x = torch::randn({37, m.model.in_channels(), r, r});
  const int before = at::get_num_threads();
  at::set_num_threads(1);
  const torch::Tensor one = im.forward(x);
  at::set_num_threads(2);  // 37 images: two chunks of 18 and 19, one workspace each
  const torch::Tensor two = im.forward(x);
  at::set_num_threads(before);
  // Integer layers are exact either way; the float layers' BLAS GEMM may block other row counts differently
  // (last-bit differences).
  ASSERT_EQ(one.sizes(), two.sizes());
  EXPECT_LE((one - two).abs().max().item<double>(), 1e-6 * (1 + one.abs().max().item<double>()));
  EXPECT_TRUE(torch::equal(one.argmax(1), two.argmax(1)));
}
