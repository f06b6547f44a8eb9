// Mbv3Space: genes, hand-computed size, largest / smallest / sampling, JSON round trip, shortcuts, errors
// that name the field, hashing, mutation, crossover, one-hot encoding and layer quantization specs.
#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>
#include <set>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "nn/nn_test_support.h"
#include "oqa/space/mbv3_space.h"
#include "tiny_spaces.h"

using namespace oqa;
using namespace oqa_test;
using nlohmann::json;

namespace {

std::string parse_error_field(const space::Space& s, const std::string& text) {
  return error_field([&] { s.parse(json::parse(text), "subnet.json"); });
}

std::string parse_error(const space::Space& s, const std::string& text) {
  try {
    s.parse(json::parse(text), "subnet.json");
  } catch (const util::Error& e) {
    return e.what();
  }
  return "";
}

const char* kValid = R"({"kind": "mbv3", "resolution": 12,
  "stages": [{"depth": 1, "kernel": [3, 7], "expand": 4}, {"depth": 2, "kernel": 5, "expand": [6, 3]}],
  "quant": "w4a4"})";

}  // namespace

TEST(Mbv3Space, GenesSlotsAndHandComputedSize) {
  auto s = tiny_space(kTinyMbv3);
  EXPECT_EQ(s->kind(), "mbv3");
  // Searched layers: stage 0 blocks expand/dw/project (3 x 2 slots), stage 1 + se.reduce/se.expand (5 x 2).
  EXPECT_EQ(s->searched_layers(), 16u);
  EXPECT_EQ(s->genes().size(), 1u + 2 * (1 + 2 * 2) + 16 * 5);
  EXPECT_EQ(s->slot("stem").precision.to_string(), "w8a8");
  EXPECT_EQ(s->slot("first.dw").precision.to_string(), "float");
  EXPECT_EQ(s->slot("stages.1.0.se.reduce").block, 2);
  // 72 quantizations per searched layer; a block has 9 (kernel, expand) choices; depth 1 or 2 per stage.
  const double b0 = 9 * std::pow(72.0, 3), b1 = 9 * std::pow(72.0, 5);
  EXPECT_NEAR(s->log10_size(), std::log10(2 * (b0 + b0 * b0) * (b1 + b1 * b1)), 1e-9);
}

TEST(Mbv3Space, LargestSmallestAndSamples) {
  auto s = tiny_space(kTinyMbv3);
  space::Subnet big = s->largest(), small = s->smallest();
  EXPECT_EQ(big.resolution, 16);
  EXPECT_EQ(small.resolution, 12);
  for (const auto& st : big.stages) {
    EXPECT_EQ(st.depth, 2);
    EXPECT_EQ(st.kernel, (std::vector<int64_t>{7, 7}));
    EXPECT_EQ(st.expand, (std::vector<int64_t>{6, 6}));
  }
  for (const auto& st : small.stages) {
    EXPECT_EQ(st.depth, 1);
    EXPECT_EQ(st.kernel, (std::vector<int64_t>{3, 3}));
  }
  EXPECT_EQ(big.quant.front().weight_bits, 8);
  EXPECT_EQ(small.quant.back().act_bits, 2);
  EXPECT_EQ(big.quant.front().weight_granularity,
            quant::Granularity::kPerTensor);  // default form: listed first

  std::mt19937_64 rng(7);
  std::set<int64_t> kernels, bits;
  for (int i = 0; i < 200; ++i) {
    space::Subnet r = s->sample(rng);
    EXPECT_NO_THROW(s->validate(r));
    kernels.insert(r.stages[1].kernel[0]);
    bits.insert(r.quant[3].weight_bits);
  }
  EXPECT_EQ(kernels, (std::set<int64_t>{3, 5, 7}));
  EXPECT_EQ(bits, (std::set<int64_t>{2, 4, 8}));
}

