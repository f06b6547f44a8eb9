// Sandwich and GPG steps against hand-composed references: same accumulated gradients, same loss, sampling.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <map>
#include <set>
#include <tuple>

#include "oqa/train/gpg.h"
#include "oqa/train/sandwich.h"
#include "oqa/space/subnet_sampler.h"
#include "oqa/train/wdr_loss.h"
#include "supernet_test_support.h"

namespace F = torch::nn::functional;
using namespace oqa;

namespace {

struct StepFixture : ::testing::Test {
  std::shared_ptr<space::Supernet> net;
  std::vector<space::Subnet> subnets;
  data::Batch batch;

  void SetUp() override {
    torch::manual_seed(7);
    train::Experiment e = test::experiment_of(test::tiny_config());
    net = space::make_supernet(e.space);
    net->train();
    subnets = space::sandwich_subnets(*e.space, "w4a4", 2, 11);
    batch.images = torch::randn({12, 1, 16, 16});
    batch.labels = torch::randint(0, 10, {12});
    // First use initialises step sizes from data; do it once so both computations see the same values.
    torch::NoGradGuard no_grad;
    for (const auto& s : subnets) {
      net->set_active(s);
      net->forward(batch.images);
    }
  }

  std::map<std::string, torch::Tensor> grads() {
    std::map<std::string, torch::Tensor> g;
    for (const auto& p : net->named_parameters())
      g[p.key()] = p.value().grad().defined() ? p.value().grad().clone() : torch::zeros_like(p.value());
    return g;
  }
  void zero() {
    for (auto& p : net->parameters())
      if (p.grad().defined()) p.mutable_grad() = torch::Tensor();
  }
  torch::Tensor logits(const space::Subnet& s) {
    net->set_active(s);
    return net->forward(batch.images);
  }
  // The sandwich step composed by hand: CE (with o's smoothing) of the largest subnet, then for every other
  // one KL to the largest's soft labels plus kd_ce_weight x CE, and after each subnet's forward wdr_weight x
  // the WDR loss of the weights that forward quantized; `wdr` gets the sum of those WDR terms.
  torch::Tensor sandwich_reference(const train::DistillOptions& o, double& wdr) {
    auto own_wdr = [&]() -> torch::Tensor {
      if (o.wdr_weight <= 0) return torch::zeros({});
      const torch::Tensor w = o.wdr_weight * train::wdr_loss(train::wdr_weights(*net));
      wdr += w.item<double>();
      return w;
    };
    const torch::Tensor big = logits(subnets[0]);
    torch::Tensor total =
        F::cross_entropy(big, batch.labels, F::CrossEntropyFuncOptions().label_smoothing(o.label_smoothing)) +
        own_wdr();
    const torch::Tensor teacher = F::softmax(big.detach(), 1);
    for (size_t i = 1; i < subnets.size(); ++i) {
      const torch::Tensor s = logits(subnets[i]);
      total = total + F::kl_div(F::log_softmax(s, 1), teacher, F::KLDivFuncOptions().reduction(torch::kBatchMean)) +
              o.kd_ce_weight * F::cross_entropy(s, batch.labels) + own_wdr();
    }
    return total;
  }
  void expect_same_grads(const std::map<std::string, torch::Tensor>& a, const std::map<std::string, torch::Tensor>& b) {
    int nonzero = 0;
    for (const auto& [name, g] : a) {
      const double scale = 1.0 + g.abs().max().item<double>();
      EXPECT_LE((g - b.at(name)).abs().max().item<double>(), 1e-5 * scale) << name;
      nonzero += g.abs().sum().item<double>() > 0;
    }
    EXPECT_GT(nonzero, 10);
  }
};

}  // namespace

TEST_F(StepFixture, SandwichAccumulatesCeOfLargestAndKdOfTheOthers) {
  train::DistillOptions o;
  o.label_smoothing = 0.1;
  o.kd_ce_weight = 0.5;
  zero();
  auto r = train::sandwich_step(*net, batch, subnets, o);
  auto ours = grads();

  zero();
  double wdr = 0;
  const torch::Tensor total = sandwich_reference(o, wdr);
  total.backward();
  expect_same_grads(ours, grads());
  EXPECT_NEAR(r.loss, total.item<double>(), 1e-4 * (1 + std::abs(total.item<double>())));
  EXPECT_TRUE(r.metrics.contains("loss_largest"));
  EXPECT_TRUE(r.metrics.contains("train_top1_smallest"));
}

