// Supernets of both spaces: every elastic choice runs forward and backward with gradients reaching shared
// weights, kernel transforms and step sizes; extracted static models equal the supernet (float and quantized,
// largest / smallest / random subnets); extraction of uninitialised quantizers fails clearly.
#include <random>
#include <sstream>

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "nn/nn_test_support.h"
#include "oqa/space/mbv3_supernet.h"
#include "oqa/space/resnet_supernet.h"
#include "tiny_spaces.h"

using namespace oqa;
using namespace oqa_test;

namespace {

std::vector<space::Subnet> subnets_to_extract(const space::Space& s, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<space::Subnet> out{s.largest(), s.smallest()};
  for (int i = 0; i < 3; ++i) out.push_back(s.sample(rng));
  const size_t n = out.size();
  for (size_t i = 0; i < n; ++i) out.push_back(s.with_quant(out[i], "float"));
  return out;
}

void expect_extraction_matches(const char* config, uint64_t seed) {
  torch::manual_seed(static_cast<int64_t>(seed));
  auto space = tiny_space(config);
  auto net = space::make_supernet(space);
  perturb_transforms(*net);
  const torch::Tensor x =
      torch::randn({3, space->input_channels(), 14, 14});  // resized to the subnet's resolution
  for (const space::Subnet& subnet : subnets_to_extract(*space, seed)) {
    prime(*net, subnet);
    torch::NoGradGuard no_grad;
    const torch::Tensor expected = net->forward(x);
    const nn::StaticModel model = space::extract_static(*net, subnet);
    EXPECT_EQ(model.resolution(), subnet.resolution);
    const torch::Tensor got = model.forward(x);
    ASSERT_EQ(got.sizes(), expected.sizes());
    EXPECT_LE((got - expected).abs().max().item<double>(), 1e-5) << space::to_string(subnet);
    EXPECT_GT(expected.abs().max().item<double>(), 0.0);
  }
}

// Gradient names with a non-zero gradient.
std::set<std::string> moved(const torch::nn::Module& m) {
  std::set<std::string> out;
  for (const auto& kv : m.named_parameters(true))
    if (kv.value().grad().defined() && kv.value().grad().abs().sum().item<double>() > 0) out.insert(kv.key());
  return out;
}

void train_step(space::Supernet& net, const space::Subnet& subnet) {
  zero_grads(net);
  net.set_active(subnet);
  net.train();
  const auto& s = net.space();
  torch::Tensor y = net.forward(torch::randn({4, s.input_channels(), 16, 16}));
  ASSERT_EQ(y.sizes(), (std::vector<int64_t>{4, s.classes()}));
  at::cross_entropy_loss(y, torch::randint(s.classes(), {4})).backward();
}

}  // namespace

TEST(Supernet, Mbv3ExtractedModelEqualsSupernet) {
  expect_extraction_matches(kTinyMbv3, 1);
}

TEST(Supernet, ResNetExtractedModelEqualsSupernet) {
  expect_extraction_matches(kTinyResNet, 2);
}

TEST(Supernet, Mbv3EveryChoiceTrainsAndReachesSharedParameters) {
  torch::manual_seed(3);
  auto space = tiny_space(kTinyMbv3);
  auto net = space::make_supernet(space);
  auto& m = dynamic_cast<space::Mbv3Supernet&>(*net);
  for (int64_t depth : {1, 2})
    for (int64_t k : {3, 5, 7})
      for (int64_t e : {3, 4, 6}) {
        space::Subnet s = space->largest();
        s.resolution = (k + e + depth) % 2 ? 12 : 16;  // both resolutions, alternating
        for (auto& st : s.stages) {
          st.depth = depth;
          st.kernel.assign(2, k);
          st.expand.assign(2, e);
        }
        s = space->with_quant(s, (k + e) % 2 ? "w2a4" : "w8a2");
        train_step(*net, s);
        const std::set<std::string> g = moved(*net);
        const std::string what = space::to_string(s);
        const std::string spec_w = m.block(1, 0)->dw->conv->quantizer->specs().weight.key();
        const std::string spec_a = m.block(1, 0)->dw->conv->quantizer->specs().input.key();
        for (const std::string b : {"stages.0.0", "stages.1.0"}) {
          EXPECT_TRUE(g.count(b + ".dw.conv.weight")) << what;
          EXPECT_TRUE(g.count(b + ".expand.conv.weight")) << what;
          EXPECT_EQ(g.count(b + ".dw.conv.transform_7to5"), k <= 5 ? 1u : 0u) << what;
          EXPECT_EQ(g.count(b + ".dw.conv.transform_5to3"), k == 3 ? 1u : 0u) << what;
        }
        EXPECT_TRUE(g.count("stages.1.0.dw.conv.quantizer.weight.step_" + spec_w)) << what;
        EXPECT_TRUE(g.count("stages.1.0.dw.conv.quantizer.input.step_" + spec_a)) << what;
        EXPECT_TRUE(g.count("stages.1.0.se.reduce.conv.quantizer.weight.step_" + spec_w)) << what;
        EXPECT_TRUE(g.count("stem.conv.quantizer.weight.step_b8_s_pt_sym")) << what;  // fixed w8a8
        EXPECT_TRUE(g.count("classifier.weight")) << what;
        EXPECT_EQ(g.count("stages.1.1.dw.conv.weight"), depth == 2 ? 1u : 0u)
            << what;  // skipped block: nothing
      }
}

