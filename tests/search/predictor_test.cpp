// Accuracy predictor: learns a synthetic function of the encoding (Kendall tau > 0.9 on held-out points),
// the quant encoding sees bit-widths the arch encoding cannot, and save/load reproduces predictions.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <random>

#include "oqa/search/kendall.h"
#include "oqa/search/predictor.h"
#include "oqa/space/mbv3_space.h"
#include "oqa/util/error.h"
#include "search/search_test_support.h"
#include "util/test_dir.h"

using namespace oqa;

namespace {

// A smooth nonlinear "accuracy": saturating in the capacity (kernel x expand) of the active blocks, plus half
// a point per bit of every searched layer (so bit-widths move it by several points).
double synthetic_accuracy(const space::Space& space, const space::Subnet& s) {
  double capacity = 0;
  for (const auto& st : s.stages)
    for (int64_t b = 0; b < st.depth; ++b)
      capacity += 0.05 * static_cast<double>(st.kernel[b] * st.expand[b]);
  // Bits of the layers that run (the genes of skipped blocks change nothing, as in a real network).
  const auto values = space.gene_values(s);
  const auto active = space.active_genes(s);
  double bits = 0;
  for (size_t i = 0; i < values.size(); ++i) {
    if (!active[i]) continue;
    const std::string& field = space.genes()[i].field;
    if (field.rfind("quant.weight_bits", 0) == 0) bits += static_cast<double>(values[i]);
    if (field.rfind("quant.act_bits", 0) == 0) bits += 0.5 * static_cast<double>(values[i]);
  }
  return 60 + 20 * std::tanh(capacity / 2) + 0.5 * bits;
}

struct Data {
  std::vector<space::Subnet> subnets;
  std::vector<double> top1;
};

Data make_data(const space::Space& space, int n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  Data d;
  for (int i = 0; i < n; ++i) {
    d.subnets.push_back(space.sample(rng));
    d.top1.push_back(synthetic_accuracy(space, d.subnets.back()));
  }
  return d;
}

search::PredictorOptions options(search::Encoding e) {
  search::PredictorOptions o;
  o.encoding = e;
  o.epochs = 100;
  o.seed = 4;
  return o;
}

}  // namespace

TEST(Predictor, LearnsASyntheticFunctionWithKendallTauAbove09) {
  auto space = test::small_space();
  const Data train = make_data(*space, 800, 1), fresh = make_data(*space, 300, 2);
  search::AccuracyPredictor p(*space, options(search::Encoding::kQuant));
  const search::PredictorReport r = p.train(train.subnets, train.top1);
  EXPECT_EQ(r.held_out_pairs, 160);
  EXPECT_GT(r.kendall_tau, 0.9) << "held-out tau; train RMSE " << r.train_rmse << ", held-out RMSE "
                                << r.rmse;
  EXPECT_LT(r.rmse, 1.0) << "held-out RMSE (points of a target spanning ~20)";
  // On points never seen in training, too.
  EXPECT_GT(search::kendall_tau(p.predict(fresh.subnets), fresh.top1), 0.9);
}

TEST(Predictor, QuantEncodingSeesBitWidthsTheArchEncodingCannot) {
  auto space = test::small_space();
  const Data train = make_data(*space, 800, 1);
  search::AccuracyPredictor arch(*space, options(search::Encoding::kArch));
  search::AccuracyPredictor quant(*space, options(search::Encoding::kQuant));
  EXPECT_LT(arch.encoder().size(), quant.encoder().size());
  const double arch_rmse = arch.train(train.subnets, train.top1).rmse;
  const double quant_rmse = quant.train(train.subnets, train.top1).rmse;
  EXPECT_LT(quant_rmse * 2, arch_rmse) << "quant " << quant_rmse << " vs arch " << arch_rmse;
}

