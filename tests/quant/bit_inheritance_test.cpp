// Bit inheritance: b-1 bit step sizes are 2x the b-bit ones, offsets copied, quantized weights by hand.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>

#include "oqa/quant/bit_inheritance.h"
#include "oqa/quant/quantizer.h"
#include "oqa/quant/step_init.h"
#include "oqa/util/error.h"

namespace oqa::quant {
namespace {

const QuantSpec kW4{4, true, Granularity::kPerChannel, 0, true};
const QuantSpec kA4{4, false, Granularity::kPerTensor, 0, false};

// A tiny layer: a weight and its quantizer, plus an activation quantizer.
struct TinyLayer : torch::nn::Module {
  TinyLayer() {
    weight = register_parameter("weight", torch::randn({4, 3}));
    wq = register_module("wq", Quantizer(QuantizerOptions(4)));
    aq = register_module("aq", Quantizer());
  }
  torch::Tensor weight;
  Quantizer wq{nullptr}, aq{nullptr};
};

struct Net : torch::nn::Module {
  Net() {
    a = register_module("a", std::make_shared<TinyLayer>());
    b = register_module("b", std::make_shared<TinyLayer>());
    stem = register_module("stem", Quantizer());  // float layer: never gets an entry
  }
  std::shared_ptr<TinyLayer> a, b;
  Quantizer stem{nullptr};
};

std::shared_ptr<Net> trained_at_4_bits() {
  torch::manual_seed(3);
  auto net = std::make_shared<Net>();
  for (auto* l : {net->a.get(), net->b.get()}) {
    l->wq(l->weight, kW4);
    l->aq(torch::randn({16}) - 0.1, kA4);
    torch::NoGradGuard ng;
    l->aq->entry(kA4).offset.fill_(-0.1);
  }
  return net;
}

TEST(BitInheritance, DoublesAndQuadruplesStepSizes) {
  auto net = trained_at_4_bits();
  EXPECT_EQ(inherit_bits(*net, 4, 3), 4);
  EXPECT_EQ(inherit_bits(*net, 4, 2), 4);
  for (auto* l : {net->a.get(), net->b.get()}) {
    auto s4 = l->wq->entry(kW4).step_size;
    EXPECT_TRUE(torch::equal(l->wq->entry(kW4.with_bits(3)).step_size, s4 * 2));
    EXPECT_TRUE(torch::equal(l->wq->entry(kW4.with_bits(2)).step_size, s4 * 4));
    EXPECT_TRUE(l->wq->is_initialized(kW4.with_bits(3)));
    auto a4 = l->aq->entry(kA4);
    auto a3 = l->aq->entry(kA4.with_bits(3));
    EXPECT_TRUE(torch::equal(a3.step_size, a4.step_size * 2));
    EXPECT_TRUE(torch::equal(a3.offset, a4.offset));
    EXPECT_TRUE(l->aq->is_initialized(kA4.with_bits(3)));
  }
  EXPECT_TRUE(net->stem->specs().empty());
  // Chained 3 -> 2 from the inherited 3-bit entries gives the same 2-bit values as the jump.
  auto s2 = net->a->wq->entry(kW4.with_bits(2)).step_size.clone();
  inherit_bits(*net, 3, 2);
  EXPECT_TRUE(torch::equal(net->a->wq->entry(kW4.with_bits(2)).step_size, s2));
}

TEST(BitInheritance, QuantizedWeightsAtThreeBitsByHand) {
  auto net = trained_at_4_bits();
  inherit_bits(*net, 4, 3);
  auto& layer = *net->a;
  const QuantSpec w3 = kW4.with_bits(3);  // Qn = -4, Qp = 3
  auto y = layer.wq(layer.weight, w3).detach();
  auto s4 = layer.wq->entry(kW4).step_size.detach();
  auto w = layer.weight.detach();
  for (int64_t c = 0; c < 4; ++c) {
    const float s = 2.0f * s4[c].item<float>();
    for (int64_t j = 0; j < 3; ++j) {
      float v = std::nearbyint(w[c][j].item<float>() / s);
      v = std::min(3.0f, std::max(-4.0f, v));
      EXPECT_NEAR(y[c][j].item<float>(), v * s, 1e-6 * std::max(1.0f, std::fabs(v * s)))
          << "channel " << c << " element " << j;
    }
  }
}

TEST(BitInheritance, MissingEntriesAreErrors) {
  auto net = trained_at_4_bits();
  try {
    inherit_bits(*net, 8, 7);
    ADD_FAILURE() << "no error";
  } catch (const util::Error& e) {
    EXPECT_NE(std::string(e.what()).find("8-bit"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("a.wq"), std::string::npos) << e.what();  // names the quantizer
  }
  Net empty;
  EXPECT_THROW(inherit_bits(empty, 4, 3), util::Error);
  EXPECT_THROW(inherit_bits(*net, 4, 1), util::Error);
}

TEST(BitInheritance, QuantizerAsRoot) {
  Quantizer q(QuantizerOptions(2));
  q(torch::randn({2, 5}), kW4);
  EXPECT_EQ(inherit_bits(*q, 4, 3), 1);
  EXPECT_TRUE(torch::equal(q->entry(kW4.with_bits(3)).step_size, q->entry(kW4).step_size * 2));
}

}  // namespace
}  // namespace oqa::quant

namespace oqa::quant {
namespace {

// Sum of squared quantization errors of rows [C, n] at per-row steps s [C] (a composed reference).
torch::Tensor row_errors(const torch::Tensor& rows, const torch::Tensor& s, const QuantSpec& spec) {
  auto st = s.reshape({-1, 1});
  auto q = (rows / st).round().clamp(static_cast<double>(spec.qn()), static_cast<double>(spec.qp())) * st;
  return (rows - q).square().sum(1);
}

// Weights that lie on the grid of step 0.3 (2 bits signed: -2..1) and of 0.5 (3 bits: -4..3): the rule finds
// those steps exactly (the factor 1 is a grid point), per tensor and per channel.
TEST(MinErrorStepSize, WeightsOnAGridByHand) {
  const QuantSpec w2{2, true, Granularity::kPerTensor, 0, true};
  auto w = torch::tensor({-0.6f, -0.3f, 0.0f, 0.3f, 0.3f, -0.6f});
  EXPECT_NEAR(min_error_step_size(w, w2, torch::tensor({0.3f})).item<float>(), 0.3f, 1e-6);
  const QuantSpec w3{3, true, Granularity::kPerChannel, 0, true};
  auto wc = torch::tensor({{-2.0f, -1.0f, 1.5f, 0.5f}, {-4.0f, 3.0f, 1.0f, -1.0f}});  // steps 0.5 and 1
  auto s = min_error_step_size(wc, w3, torch::tensor({0.5f, 1.0f}));
  EXPECT_NEAR(s[0].item<float>(), 0.5f, 1e-6);
  EXPECT_NEAR(s[1].item<float>(), 1.0f, 1e-6);
  // From the doubled start (x2) the rule walks back down to the same steps.
  s = min_error_step_size(wc, w3, torch::tensor({1.0f, 2.0f}));
  EXPECT_NEAR(s[0].item<float>(), 0.5f, 1e-6);
  EXPECT_NEAR(s[1].item<float>(), 1.0f, 1e-6);
}

// Gaussian weights, 4 -> 3 and 3 -> 2 bits, per tensor and per channel: the step found has the least error
// of a dense scan (2000 steps over the same range, a brute-force reference) within 2%, and less error than
// the doubled step it starts from.
TEST(MinErrorStepSize, BeatsDoublingAndMatchesADenseScan) {
  torch::manual_seed(11);
  auto w = torch::randn({6, 50}) * torch::linspace(0.2, 2.0, 6).reshape({6, 1});
  for (int from : {4, 3}) {
    for (auto g : {Granularity::kPerTensor, Granularity::kPerChannel}) {
      const QuantSpec hi{from, true, g, 0, true};
      const QuantSpec lo = hi.with_bits(from - 1);
      auto rows = g == Granularity::kPerChannel ? w : w.reshape({1, -1});
      auto start = init_step_size(w, hi) * 2;  // the x2 rule's step
      auto s = min_error_step_size(w, lo, start);
      auto err = row_errors(rows, s, lo);
      EXPECT_TRUE((err < row_errors(rows, start, lo)).all().item<bool>()) << lo.key();
      auto best = torch::full({rows.size(0)}, 1e30);
      for (int i = 0; i < 2000; ++i) {
        const double f = 0.25 + (2.0 - 0.25) * i / 1999.0;
        best = torch::minimum(best, row_errors(rows, start * f, lo));
      }
      EXPECT_TRUE((err <= best * 1.02 + 1e-6).all().item<bool>()) << lo.key() << " " << err << " " << best;
    }
  }
}

TEST(MinErrorStepSize, BadArgumentsAreErrors) {
  const QuantSpec w2{2, true, Granularity::kPerChannel, 0, true};
  EXPECT_THROW(min_error_step_size(torch::randn({3, 4}), w2, torch::ones({2})), util::Error);
  EXPECT_THROW(min_error_step_size(torch::randn({3, 4}), QuantSpec::float_spec(), torch::ones({1})), util::Error);
}

}  // namespace
}  // namespace oqa::quant
