// Deploy conformance, in the style of ggml's test-backend-ops: a case list over layer kind x quantization
// form x activation, each case run through every backend against the static fake-quant model (the reference):
// the arithmetic composed in double from the definitions, the integer runtime, a .oqa round trip and ONNX
// Runtime when present, each with its stated tolerance.
#include <cmath>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "oqa/deploy/int_runtime.h"
#include "oqa/deploy/onnx_export.h"
#include "oqa/deploy/oqa_format.h"
#include "oqa/deploy/ort_bridge.h"
#include "util/test_dir.h"

using namespace oqa;

namespace {

// Layer geometry; `composite` kinds add a second path (residual add, squeeze-excite scale) after the layer.
struct Kind {
  std::string name;
  nn::StaticOp op = nn::StaticOp::kConv;
  int64_t cin = 4, cout = 6, k = 3, stride = 1, pad = 1, groups = 1, res = 7;
  enum Composite { kNone, kResidual, kSqueezeExcite } composite = kNone;
};

// Quantization of the layer: input quantizer (with offset when asymmetric) and weight bits and granularity;
// weight_bits 0 keeps float weights (the runtime's float fallback).
struct Form {
  std::string name;
  quant::QuantSpec act;
  double act_offset = 0;
  int weight_bits = 4;
  quant::Granularity granularity = quant::Granularity::kPerChannel;
};

const std::vector<Kind>& kinds() {
  static const std::vector<Kind> k = {
      {"conv 3x3", nn::StaticOp::kConv, 4, 6, 3, 1, 1, 1, 7},
      {"conv 3x3 stride 2", nn::StaticOp::kConv, 4, 6, 3, 2, 1, 1, 8},
      {"depthwise 3x3", nn::StaticOp::kConv, 6, 6, 3, 1, 1, 6, 7},
      {"depthwise 5x5 stride 2", nn::StaticOp::kConv, 4, 4, 5, 2, 2, 4, 9},
      {"grouped conv", nn::StaticOp::kConv, 4, 6, 3, 1, 1, 2, 6},
      {"1x1 odd channels", nn::StaticOp::kConv, 3, 5, 1, 1, 0, 1, 5},
      {"linear on a feature map", nn::StaticOp::kLinear, 3, 7, 1, 1, 0, 1, 5},
      {"residual add", nn::StaticOp::kConv, 4, 4, 3, 1, 1, 1, 6, Kind::kResidual},
      {"squeeze-excite scale", nn::StaticOp::kConv, 4, 4, 1, 1, 0, 1, 6, Kind::kSqueezeExcite},
  };
  return k;
}

const std::vector<Form>& forms() {
  using quant::Granularity;
  static const std::vector<Form> f = {
      {"w2 a2 unsigned", {2, false}, 0, 2},
      {"w3 a3 asymmetric", {3, false, Granularity::kPerTensor, 0, false}, -0.3, 3},
      {"w4 per-tensor a4 signed", {4, true}, 0, 4, Granularity::kPerTensor},
      {"w8 a8 unsigned", {8, false}, 0, 8},
      {"float weights a4", {4, false}, 0, 0},
  };
  return f;
}

const std::vector<nn::Activation>& activations() {
  static const std::vector<nn::Activation> a = {nn::Activation::kNone, nn::Activation::kRelu,
                                                nn::Activation::kHswish, nn::Activation::kHsigmoid};
  return a;
}

nn::StaticQuant make_quant(const quant::QuantSpec& spec, torch::Tensor step, double offset) {
  nn::StaticQuant q;
  q.spec = spec;
  q.step_size = step;
  if (!spec.symmetric) q.offset = torch::full({1}, offset);
  return q;
}

// A conv / linear layer with weights on its grid (per-channel or per-tensor step sizes), bias and batch norm.
nn::StaticLayer weighted_layer(const Kind& k, const Form& f, nn::Activation act, int input, int64_t cin,
                               const std::string& name) {
  nn::StaticLayer l;
  l.op = k.op;
  l.name = name;
  l.inputs = {input};
  const std::vector<int64_t> shape = k.op == nn::StaticOp::kConv
                                         ? std::vector<int64_t>{k.cout, cin / k.groups, k.k, k.k}
                                         : std::vector<int64_t>{k.cout, cin * k.res * k.res};
  if (f.weight_bits == 0) {
    l.weight = torch::randn(shape) * 0.2;
  } else {
    const quant::QuantSpec ws{f.weight_bits, true, f.granularity};
    const torch::Tensor sw = torch::rand({ws.per_channel() ? k.cout : 1}) * 0.05 + 0.01;
    const torch::Tensor levels = torch::randint(ws.qn(), ws.qp() + 1, shape).to(torch::kFloat);
    std::vector<int64_t> bshape(shape.size(), 1);
    bshape[0] = -1;
    l.weight = levels * sw.reshape(bshape);
    l.weight_quant = make_quant(ws, sw, 0);
  }
  l.input_quant = make_quant(f.act, torch::full({1}, 0.11f), f.act_offset);
  l.bias = torch::randn({k.cout}) * 0.1;
  l.stride = k.stride, l.padding = k.pad, l.groups = k.groups;
  l.batch_norm = nn::StaticBatchNorm{torch::rand({k.cout}) + 0.5, torch::randn({k.cout}) * 0.2,
                                     torch::randn({k.cout}) * 0.1, torch::rand({k.cout}) + 0.2, 1e-5};
  l.act = act;
  return l;
}

// The case's model: the layer alone, or the layer followed by its composite path.
nn::StaticModel build(const Kind& k, const Form& f, nn::Activation act) {
  nn::StaticModel m(k.cin, k.res);
  const int a = m.add(weighted_layer(k, f, act, -1, k.cin, "layer"));
  if (k.composite == Kind::kResidual) {
    const int b = m.add(weighted_layer(k, f, nn::Activation::kNone, a, k.cout, "second"));
    m.add_binary(nn::StaticOp::kAdd, a, b, "add", act);
  } else if (k.composite == Kind::kSqueezeExcite) {
    const int p = m.add_global_avg_pool(a, "pool");
    Kind fc = k;
    fc.res = 1;
    const int g = m.add(weighted_layer(fc, f, nn::Activation::kHsigmoid, p, k.cout, "excite"));
    m.add_binary(nn::StaticOp::kMul, a, g, "scale");
  }
  return m;
}

// One layer composed in double from the definitions: levels v = clamp(round((x - b) / s)) (division in float
// as the quantizer does), x_hat = v * s + b, zero padding, conv / linear, bias, batch norm, activation.
torch::Tensor composed(const nn::StaticLayer& l, const torch::Tensor& x) {
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
  const nn::StaticBatchNorm& bn = *l.batch_norm;
  auto ch = [&](const torch::Tensor& p) {
    return p.to(torch::kDouble)
        .reshape(l.op == nn::StaticOp::kConv ? std::vector<int64_t>{1, -1, 1, 1}
                                             : std::vector<int64_t>{1, -1});
  };
  y = (y - ch(bn.running_mean)) / (ch(bn.running_var) + bn.eps).sqrt() * ch(bn.weight) + ch(bn.bias);
  return nn::apply_activation(y, l.act).reshape({x.size(0), -1});
}

torch::Tensor reference(const nn::StaticModel& m, const torch::Tensor& x) {
  torch::NoGradGuard no_grad;
  return m.forward(x).reshape({x.size(0), -1}).to(torch::kDouble);
}

// Exact backends on a single layer: every output within rel of the largest magnitude.
void expect_close(const torch::Tensor& want, const torch::Tensor& got, double rel, const std::string& what) {
  ASSERT_EQ(want.sizes(), got.sizes()) << what;
  EXPECT_LE((want - got).abs().max().item<double>(), rel * (1 + want.abs().max().item<double>())) << what;
}

// Backends that reach a later quantizer through other float arithmetic: a value within an ulp of a rounding
// boundary may land one level apart and move that output, so the median error is tight and nearly every
// output is close.
void expect_nearly_all_close(const torch::Tensor& want, const torch::Tensor& got, const std::string& what) {
  ASSERT_EQ(want.sizes(), got.sizes()) << what;
  const torch::Tensor err = (want - got.to(torch::kDouble)).abs() / (1 + want.abs().max());
  EXPECT_LE(err.median().item<double>(), 1e-4) << what;
  EXPECT_GE(err.lt(1e-3).to(torch::kDouble).mean().item<double>(), 0.97) << what << " max " << err.max();
}

std::string case_name(const Kind& k, const Form& f, nn::Activation a) {
  return k.name + " / " + f.name + " / " + nn::to_string(a);
}

}  // namespace

