// Cost model: per-layer formulas against hand-computed values, float-layer policies, a whole tiny ResNet by
// hand, and the analytic counts (with layers, and totals only) of both spaces against counts taken from the
// extracted models' actual layers.
#include <random>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "oqa/cost/cost.h"
#include "space/tiny_spaces.h"

using namespace oqa;
using namespace oqa_test;

namespace {

nn::LayerShape conv(int64_t in, int64_t out, int64_t k, int64_t stride, int64_t size, int64_t groups = 1) {
  nn::LayerShape l;
  l.name = "conv";
  l.in_channels = in;
  l.out_channels = out;
  l.kernel_size = k;
  l.stride = stride;
  l.groups = groups;
  l.in_height = l.in_width = size;
  l.out_height = l.out_width = nn::conv_out_size(size, k, stride);
  l.batch_norm = true;
  return l;
}

quant::QuantSpec bits(int b) {
  quant::QuantSpec s;
  s.bits = b;
  return s;
}

}  // namespace

TEST(Cost, ConvLayerByHand) {
  nn::LayerShape l = conv(4, 8, 3, 2, 8);  // 8x8 -> 4x4
  l.weight_spec = bits(4);
  l.input_spec = bits(8);
  cost::LayerCost c = cost::layer_cost(l);
  EXPECT_EQ(c.macs, 4 * 4 * 8 * 4 * 9);   // 4608
  EXPECT_EQ(c.weight_params, 8 * 4 * 9);  // 288
  EXPECT_EQ(c.params, 288 + 2 * 8);       // + BN scale and shift
  EXPECT_EQ(c.bitops, 4608.0 * 4 * 8);
  EXPECT_EQ(c.bytes, 288 * 4 / 8.0 + 4 * 16 + 4 + 4);  // packed weights + float BN + 2 step sizes
  EXPECT_EQ(c.act_elements, 4 * 8 * 8);
  // Per-channel asymmetric weights store a step size and an offset per output channel.
  l.weight_spec.granularity = quant::Granularity::kPerChannel;
  l.weight_spec.symmetric = false;
  EXPECT_EQ(cost::layer_cost(l).bytes, 144 + 64 + 8 * 2 * 4 + 4);
}

TEST(Cost, DepthwiseLinearAndFloatPolicies) {
  nn::LayerShape dw = conv(8, 8, 5, 1, 6, 8);
  EXPECT_EQ(cost::layer_cost(dw).macs, 6 * 6 * 8 * 1 * 25);
  nn::LayerShape fc;
  fc.linear = true;
  fc.in_channels = 32;
  fc.out_channels = 5;
  fc.bias = true;
  cost::LayerCost f = cost::layer_cost(fc);  // float: 32-bit weights and inputs by default
  EXPECT_EQ(f.macs, 160);
  EXPECT_EQ(f.params, 165);
  EXPECT_EQ(f.bytes, 165 * 4);
  EXPECT_EQ(f.bitops, 160.0 * 32 * 32);
  EXPECT_EQ(cost::layer_cost(fc, {cost::FloatLayers::kExclude}).bitops, 0);
  fc.weight_spec = bits(8);  // quantized weight, float input: still a float layer
  EXPECT_EQ(cost::layer_cost(fc).bitops, 160.0 * 8 * 32);
  EXPECT_EQ(cost::layer_cost(fc, {cost::FloatLayers::kExclude}).bitops, 0);

  nn::LayerShape q = conv(2, 2, 1, 1, 1);
  q.weight_spec = bits(2);
  q.input_spec = bits(6);
  cost::CostSummary s = cost::summarize({q, fc}, {cost::FloatLayers::kExclude});
  EXPECT_EQ(s.bitops, 4.0 * 2 * 6);
  // Averages weighted by weight elements (4 at 2 bits, 160 at 8 bits) and input elements (float fc input left
  // out).
  EXPECT_DOUBLE_EQ(s.avg_weight_bits, (4 * 2 + 160 * 8) / 164.0);
  EXPECT_DOUBLE_EQ(s.avg_act_bits, 6.0);
  cost::CostSummary s32 = cost::summarize({q, fc});
  EXPECT_DOUBLE_EQ(s32.avg_act_bits, (2 * 6 + 32 * 32) / 34.0);
  EXPECT_EQ(s32.to_json(true)["layers"].size(), 2u);
}

