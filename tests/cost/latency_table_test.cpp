// Latency table: keys from layer geometry and quantization form (not bits), prediction = sum of the entries,
// JSON / file round trip, errors, covering subnets, and a measured table that covers random subnets.
#include <random>

#include <ATen/Parallel.h>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "oqa/cost/latency_measure.h"
#include "oqa/util/error.h"
#include "space/tiny_spaces.h"
#include "util/test_dir.h"

using namespace oqa;
using namespace oqa_test;

namespace {

// The extracted model of the space's largest or smallest subnet with every searched layer at `quant`.
nn::StaticModel extracted(const char* config, bool largest, const std::string& quant) {
  auto s = tiny_space(config);
  auto net = space::make_supernet(s);
  return cost::extract_for_timing(*net, s->with_quant(largest ? s->largest() : s->smallest(), quant));
}

}  // namespace

TEST(LatencyTable, KeysNameGeometryAndFormButNotBits) {
  const nn::StaticModel a = extracted(kTinyResNet, false, "w2a2");
  const nn::StaticModel b = extracted(kTinyResNet, false, "w4a4");
  const nn::StaticModel f = extracted(kTinyResNet, false, "float");
  const auto ka = cost::LatencyTable::layer_keys(a), kb = cost::LatencyTable::layer_keys(b);
  EXPECT_EQ(ka, kb);
  EXPECT_NE(ka, cost::LatencyTable::layer_keys(f));
  ASSERT_EQ(ka.size(), a.layers().size());
  // Stem: float (space default), 3 -> 4 channels, 3x3, on the 8 px input; block conv1 quantized, after ReLU.
  EXPECT_EQ(ka[0], "conv w=4x3x3x3 s=1 p=1 g=1 bn wq=float aq=float act=relu in=3x8x8");
  EXPECT_EQ(ka[1], "conv w=4x4x3x3 s=1 p=1 g=1 bn wq=s_pt_sym aq=u_pt_sym act=relu in=4x8x8");
  EXPECT_EQ(ka[3], "add act=relu in=4x8x8,4x8x8");
  EXPECT_EQ(ka.back(), "linear w=4x8 bias wq=s_pt_sym aq=u_pt_sym act=none in=8x1x1");
}

TEST(LatencyTable, PredictIsTheSumOfEntriesAndRoundTrips) {
  const nn::StaticModel m = extracted(kTinyMbv3, true, "w4a4");
  cost::LatencyTable t;
  t.batch = 2;
  t.threads = 3;
  double sum = 0.0, v = 0.125;
  for (const std::string& k : cost::LatencyTable::layer_keys(m)) {
    if (t.has(k)) continue;  // repeated blocks share a key
    t.set(k, v);
    v *= 1.5;
  }
  for (const std::string& k : cost::LatencyTable::layer_keys(m)) sum += t.at(k);
  EXPECT_DOUBLE_EQ(t.predict(m), sum);

  TestDir dir;
  const std::string path = (dir.path / "table.json").string();
  t.info = {{"note", "x"}};
  t.save(path);
  cost::LatencyTable back = cost::LatencyTable::load(path);
  EXPECT_EQ(back.entries(), t.entries());
  EXPECT_EQ(back.batch, 2);
  EXPECT_EQ(back.threads, 3);
  EXPECT_EQ(back.info["note"], "x");
  EXPECT_DOUBLE_EQ(back.predict(m), sum);

  // A missing entry names the layer; a wrong file names the field.
  cost::LatencyTable partial = back;
  nlohmann::json j = back.to_json();
  j["entries"].erase(cost::LatencyTable::layer_keys(m)[0]);
  partial = cost::LatencyTable::from_json(j);
  try {
    partial.predict(m);
    ADD_FAILURE() << "predict without an entry must throw";
  } catch (const util::Error& e) {
    EXPECT_NE(e.field_name().find("stem"), std::string::npos) << e.what();
  }
  auto field = [](nlohmann::json bad) {
    try {
      cost::LatencyTable::from_json(bad, "t.json");
    } catch (const util::Error& e) {
      return e.field_name();
    }
    return std::string();
  };
  nlohmann::json bad = back.to_json();
  bad["version"] = 2;
  EXPECT_EQ(field(bad), "version");
  bad = back.to_json();
  bad["entries"]["conv x"] = -1;
  EXPECT_EQ(field(bad), "entries.conv x");
  bad = back.to_json();
  bad["extra"] = 1;
  EXPECT_EQ(field(bad), "extra");
}

TEST(LatencyTable, MeasuredTableCoversRandomSubnets) {
  // One thread: two OpenMP threads on a busy 2-core machine make every tiny op wait for a time slice.
  const int threads = at::get_num_threads();
  at::set_num_threads(1);
  for (const char* config : {kTinyResNet, kTinyMbv3}) {
    // Two weight forms (granularities) keep the test short; the keys test shows forms are part of the keys.
    nlohmann::json j = nlohmann::json::parse(config);
    j["quant"] = {
        {"weight_bits", {2, 4}}, {"act_bits", {4}}, {"weight_granularity", {"per_tensor", "per_channel"}}};
    auto s = tiny_space(j.dump().c_str());
    const std::vector<space::Subnet> cover = cost::covering_subnets(*s);
    // resnet: 2 resolutions x 2 forms x 2^3 width-index triples; mbv3: 2 resolutions x 2 forms x 9 (kernel,
    // expand).
    EXPECT_EQ(cover.size(), s->kind() == "resnet" ? 32u : 36u);
    auto net = space::make_supernet(s);
    cost::LatencyOptions o;
    o.warmup = 0;
    o.repeats = 1;
    const cost::LatencyTable t = cost::measure_latency_table(*net, cover, o);
    for (const auto& [key, ms] : t.entries()) EXPECT_GT(ms, 0.0) << key;
    std::mt19937_64 rng(9);
    for (int i = 0; i < 10; ++i) {
      const nn::StaticModel m = cost::extract_for_timing(*net, s->sample(rng));
      EXPECT_GT(t.predict(m), 0.0);  // throws when a layer key was not covered
      EXPECT_GT(cost::measure_model_ms(m, o), 0.0);
    }
  }
  at::set_num_threads(threads);
}