TEST_F(StepFixture, GpgChainsLargestToRandomToSmallest) {
  train::DistillOptions o;
  o.label_smoothing = 0.1;
  zero();
  auto r = train::gpg_step(*net, batch, subnets, o);
  auto ours = grads();

  zero();
  auto kl = [](const torch::Tensor& s, const torch::Tensor& t) {
    return F::kl_div(F::log_softmax(s, 1), F::softmax(t.detach(), 1), F::KLDivFuncOptions().reduction(torch::kBatchMean));
  };
  auto h = logits(subnets[0]);
  auto total = F::cross_entropy(h, batch.labels, F::CrossEntropyFuncOptions().label_smoothing(0.1));
  torch::Tensor last_random;
  for (size_t i = 1; i + 1 < subnets.size(); ++i) {
    auto rl = logits(subnets[i]);
    total = total + 0.5 * kl(rl, h) + 0.5 * F::cross_entropy(rl, batch.labels);
    last_random = rl;
  }
  auto l = logits(subnets.back());
  total = total + 0.5 * kl(l, last_random) + 0.5 * F::cross_entropy(l, batch.labels);
  total.backward();
  expect_same_grads(ours, grads());
  EXPECT_NEAR(r.loss, total.item<double>(), 1e-4 * (1 + std::abs(total.item<double>())));
}

TEST_F(StepFixture, WdrTermAddsItsGradient) {
  train::DistillOptions o;
  o.wdr_weight = 2.0;
  zero();
  auto r = train::sandwich_step(*net, batch, {subnets[0]}, o);
  auto ours = grads();
  zero();
  auto total = F::cross_entropy(logits(subnets[0]), batch.labels, F::CrossEntropyFuncOptions().label_smoothing(0.1)) +
               2.0 * train::wdr_loss(train::wdr_weights(*net));
  total.backward();
  expect_same_grads(ours, grads());
  ASSERT_TRUE(r.metrics.contains("wdr"));
  EXPECT_GT(r.metrics["wdr"].get<double>(), 0.0);
}

// WDR's weights are those the last forward quantized: the active slices of the searched layers (here the
// quantized convs, as the fixed layers are float), equal to the weights of the static model of that subnet
// (the reference), without the stem and without layers the previous forwards used; none at a float subnet.
TEST_F(StepFixture, WdrWeightsAreTheActiveSlicesOfTheSearchedLayersButTheStem) {
  const space::Subnet& smallest = subnets.back();
  torch::NoGradGuard no_grad;
  logits(smallest);
  const std::vector<torch::Tensor> ws = train::wdr_weights(*net);
  const nn::StaticModel m = space::extract_static(*net, smallest);
  std::vector<torch::Tensor> ref;
  bool first_conv = true;
  for (const nn::StaticLayer& l : m.layers()) {
    if (l.op != nn::StaticOp::kConv) continue;
    if (!first_conv && !l.weight_quant.spec.is_float()) ref.push_back(l.weight);
    first_conv = false;
  }
  ASSERT_FALSE(ref.empty());
  ASSERT_EQ(ws.size(), ref.size());
  int64_t active = 0;
  for (size_t i = 0; i < ws.size(); ++i) {
    ASSERT_EQ(ws[i].sizes(), ref[i].sizes()) << i;
    EXPECT_TRUE(torch::equal(ws[i], ref[i])) << i;
    active += ws[i].numel();
  }
  int64_t stored = 0;  // the same layers' full tensors: the smallest subnet uses less of them
  for (const auto& p : net->named_parameters())
    if (p.value().dim() == 4 && p.key().find("stem") == std::string::npos) stored += p.value().numel();
  EXPECT_LT(active, stored);
  logits(space::sandwich_subnets(*test::experiment_of(test::tiny_config()).space, "float", 0, 1)[0]);
  EXPECT_TRUE(train::wdr_weights(*net).empty());
}

// With three subnets, each one's loss carries the WDR term of its own active weights.
TEST_F(StepFixture, WdrTermOfEverySandwichSubnetOnItsOwnWeights) {
  train::DistillOptions o;
  o.wdr_weight = 0.5;
  o.label_smoothing = 0;
  zero();
  auto r = train::sandwich_step(*net, batch, subnets, o);
  auto ours = grads();
  zero();
  double wdr = 0;
  const torch::Tensor total = sandwich_reference(o, wdr);
  total.backward();
  expect_same_grads(ours, grads());
  EXPECT_NEAR(r.metrics["wdr"].get<double>(), wdr, 1e-5 * (1 + wdr));
  EXPECT_NEAR(r.loss, total.item<double>(), 1e-4 * (1 + std::abs(total.item<double>())));
}