TEST(Cost, TinyResNetSmallestByHand) {
  auto space = tiny_space(kTinyResNet);
  space::Subnet s = space->with_quant(space->smallest(), "w2a2");  // 8 px, widths 4/4/4/8/8
  cost::CostSummary c = cost::count(*space, s);
  const double stem = 8 * 8 * 4 * 3 * 9, c44 = 8 * 8 * 4 * 4 * 9;
  const double down = 4 * 4 * 8 * 4 * 9, c88 = 4 * 4 * 8 * 8 * 9, shortcut = 4 * 4 * 8 * 4, fc = 8 * 4;
  EXPECT_EQ(c.macs, stem + 4 * c44 + down + c88 + shortcut + fc);
  // Stem float (32 x 32), searched layers 2 x 2, classifier fixed w8a8.
  EXPECT_EQ(c.bitops, stem * 32 * 32 + (4 * c44 + down + c88 + shortcut) * 4 + fc * 64);
  const double params = (3 * 9 * 4 + 8) + 4 * (4 * 4 * 9 + 8) + (4 * 9 * 8 + 16) + (8 * 9 * 8 + 16) +
                        (4 * 8 + 16) + (8 * 4 + 4);
  EXPECT_EQ(c.params, params);
  ASSERT_EQ(c.layers.size(), 9u);
  EXPECT_EQ(c.layers[7].name, "stages.1.0.shortcut");
}

TEST(Cost, AnalyticCountsEqualCountsOfTheExtractedModel) {
  for (const char* config : {kTinyMbv3, kTinyResNet}) {
    auto space = tiny_space(config);
    auto net = space::make_supernet(space);
    std::mt19937_64 rng(5);
    std::vector<space::Subnet> subnets{space->largest(), space->smallest(), space->sample(rng),
                                       space->sample(rng)};
    subnets.push_back(space->with_quant(subnets[2], "float"));
    for (const space::Subnet& s : subnets) {
      prime(*net, s, 2);
      const nn::StaticModel model = space::extract_static(*net, s);
      for (auto policy : {cost::FloatLayers::kCount32, cost::FloatLayers::kExclude}) {
        const cost::CostSummary a = cost::count(*space, s, {policy}), b = cost::count(model, {policy});
        ASSERT_EQ(a.layers.size(), b.layers.size()) << space::to_string(s);
        for (size_t i = 0; i < a.layers.size(); ++i) {
          EXPECT_EQ(a.layers[i].name, b.layers[i].name);
          EXPECT_EQ(a.layers[i].macs, b.layers[i].macs) << a.layers[i].name;
          EXPECT_EQ(a.layers[i].params, b.layers[i].params) << a.layers[i].name;
          EXPECT_EQ(a.layers[i].bytes, b.layers[i].bytes) << a.layers[i].name;
          EXPECT_EQ(a.layers[i].bitops, b.layers[i].bitops) << a.layers[i].name;
          EXPECT_EQ(a.layers[i].act_elements, b.layers[i].act_elements) << a.layers[i].name;
        }
        EXPECT_EQ(a.to_json(), b.to_json());
        // The search's allocation-free totals are the same sums.
        const cost::CostSummary t = cost::count_totals(*space, s, {policy});
        EXPECT_TRUE(t.layers.empty());
        EXPECT_EQ(t.to_json(), a.to_json()) << space::to_string(s);
      }
      // The extracted model's parameter count (weights, biases, BN affine) equals the analytic one.
      double stored = 0;
      for (const auto& l : model.layers()) {
        if (!l.weight.defined()) continue;
        stored += static_cast<double>(l.weight.numel() + (l.bias.defined() ? l.bias.numel() : 0) +
                                      (l.batch_norm ? 2 * l.batch_norm->weight.numel() : 0));
      }
      EXPECT_EQ(stored, cost::count(*space, s).params);
    }
  }
}

TEST(Cost, LargerSubnetsCostMore) {
  auto space = tiny_space(kTinyMbv3);
  const cost::CostSummary big = cost::count(*space, space->largest()),
                          small = cost::count(*space, space->smallest());
  EXPECT_GT(big.macs, small.macs);
  EXPECT_GT(big.bitops, small.bitops);
  EXPECT_GT(big.bytes, small.bytes);
  // Counting float tensors as 32 bits, the smallest subnet's average is dominated by its float head; over the
  // quantized tensors alone the largest subnet (8 bits) averages more than the smallest (2 bits, stem 8).
  EXPECT_GT(small.avg_weight_bits, big.avg_weight_bits);
  const cost::CostOptions quantized_only{cost::FloatLayers::kExclude};
  EXPECT_EQ(cost::count(*space, space->largest(), quantized_only).avg_weight_bits, 8.0);
  const double small_bits = cost::count(*space, space->smallest(), quantized_only).avg_weight_bits;
  EXPECT_GT(small_bits, 2.0);
  EXPECT_LT(small_bits, 8.0);
}
