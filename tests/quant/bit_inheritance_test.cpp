// Bit inheritance: b-1 bit step sizes are 2x the b-bit ones, offsets copied, quantized weights by hand.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>

#include "oqa/quant/bit_inheritance.h"
#include "oqa/quant/quantizer.h"
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