TEST(Mbv3Space, JsonRoundTripAndShortcuts) {
  auto s = tiny_space(kTinyMbv3);
  std::mt19937_64 rng(3);
  for (int i = 0; i < 20; ++i) {
    space::Subnet r = s->sample(rng);
    EXPECT_EQ(s->parse(space::to_json(r)), r);
    EXPECT_EQ(s->from_gene_values(s->gene_values(r)), r);
  }
  space::Subnet v = s->parse(json::parse(kValid));
  EXPECT_EQ(v.stages[0].kernel, (std::vector<int64_t>{3, 7}));
  EXPECT_EQ(v.stages[0].expand, (std::vector<int64_t>{4, 4}));
  EXPECT_EQ(v.stages[1].kernel, (std::vector<int64_t>{5, 5}));
  for (const auto& q : v.quant) EXPECT_TRUE(q.weight_bits == 4 && q.act_bits == 4);
  space::Subnet f = s->with_quant(v, "float");
  for (const auto& q : f.quant) EXPECT_TRUE(q.weight_bits == 0 && q.act_bits == 0);
  // Per-layer lists and scalars mix.
  json j = json::parse(kValid);
  j["quant"] = {
      {"weight_bits", 2}, {"act_bits", std::vector<int>(16, 8)}, {"weight_granularity", "per_channel"}};
  space::Subnet m = s->parse(j);
  EXPECT_EQ(m.quant[5].weight_bits, 2);
  EXPECT_EQ(m.quant[5].act_bits, 8);
  EXPECT_EQ(m.quant[5].weight_granularity, quant::Granularity::kPerChannel);
  EXPECT_EQ(space::to_json(m)["quant"]["act_bits"], 8);  // equal lists print as a scalar
}

TEST(Mbv3Space, InvalidSubnetJsonNamesTheFieldAndTheChoices) {
  auto s = tiny_space(kTinyMbv3);
  json j = json::parse(kValid);
  auto with = [&](const std::function<void(json&)>& edit) {
    json k = j;
    edit(k);
    return k.dump();
  };
  // Unknown kernel size.
  const std::string bad_kernel = with([](json& k) { k["stages"][1]["kernel"] = {4, 5}; });
  EXPECT_EQ(parse_error_field(*s, bad_kernel), "stages[1].kernel[0]");
  EXPECT_NE(parse_error(*s, bad_kernel).find("3, 5, 7"), std::string::npos) << parse_error(*s, bad_kernel);
  EXPECT_NE(parse_error(*s, bad_kernel).find("subnet.json"), std::string::npos);
  // Depth out of range.
  const std::string bad_depth = with([](json& k) { k["stages"][0]["depth"] = 3; });
  EXPECT_EQ(parse_error_field(*s, bad_depth), "stages[0].depth");
  EXPECT_NE(parse_error(*s, bad_depth).find("1, 2"), std::string::npos);
  // Bits 9, as a scalar and inside a per-layer list.
  EXPECT_EQ(parse_error_field(*s, with([](json& k) {
              k["quant"] = {{"weight_bits", 9}};
            })),
            "quant.weight_bits");
  EXPECT_EQ(parse_error_field(*s, with([](json& k) {
              std::vector<int> b(16, 4);
              b[3] = 9;
              k["quant"] = {{"act_bits", b}};
            })),
            "quant.act_bits[3]");
  EXPECT_EQ(parse_error_field(*s, with([](json& k) { k["quant"] = "w9a4"; })), "quant");
  // Wrong layer count, wrong stage count, wrong block count, unknown key, wrong kind, bad resolution.
  EXPECT_EQ(parse_error_field(*s, with([](json& k) {
              k["quant"] = {{"weight_bits", std::vector<int>(15, 4)}};
            })),
            "quant.weight_bits");
  EXPECT_EQ(parse_error_field(*s, with([](json& k) { k["stages"].erase(1); })), "stages");
  EXPECT_EQ(parse_error_field(*s, with([](json& k) {
              k["stages"][0]["kernel"] = {3, 3, 3};
            })),
            "stages[0].kernel");
  EXPECT_EQ(parse_error_field(*s, with([](json& k) { k["stages"][0]["kernal"] = 3; })), "stages[0].kernal");
  EXPECT_NE(
      parse_error(*s, with([](json& k) { k["stages"][0]["kernal"] = 3; })).find("did you mean 'kernel'"),
      std::string::npos);
  EXPECT_EQ(parse_error_field(*s, with([](json& k) { k["kind"] = "resnet"; })), "kind");
  EXPECT_EQ(parse_error_field(*s, with([](json& k) { k["resolution"] = 20; })), "resolution");
  EXPECT_EQ(parse_error_field(*s, with([](json& k) {
              k["quant"] = {{"weight_granularity", "per_row"}};
            })),
            "quant.weight_granularity");
}