TEST(Encoder, RowsAreTheKeptColumnsOfTheSpaceOneHot) {
  auto space = test::small_space();
  std::mt19937_64 rng(3);
  std::vector<space::Subnet> subnets;
  for (int i = 0; i < 50; ++i) subnets.push_back(space->sample(rng));
  subnets.push_back(space->with_quant(subnets[0], "float"));  // float bits: all-zero columns
  for (auto enc : {search::Encoding::kArch, search::Encoding::kQuant}) {
    const search::Encoder encoder(*space, enc);
    const torch::Tensor x = encoder.encode(subnets);
    // The search's path: the same rows from gene values, no subnet built.
    std::vector<std::vector<int64_t>> values;
    for (const auto& s : subnets) values.push_back(space->gene_values(s));
    space::GeneRows rows;
    for (const auto& v : values) rows.push_back(&v);
    EXPECT_TRUE(torch::equal(encoder.encode_values(rows), x)) << search::encoding_name(enc);
    for (size_t n = 0; n < subnets.size(); ++n) {
      // Reference: Space::one_hot without quant genes (arch) and without single-choice genes (both).
      const std::vector<float> full = space->one_hot(subnets[n]);
      std::vector<float> want;
      size_t pos = 0;
      for (const auto& g : space->genes()) {
        const bool keep =
            g.choices.size() > 1 && (enc == search::Encoding::kQuant || g.field.rfind("quant.", 0) != 0);
        for (size_t c = 0; c < g.choices.size(); ++c, ++pos)
          if (keep) want.push_back(full[pos]);
      }
      ASSERT_EQ(want.size(), encoder.size());
      for (size_t k = 0; k < want.size(); ++k)
        ASSERT_EQ(x[static_cast<int64_t>(n)][static_cast<int64_t>(k)].item<float>(), want[k])
            << search::encoding_name(enc) << " subnet " << n << " column " << k;
    }
  }
}

// EQ-Net's conditional encoding on a space with elastic forms: the architecture and bit-width one-hots of the
// space's one_hot, then per form the share of active searched layers that have it, counted from the subnet.
TEST(Encoder, ConditionalEncodingIsArchAndBitsOneHotThenTheShareOfEachForm) {
  nlohmann::json config = test::tiny_config();
  config["space"]["quant"] = {{"weight_bits", {2, 4}},
                              {"act_bits", {2, 4}},
                              {"weight_granularity", {"per_tensor", "per_channel"}},
                              {"weight_symmetric", {true, false}},
                              {"act_symmetric", {true, false}}};
  util::Config c = util::Config::from_json(config, "forms.json");
  const auto space = space::make_space(c.root().child("space"));
  const search::Encoder encoder(*space, search::Encoding::kCond);
  std::mt19937_64 rng(9);
  std::vector<space::Subnet> subnets;
  for (int i = 0; i < 40; ++i) subnets.push_back(space->sample(rng));
  space::Subnet uniform = subnets[0];
  for (auto& q : uniform.quant) q.weight_granularity = quant::Granularity::kPerChannel, q.act_symmetric = false;
  subnets.push_back(uniform);
  const torch::Tensor x = encoder.encode(subnets);
  const auto& genes = space->genes();
  for (size_t n = 0; n < subnets.size(); ++n) {
    const std::vector<float> full = space->one_hot(subnets[n]);
    std::vector<float> want;
    std::vector<bool> layer_active;  // per searched layer: its weight-bits one-hot has a 1
    size_t pos = 0;
    for (const auto& g : genes) {
      const bool bits = g.field.rfind("quant.weight_bits[", 0) == 0 || g.field.rfind("quant.act_bits[", 0) == 0;
      const bool keep = g.choices.size() > 1 && (g.field.rfind("quant.", 0) != 0 || bits);
      bool any = false;
      for (size_t k = 0; k < g.choices.size(); ++k, ++pos) {
        if (keep) want.push_back(full[pos]);
        any = any || full[pos] > 0;
      }
      if (g.field.rfind("quant.weight_bits[", 0) == 0) layer_active.push_back(any);
    }
    const space::Subnet& s = subnets[n];
    ASSERT_EQ(layer_active.size(), s.quant.size());
    double active = 0, per_channel = 0, wsym = 0, asym = 0;
    for (size_t l = 0; l < s.quant.size(); ++l) {
      if (!layer_active[l]) continue;
      ++active;
      per_channel += s.quant[l].weight_granularity == quant::Granularity::kPerChannel;
      wsym += s.quant[l].weight_symmetric;
      asym += s.quant[l].act_symmetric;
    }
    ASSERT_GT(active, 0);
    for (double share : {per_channel / active, wsym / active, asym / active}) want.push_back(static_cast<float>(share));
    ASSERT_EQ(want.size(), encoder.size());
    for (size_t k = 0; k < want.size(); ++k)
      ASSERT_NEAR(x[static_cast<int64_t>(n)][static_cast<int64_t>(k)].item<float>(), want[k], 1e-6)
          << "subnet " << n << " column " << k;
  }
  const int64_t last = static_cast<int64_t>(encoder.size()) - 1;
  EXPECT_FLOAT_EQ(x[static_cast<int64_t>(subnets.size()) - 1][last - 2].item<float>(), 1.0f) << "all per-channel";
  EXPECT_FLOAT_EQ(x[static_cast<int64_t>(subnets.size()) - 1][last].item<float>(), 0.0f) << "no symmetric input";
  // On a space without elastic forms it is the arch encoding plus the bit-widths: no condition columns.
  const auto plain = test::small_space();
  size_t cols = 0;
  for (const auto& g : plain->genes())
    if (g.choices.size() > 1) cols += g.choices.size();  // small_space's only quant genes are bit-widths
  EXPECT_EQ(search::Encoder(*plain, search::Encoding::kCond).size(), cols);
}