// Every quantized step logs the shape of the largest subnet's quantized weights, with WDR off too: the mean
// over its searched layers (not the stem) of the kurtosis and |skewness|, composed here from the moments.
TEST_F(StepFixture, StepsLogTheKurtosisAndSkewnessOfTheLargestSubnetsWeights) {
  zero();
  const auto r = train::sandwich_step(*net, batch, subnets, train::DistillOptions{});
  logits(subnets[0]);
  const std::vector<torch::Tensor> w = train::wdr_weights(*net);
  ASSERT_GT(w.size(), 5u);
  double k = 0, s = 0;
  for (const auto& t : w) {
    const torch::Tensor x = t.detach().to(torch::kDouble).flatten();
    const torch::Tensor z = (x - x.mean()) / (x - x.mean()).pow(2).mean().sqrt();
    k += z.pow(4).mean().item<double>();
    s += std::abs(z.pow(3).mean().item<double>());
  }
  k /= static_cast<double>(w.size());
  s /= static_cast<double>(w.size());
  EXPECT_NEAR(r.metrics["weight_kurtosis"].get<double>(), k, 1e-4 * k);
  EXPECT_NEAR(r.metrics["weight_abs_skewness"].get<double>(), s, 1e-4 * (1 + s));
  EXPECT_FALSE(r.metrics.contains("wdr"));
  net->set_active(space::sandwich_subnets(*net->space_ptr(), "float", 0, 1).front());
  const auto f = train::sandwich_step(*net, batch, {net->active()}, train::DistillOptions{});
  EXPECT_FALSE(f.metrics.contains("weight_kurtosis")) << "a float subnet quantizes no weight";
}

TEST(SubnetSampler, LargestRandomSmallestAtTheStageQuantAndSeeded) {
  train::Experiment e = test::experiment_of(test::tiny_config());
  const auto& space = *e.space;
  auto a = space::sandwich_subnets(space, "w3a3", 3, 42);
  auto b = space::sandwich_subnets(space, "w3a3", 3, 42);
  ASSERT_EQ(a.size(), 5u);
  EXPECT_EQ(a, b);
  EXPECT_EQ(a.front(), space.with_quant(space.largest(), "w3a3"));
  EXPECT_EQ(a.back(), space.with_quant(space.smallest(), "w3a3"));
  for (const auto& s : a)
    for (const auto& q : s.quant) EXPECT_EQ(q.weight_bits, 3);
  bool differs = false;
  for (uint64_t seed = 0; seed < 8 && !differs; ++seed) differs = space::sandwich_subnets(space, "w3a3", 3, seed) != a;
  EXPECT_TRUE(differs);
  // "mixed" keeps the sampled bit-widths: across draws several appear.
  std::set<int> bits;
  for (uint64_t seed = 0; seed < 8; ++seed)
    for (const auto& s : space::sandwich_subnets(space, "mixed", 2, seed))
      for (const auto& q : s.quant) bits.insert(q.weight_bits);
  EXPECT_GE(bits.size(), 2u);
}

// EQ-Net's sandwich in a mixed stage: the largest keeps the highest bits and the smallest the lowest, and
// both draw their forms (over seeds every form appears at both ends); a uniform stage keeps default forms.
TEST(SubnetSampler, MixedStageDrawsTheFormsOfTheHighestAndLowestBitSubnets) {
  train::Experiment e = test::experiment_of(test::tiny_forms_config());
  const auto& space = *e.space;
  std::set<std::tuple<int, bool, bool>> forms_high, forms_low;
  for (uint64_t seed = 0; seed < 16; ++seed) {
    const auto s = space::sandwich_subnets(space, "mixed", 1, seed);
    ASSERT_EQ(s.size(), 3u);
    for (size_t l = 0; l < s.front().quant.size(); ++l) {
      const space::LayerQuant &hi = s.front().quant[l], &lo = s.back().quant[l];
      EXPECT_EQ(hi.weight_bits, 4);
      EXPECT_EQ(hi.act_bits, 4);
      EXPECT_EQ(lo.weight_bits, 2);
      EXPECT_EQ(lo.act_bits, 2);
      forms_high.insert({static_cast<int>(hi.weight_granularity), hi.weight_symmetric, hi.act_symmetric});
      forms_low.insert({static_cast<int>(lo.weight_granularity), lo.weight_symmetric, lo.act_symmetric});
    }
  }
  EXPECT_EQ(forms_high.size(), 8u);
  EXPECT_EQ(forms_low.size(), 8u);
  for (const auto& s : space::sandwich_subnets(space, "w3a3", 1, 5))
    for (const auto& q : s.quant) {
      EXPECT_EQ(q.weight_granularity, space.largest().quant[0].weight_granularity);
      EXPECT_TRUE(q.weight_symmetric);
      EXPECT_TRUE(q.act_symmetric);
    }
  EXPECT_EQ(space::sandwich_subnets(space, "w3a3", 1, 5).front(), space.with_quant(space.largest(), "w3a3"));
}
