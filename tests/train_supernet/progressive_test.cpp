// Progressive shrinking: phase plan, the subnets each phase samples, and the importance sort of elastic
// channels (the largest subnet's function and the optimizer state move with the channels).
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <algorithm>
#include <map>
#include <set>

#include "oqa/nn/dynamic_mbconv.h"
#include "oqa/space/make_space.h"
#include "oqa/train/channel_sort.h"
#include "oqa/train/progressive.h"
#include "oqa/space/subnet_sampler.h"
#include "space/tiny_spaces.h"

using namespace oqa;

namespace {

int64_t largest_choice(const space::Gene& g) {
  return *std::max_element(g.choices.begin(), g.choices.end());
}

}  // namespace

TEST(ProgressiveShrinking, PhasesMakeOneMoreDimensionElasticEach) {
  const auto mbv3 = oqa_test::tiny_space(oqa_test::kTinyMbv3);
  const train::ProgressivePlan plan = train::progressive_plan(*mbv3, 100);
  ASSERT_EQ(plan.phases, (std::vector<std::string>{"largest", "kernel", "depth", "width"}));
  EXPECT_EQ(plan.phase_start(1), 25);
  EXPECT_EQ(plan.phase_at(24), 0);
  EXPECT_EQ(plan.phase_at(25), 1);
  EXPECT_EQ(plan.phase_at(74), 2);
  EXPECT_EQ(plan.phase_at(99), 3);
  EXPECT_EQ(train::progressive_plan(*oqa_test::tiny_space(oqa_test::kTinyResNet), 10).phases,
            (std::vector<std::string>{"largest", "width"}));

  const auto& genes = mbv3->genes();
  for (int phase = 0; phase < 4; ++phase) {
    std::map<std::string, std::set<int64_t>> seen_below_max;  // dimension -> values other than the largest
    for (uint64_t seed = 0; seed < 30; ++seed) {
      const auto subnets = space::sandwich_subnets(*mbv3, "float", 2, seed, [&](const space::Subnet& s) {
        return train::restrict_to_phase(*mbv3, s, plan, phase);
      });
      for (const space::Subnet& s : subnets) {
        const std::vector<int64_t> v = mbv3->gene_values(s);
        for (size_t i = 0; i < genes.size(); ++i) {
          const std::string dim = train::gene_dimension(genes[i]);
          if (dim != "kernel" && dim != "depth" && dim != "width") continue;
          if (!plan.elastic(phase, dim)) {
            ASSERT_EQ(v[i], largest_choice(genes[i])) << genes[i].field << " in phase " << phase;
          } else if (v[i] != largest_choice(genes[i])) {
            seen_below_max[dim].insert(v[i]);
          }
        }
      }
    }
    for (const char* dim : {"kernel", "depth", "width"})
      EXPECT_EQ(!seen_below_max[dim].empty(), plan.elastic(phase, dim)) << dim << " in phase " << phase;
  }
}

TEST(ProgressiveShrinking, ChannelSortKeepsTheLargestSubnetAndMovesTheOptimizerState) {
  torch::manual_seed(5);
  for (const char* config : {oqa_test::kTinyMbv3, oqa_test::kTinyResNet}) {
    auto net = space::make_supernet(oqa_test::tiny_space(config));
    const space::Subnet largest = net->space().largest();
    oqa_test::prime(*net, largest);
    {  // batch norm away from its defaults, so channels differ in more than their weights
      torch::NoGradGuard no_grad;
      for (auto& p : net->named_parameters())
        if (p.key().find(".bn.") != std::string::npos) p.value().uniform_(0.5, 1.5);
    }
    torch::optim::SGD sgd(net->parameters(), torch::optim::SGDOptions(0.1).momentum(0.9));
    const torch::Tensor x = torch::randn({4, net->space().input_channels(), 12, 12});
    net->train();
    net->forward(x).square().mean().backward();
    sgd.step();  // creates the momentum buffers
    for (auto& p : net->parameters()) {
      auto it = sgd.state().find(c10::guts::to_string(p.unsafeGetTensorImpl()));
      if (it != sgd.state().end())
        static_cast<torch::optim::SGDParamState&>(*it->second).momentum_buffer(p.detach().clone());
    }
    net->eval();
    torch::NoGradGuard no_grad;
    const torch::Tensor before = net->forward(x);
    std::map<std::string, torch::Tensor> weights;
    for (const auto& p : net->named_parameters()) weights[p.key()] = p.value().clone();

    const int blocks = train::sort_channels_by_importance(*net, &sgd);
    EXPECT_GT(blocks, 1) << config;
    const torch::Tensor after = net->forward(x);
    EXPECT_LE((after - before).abs().max().item<double>(), 1e-4 * (1 + before.abs().max().item<double>()))
        << config;
    int moved = 0;
    for (const auto& p : net->named_parameters()) {
      moved += !torch::equal(p.value(), weights[p.key()]);
      auto it = sgd.state().find(c10::guts::to_string(p.value().unsafeGetTensorImpl()));
      if (it == sgd.state().end()) continue;
      EXPECT_TRUE(
          torch::equal(static_cast<torch::optim::SGDParamState&>(*it->second).momentum_buffer(), p.value()))
          << config << " " << p.key() << ": the momentum buffer did not move with its channels";
    }
    EXPECT_GT(moved, 0) << config;
    // Importance (L1 of the weights reading each hidden channel) is now non-increasing.
    for (const auto& m : net->modules(false)) {
      auto b = std::dynamic_pointer_cast<nn::DynamicMBConvImpl>(m);
      if (!b || !b->expand) continue;
      const torch::Tensor imp = b->project->conv->weight.abs().sum({0, 2, 3});
      EXPECT_TRUE((imp.slice(0, 0, -1) >= imp.slice(0, 1)).all().item<bool>()) << config;
    }
  }
}