TEST(Mbv3Space, HashIgnoresSkippedBlocksButNotRunningOnes) {
  auto s = tiny_space(kTinyMbv3);
  space::Subnet a = s->parse(json::parse(kValid));
  space::Subnet b = a;
  b.stages[0].kernel[1] = 5;  // stage 0 has depth 1: slot 1 does not run
  EXPECT_NE(a, b);
  EXPECT_EQ(s->hash(a), s->hash(b));
  EXPECT_EQ(s->canonical(b), s->canonical(a));
  b.stages[0].kernel[0] = 5;
  EXPECT_NE(s->hash(a), s->hash(b));
  space::Subnet c = a;
  c.quant[0].weight_bits = 8;
  EXPECT_NE(s->hash(a), s->hash(c));
  EXPECT_EQ(s->hash_hex(a).size(), 16u);
  EXPECT_EQ(s->hash(s->parse(space::to_json(a))), s->hash(a));
}

TEST(Mbv3Space, MutationCrossoverAndOneHot) {
  auto s = tiny_space(kTinyMbv3);
  std::mt19937_64 rng(11);
  space::Subnet a = s->sample(rng), b = s->sample(rng);
  EXPECT_EQ(s->mutate(a, 0.0, rng), a);
  space::Subnet m = s->mutate(a, 1.0, rng);
  EXPECT_NO_THROW(s->validate(m));
  EXPECT_NE(s->gene_values(m), s->gene_values(a));
  const auto va = s->gene_values(a), vb = s->gene_values(b), vc = s->gene_values(s->crossover(a, b, rng));
  size_t from_a = 0, from_b = 0;
  for (size_t i = 0; i < vc.size(); ++i) {
    EXPECT_TRUE(vc[i] == va[i] || vc[i] == vb[i]) << s->genes()[i].field;
    from_a += vc[i] == va[i] && va[i] != vb[i];
    from_b += vc[i] == vb[i] && va[i] != vb[i];
  }
  EXPECT_GT(from_a, 0u);
  EXPECT_GT(from_b, 0u);

  size_t total = 0;
  for (const auto& g : s->genes()) total += g.choices.size();
  EXPECT_EQ(s->one_hot_size(), total);
  const std::vector<float> h = s->one_hot(a);
  const std::vector<bool> active = s->active_genes(a);
  EXPECT_EQ(std::accumulate(h.begin(), h.end(), 0.0f),
            static_cast<float>(std::count(active.begin(), active.end(), true)));
  // Float layers are outside the sampled choices: their bit genes encode as all-zero.
  const std::vector<float> hf = s->one_hot(s->with_quant(a, "float"));
  EXPECT_LT(std::accumulate(hf.begin(), hf.end(), 0.0f), std::accumulate(h.begin(), h.end(), 0.0f));
}

TEST(Mbv3Space, GeneActivityFollowsStageDepthAndReusedSubnetsDecodeAlike) {
  auto s = tiny_space(kTinyMbv3);
  const auto& m = dynamic_cast<const space::Mbv3Space&>(*s);
  const auto depth = static_cast<int>(m.max_depth());
  std::mt19937_64 rng(9);
  space::Subnet reused = s->largest();
  std::vector<unsigned char> active, blocks;
  for (int t = 0; t < 50; ++t) {
    const space::Subnet a = s->sample(rng);
    const std::vector<int64_t> v = s->gene_values(a);
    s->active_genes_into(v, active);
    s->block_activity_into(v, blocks);
    for (size_t i = 0; i < v.size(); ++i) {
      const int b = s->genes()[i].block;  // reference: the subnet's stage depths
      const bool want = b < 0 || b % depth < a.stages[static_cast<size_t>(b / depth)].depth;
      ASSERT_EQ(active[i] != 0, want) << s->genes()[i].label;
      ASSERT_EQ(s->gene_active(i, blocks), want) << s->genes()[i].label;
    }
    s->from_valid_gene_values(v, reused);  // over the previous sample's lists
    ASSERT_EQ(reused, a);
  }
}