TEST(Predictor, Bfloat16PredictionsStayCloseToFloat32) {
  auto space = test::small_space();
  const Data train = make_data(*space, 400, 1), fresh = make_data(*space, 300, 2);
  search::AccuracyPredictor p(*space, options(search::Encoding::kQuant));
  p.train(train.subnets, train.top1);
  EXPECT_EQ(p.precision(), search::Precision::kFloat32);
  const std::vector<double> f32 = p.predict(fresh.subnets);
  p.set_precision(search::Precision::kBFloat16);
  const std::vector<double> bf16 = p.predict(fresh.subnets);
  double worst = 0;
  for (size_t i = 0; i < f32.size(); ++i) worst = std::max(worst, std::abs(f32[i] - bf16[i]));
  RecordProperty("worst_bf16_difference", std::to_string(worst));
  RecordProperty("tau_bf16_vs_f32", std::to_string(search::kendall_tau(f32, bf16)));
  EXPECT_GT(worst, 0.0) << "bfloat16 really ran";
  EXPECT_LT(worst, 0.5) << "points, of predictions around 60-100";
  EXPECT_GT(search::kendall_tau(f32, bf16), 0.95);
  const std::vector<double> again = p.predict(fresh.subnets, search::Precision::kFloat32);
  for (size_t i = 0; i < f32.size(); ++i) EXPECT_DOUBLE_EQ(again[i], f32[i]);
  // The search's path (gene values) predicts exactly what predict() does.
  std::vector<std::vector<int64_t>> values;
  for (const auto& s : fresh.subnets) values.push_back(space->gene_values(s));
  space::GeneRows rows;
  for (const auto& v : values) rows.push_back(&v);
  EXPECT_EQ(p.predict_values(rows), bf16);

  EXPECT_EQ(search::parse_precision("auto"),
            search::native_bfloat16() ? search::Precision::kBFloat16 : search::Precision::kFloat32);
  try {
    search::parse_precision("fp16");
    ADD_FAILURE() << "fp16 accepted";
  } catch (const util::Error& e) {
    EXPECT_EQ(e.kind(), util::ErrorKind::kUsage);
    EXPECT_NE(std::string(e.what()).find("fp16"), std::string::npos) << e.what();
  }
}

TEST(Predictor, SaveLoadReproducesPredictionsAndRefusesAnotherSpace) {
  TestDir dir;
  auto space = test::small_space();
  const Data train = make_data(*space, 100, 1);
  search::PredictorOptions o = options(search::Encoding::kQuant);
  o.epochs = 100;
  search::AccuracyPredictor p(*space, o);
  p.train(train.subnets, train.top1);
  const std::string prefix = (dir.path / "predictor").string();
  p.save(prefix);
  const search::AccuracyPredictor q = search::AccuracyPredictor::load(*space, prefix);
  const auto a = p.predict(train.subnets), b = q.predict(train.subnets);
  for (size_t i = 0; i < a.size(); ++i) EXPECT_DOUBLE_EQ(a[i], b[i]);
  EXPECT_DOUBLE_EQ(q.report().rmse, p.report().rmse);

  auto other = std::make_shared<space::Mbv3Space>(space::Mbv3Options{});
  try {
    search::AccuracyPredictor::load(*other, prefix);
    FAIL() << "a predictor of another space was loaded";
  } catch (const util::Error& e) {
    EXPECT_NE(std::string(e.what()).find("predictor.json"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("another space"), std::string::npos) << e.what();
  }
  // Truncated weights: a clear error naming the file.
  std::filesystem::resize_file(prefix + ".pt", 100);
  try {
    search::AccuracyPredictor::load(*space, prefix);
    FAIL() << "truncated weights were loaded";
  } catch (const util::Error& e) {
    EXPECT_NE(std::string(e.what()).find("predictor.pt"), std::string::npos) << e.what();
  }
}