TEST(Supernet, ResNetEveryWidthTrainsAndReachesSharedParameters) {
  torch::manual_seed(4);
  auto space = tiny_space(kTinyResNet);
  auto net = space::make_supernet(space);
  auto& r = dynamic_cast<const space::ResNetSpace&>(*space);
  for (size_t group = 0; group < r.width_groups().size(); ++group)
    for (int64_t width : r.width_groups()[group].candidates) {
      space::Subnet s = space->smallest();
      s.widths[group] = width;
      train_step(*net, s);
      const std::set<std::string> g = moved(*net);
      for (const char* name : {"stem.conv.weight", "stages.0.0.conv1.conv.weight",
                               "stages.1.0.shortcut.conv.weight", "stages.1.0.conv2.bn.weight",
                               "classifier.weight", "stages.1.0.conv1.conv.quantizer.weight.step_b2_s_pt_sym",
                               "stages.1.0.conv2.conv.quantizer.input.step_b2_u_pt_sym"})
        EXPECT_TRUE(g.count(name)) << name << " " << space::to_string(s);
      // Channels beyond the stem group's active width get no gradient.
      torch::Tensor sg = dynamic_cast<space::ResNetSupernet&>(*net).stem->conv->weight.grad();
      EXPECT_EQ(sg.narrow(0, s.widths[0], sg.size(0) - s.widths[0]).abs().sum().item<double>(), 0);
    }
}

TEST(Supernet, QuantizerEntriesExistBeforeTrainingAndExtractionNeedsThemInitialised) {
  auto space = tiny_space(kTinyResNet);
  auto net = space::make_supernet(space);
  // Every spec the space can ask is a parameter already (weight: 3 bits x 2 granularities per searched
  // layer).
  size_t steps = 0;
  for (const auto& kv : net->named_parameters(true))
    if (kv.key().find("stages.1.0.conv1.conv.quantizer.weight.step_") == 0) ++steps;
  EXPECT_EQ(steps, 6u);
  const space::Subnet s = space->smallest();
  EXPECT_EQ(error_field([&] { space::extract_static(*net, s); }), "step_size");
  EXPECT_EQ(net->active(), space->largest());             // restored after the failure
  const space::Subnet f = space->with_quant(s, "float");  // still quantizes the fixed w8a8 classifier
  EXPECT_EQ(error_field([&] { space::extract_static(*net, f); }), "step_size");
  prime(*net, f);
  EXPECT_NO_THROW(space::extract_static(*net, f));
  space::Subnet bad = s;
  bad.widths[0] = 5;
  EXPECT_EQ(error_field([&] { net->set_active(bad); }), "widths[0]");
  EXPECT_EQ(error_field([&] { net->forward(torch::randn({1, 1, 8, 8})); }), "input");
}

// `stream << supernet` shows the active subnet and each module's active choices, as LibTorch prints modules.
TEST(Supernet, PrintingShowsTheActiveSubnetAndChoices) {
  auto space = tiny_space(kTinyMbv3);
  auto net = space::make_supernet(space);
  auto text = [&] {
    std::ostringstream os;
    os << *net;
    return os.str();
  };
  const std::string largest = text();
  EXPECT_NE(largest.find("oqa::space::Supernet(mbv3, active=" + space::to_string(space->largest()) + ")"),
            std::string::npos);
  EXPECT_NE(largest.find("kernel=7, expand=6"), std::string::npos) << largest;
  EXPECT_EQ(largest.find("kernel=3, expand=3"), std::string::npos);

  space::Subnet small = space->with_quant(space->smallest(), "w2a2");
  net->set_active(small);
  const std::string smallest = text();
  EXPECT_NE(smallest.find("active=" + space::to_string(small) + ")"), std::string::npos);
  EXPECT_NE(smallest.find("kernel=3, expand=3"), std::string::npos) << smallest;
  EXPECT_NE(smallest.find("oqa::nn::DynamicQConv2d(in="), std::string::npos);
  EXPECT_NE(smallest.find("LayerQuantizer(weight=b2_"), std::string::npos);
  EXPECT_EQ(largest.find("LayerQuantizer(weight=b2_"), std::string::npos);
}