// Every case through the composed arithmetic, the integer runtime and the .oqa round trip.
TEST(DeployConformance, EveryCaseOnTheInProcessBackends) {
  torch::manual_seed(3);
  int cases = 0;
  for (const Kind& k : kinds())
    for (const Form& f : forms())
      for (nn::Activation act : activations()) {
        const std::string name = case_name(k, f, act);
        SCOPED_TRACE(name);
        const nn::StaticModel m = build(k, f, act);
        const torch::Tensor x = torch::randn({3, k.cin, k.res, k.res});
        const torch::Tensor want = reference(m, x);
        const deploy::DeployModel dm(m);
        deploy::IntegerModel im(dm);
        const torch::Tensor got = im.forward(x).to(torch::kDouble);
        const bool single = k.composite == Kind::kNone;
        if (single) {
          // The definitions, in double: the fake-quant model and the runtime both reproduce them.
          const torch::Tensor exact = composed(m.layers().at(0), x);
          expect_close(exact, want, 1e-4, "fake-quant against the composed arithmetic");
          expect_close(exact, got, 1e-5, "integer runtime against the composed arithmetic");
        } else {
          expect_nearly_all_close(want, got, "integer runtime");
        }
        EXPECT_EQ(im.summary().at("integer_layers").get<int>() > 0, f.weight_bits > 0) << "integer path used";
        // .oqa round trip: packed levels, step sizes and folded batch norm give the same outputs.
        const deploy::DeployModel back = deploy::decode_oqa(deploy::encode_oqa(dm), "case.oqa");
        const torch::Tensor again = reference(back.model, x);
        if (single)
          expect_close(want, again, 1e-5, ".oqa round trip (fake-quant)");
        else
          expect_nearly_all_close(want, again, ".oqa round trip (fake-quant)");
        expect_close(got, deploy::IntegerModel(back).forward(x).to(torch::kDouble), 1e-5,
                     ".oqa round trip (integer runtime)");
        ++cases;
      }
  EXPECT_EQ(cases, 9 * 5 * 4);
}

// Every kind and form through ONNX Runtime (QDQ export), the activation taking each value in turn.
TEST(DeployConformance, EveryKindAndFormOnOnnxRuntime) {
  std::string why;
  if (!deploy::onnx_runtime_available(&why)) GTEST_SKIP() << "ONNX Runtime unavailable: " << why;
  TestDir dir;
  torch::manual_seed(4);
  size_t i = 0;
  for (const Kind& k : kinds())
    for (const Form& f : forms()) {
      const nn::Activation act = activations()[i++ % activations().size()];
      const std::string name = case_name(k, f, act);
      SCOPED_TRACE(name);
      const nn::StaticModel m = build(k, f, act);
      const torch::Tensor x = torch::randn({8, k.cin, k.res, k.res});
      const std::string path = (dir.path / "case.onnx").string();
      deploy::export_onnx(m, {}, path);
      const deploy::OrtResult r = deploy::run_onnx_runtime(path, x);
      expect_nearly_all_close(reference(m, x), r.logits.reshape({x.size(0), -1}), "ONNX Runtime");
    }
}