TEST(Mbv3Space, GeneOperatorsRedrawAtTheGivenRateAndMixBothParents) {
  auto s = tiny_space(kTinyMbv3);  // every quantization form searched: more than one 64-gene word
  const auto& genes = s->genes();
  ASSERT_GT(genes.size(), 64u);
  size_t first = genes.size(), last = 0;  // the outermost genes with a choice
  for (size_t i = 0; i < genes.size(); ++i)
    if (genes[i].choices.size() > 1) first = std::min(first, i), last = i;
  ASSERT_GE(last, 64u);
  std::mt19937_64 rng(7);
  const auto a = s->gene_values(s->sample(rng)), b = s->gene_values(s->sample(rng));
  // Mutation redraws each gene with probability p, so it changes with probability p * (1 - 1 / choices).
  const double p = 0.1;
  const int trials = 1000;
  double changed = 0, expected = 0;
  size_t first_changed = 0, last_changed = 0;
  for (const auto& g : genes) expected += trials * p * (1.0 - 1.0 / static_cast<double>(g.choices.size()));
  for (int t = 0; t < trials; ++t) {
    std::vector<int64_t> v = a;
    s->mutate_values(v, p, rng);
    for (size_t i = 0; i < v.size(); ++i) {
      ASSERT_NE(std::find(genes[i].choices.begin(), genes[i].choices.end(), v[i]), genes[i].choices.end());
      changed += v[i] != a[i];
    }
    first_changed += v[first] != a[first];
    last_changed += v[last] != a[last];
  }
  EXPECT_NEAR(changed, expected, 5 * std::sqrt(expected)) << "binomial count, 5 standard deviations";
  EXPECT_GT(first_changed, 0u);
  EXPECT_GT(last_changed, 0u);
  std::vector<int64_t> v = a;
  s->mutate_values(v, 0.0, rng);
  EXPECT_EQ(v, a);
  // Crossover takes each gene from b with probability 1/2, in every word of 64 coins.
  std::vector<double> from_b(2, 0), differ(2, 0);
  for (int t = 0; t < 400; ++t) {
    std::vector<int64_t> c = a;
    s->crossover_values(c, b, rng);
    for (size_t i = 0; i < c.size(); ++i) {
      ASSERT_TRUE(c[i] == a[i] || c[i] == b[i]);
      if (a[i] == b[i]) continue;
      differ[std::min<size_t>(i / 64, 1)] += 1;
      from_b[std::min<size_t>(i / 64, 1)] += c[i] == b[i];
    }
  }
  for (size_t w = 0; w < 2; ++w) {
    ASSERT_GT(differ[w], 0) << "word " << w;
    EXPECT_NEAR(from_b[w] / differ[w], 0.5, 0.05) << "word " << w;
  }
  EXPECT_EQ(s->from_valid_gene_values(a), s->from_gene_values(a));
  // Over a list of genes (every third one), both operators change those genes only, and change them.
  std::vector<size_t> listed;
  for (size_t i = 0; i < genes.size(); i += 3) listed.push_back(i);
  std::vector<int> touched(genes.size(), 0);
  for (int t = 0; t < 200; ++t) {
    std::vector<int64_t> m = a, c = a;
    s->mutate_values(m, 0.5, rng, listed);
    s->crossover_values(c, b, rng, listed);
    for (size_t i = 0; i < genes.size(); ++i) touched[i] += (m[i] != a[i]) + (c[i] != a[i]);
  }
  for (size_t i = 0; i < genes.size(); ++i) {
    if (i % 3 != 0) {
      EXPECT_EQ(touched[i], 0) << genes[i].field;
    } else if (genes[i].choices.size() > 1) {
      EXPECT_GT(touched[i], 0) << genes[i].field;
    }
  }
}

TEST(Mbv3Space, LayerSpecsFollowPrecisionAndActivationSign) {
  auto s = tiny_space(kTinyMbv3);
  space::Subnet v = s->parse(json::parse(kValid));
  const auto specs = s->layer_specs(v);
  auto at = [&](const std::string& name) {
    return specs[static_cast<size_t>(&s->slot(name) - s->layer_slots().data())];
  };
  EXPECT_EQ(at("stem").weight.bits, 8);
  EXPECT_TRUE(at("stem").input.is_signed);               // the image can be negative
  EXPECT_TRUE(at("first.dw").weight.is_float());         // first block float by default
  EXPECT_FALSE(at("stages.0.0.dw").input.is_signed);     // after ReLU
  EXPECT_FALSE(at("stages.1.0.dw").input.is_signed);     // after h-swish: unsigned, negatives clamp to 0
  EXPECT_TRUE(at("stages.1.0.expand").input.is_signed);  // a block input: a linear project output
  EXPECT_FALSE(at("stages.1.0.se.expand").input.is_signed);
  EXPECT_EQ(at("stages.1.0.project").weight.bits, 4);
  EXPECT_TRUE(at("classifier").weight.is_float());
}

// After h-swish (>= -0.375) the input grid keeps at least 2^b - 1 levels for the non-negative values at b bits,
// counted on a quantizer's actual output for h-swish of a wide Gaussian: "unsigned" (the default) gives
// [0, 2^b - 1], "asymmetric" unsigned levels with a learned (negative) offset, "signed" only 2^(b-1) of them.
TEST(Mbv3Space, InputGridAfterHswishKeepsItsLevelsOnTheNonNegativeSide) {
  for (const char* grid : {"unsigned", "asymmetric", "signed"}) {
    json cfg = json::parse(kTinyMbv3);
    cfg["quant"]["act_symmetric"] = {true};
    cfg["quant"]["small_negative"] = grid;
    auto config = util::Config::from_json(cfg, "tiny.json");
    auto s = space::make_space(config.root());
    space::Subnet v = s->with_quant(s->largest(), "w2a2");
    const auto specs = s->layer_specs(v);
    const auto& dw = specs[static_cast<size_t>(&s->slot("stages.1.0.dw") - s->layer_slots().data())];
    const auto& expand = specs[static_cast<size_t>(&s->slot("stages.1.0.expand") - s->layer_slots().data())];
    EXPECT_TRUE(expand.input.is_signed) << grid;  // a block input keeps both signs, whatever the grid
    EXPECT_EQ(dw.input.symmetric, std::string(grid) != "asymmetric") << grid;
    for (int bits : {2, 3, 4}) {
      const quant::QuantSpec spec = dw.input.with_bits(bits);
      quant::Quantizer q;
      torch::manual_seed(5);
      auto x = torch::randn({4096}) * 3;
      auto h = x * torch::clamp(x + 3, 0, 6) / 6;  // h-swish
      auto y = q(h, spec).detach();
      auto levels = std::get<0>(torch::_unique(y.masked_select(y >= 0)));
      const int64_t want = (int64_t{1} << bits) - 1;
      if (std::string(grid) == "signed")
        EXPECT_LE(levels.numel(), int64_t{1} << (bits - 1)) << grid << " " << bits;
      else
        EXPECT_GE(levels.numel(), want) << grid << " " << bits;
    }
  }
}

TEST(Mbv3Space, ConfigErrorsNameTheKey) {
  auto err = [](const std::string& text) {
    try {
      tiny_space(text.c_str());
    } catch (const util::Error& e) {
      return e.field_name();
    }
    return std::string();
  };
  EXPECT_EQ(err(R"({"kind": "mbv3", "kernel": [3, 4]})"), "kernel");
  EXPECT_EQ(err(R"({"kind": "mbv3", "stages": [{"chanels": 8}]})"), "stages[0].chanels");
  EXPECT_EQ(err(R"({"kind": "mbv3", "quant": {"weight_bits": [9]}})"), "quant.weight_bits");
  EXPECT_EQ(err(R"({"kind": "mbv3", "precision": {"stem": "w9a8"}})"), "precision.stem");
  EXPECT_EQ(err(R"({"kind": "mbv3", "dept": [2]})"), "dept");
  EXPECT_EQ(err(R"({"kind": "mobilenet"})"), "kind");
  // A resolution range.
  auto s = tiny_space(R"({"kind": "mbv3", "resolutions": {"min": 24, "max": 32, "step": 4}})");
  EXPECT_EQ(s->resolutions(), (std::vector<int64_t>{24, 28, 32}));
}
