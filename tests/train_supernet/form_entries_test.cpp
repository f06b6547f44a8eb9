// A training step leaves the step sizes and offsets of the forms its subnets did not use unchanged.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <string>
#include <vector>

#include "oqa/data/loader.h"
#include "oqa/data/synthetic.h"
#include "oqa/nn/layer_quantizer.h"
#include "oqa/train/loop.h"
#include "oqa/train/metrics.h"
#include "oqa/train/optimizer.h"
#include "oqa/train/sandwich.h"
#include "supernet_test_support.h"

using namespace oqa;

namespace {

// One step-size table entry of a layer quantizer: its values (step sizes, then offsets) and whether the
// subnet given to entry_states uses it.
struct EntryState {
  std::string name;
  bool used = false;
  torch::Tensor values;
};

std::vector<EntryState> entry_states(space::Supernet& net, const space::Subnet& active) {
  net.set_active(active);
  std::vector<EntryState> out;
  for (const auto& m : net.named_modules()) {
    const auto* lq = m.value()->as<nn::LayerQuantizerImpl>();
    if (!lq) continue;
    const std::pair<const quant::QuantizerImpl*, quant::QuantSpec> tables[] = {
        {lq->weight.get(), lq->specs().weight}, {lq->input.get(), lq->specs().input}};
    for (const auto& [q, in_use] : tables)
      for (const quant::QuantSpec& spec : q->specs()) {
        const quant::QuantizerEntry& e = q->entry(spec);
        const torch::Tensor v = e.offset.defined() ? torch::cat({e.step_size, e.offset}) : e.step_size;
        out.push_back({m.key() + "/" + spec.key(), spec == in_use, v.detach().clone()});
      }
  }
  return out;
}

// Every searched layer of the largest architecture at one quantization.
space::Subnet largest_at(const space::Space& space, const space::LayerQuant& q) {
  space::Subnet s = space.largest();
  for (auto& l : s.quant) l = q;
  return s;
}

// Step 0 trains subnet A (2-bit, per-channel, asymmetric weights and inputs), step 1 subnet B (4-bit,
// per-tensor, symmetric) with SGD, momentum 0.9 and weight decay: step 1 must move B's entries and no other,
// A's included, whose momentum is not zero after step 0; step 0 must have moved A's.
TEST(FormEntries, AStepLeavesTheEntriesOfFormsItDidNotUseUnchanged) {
  torch::manual_seed(3);
  train::Experiment e = test::experiment_of(test::tiny_forms_config());
  auto net = space::make_supernet(e.space);
  net->train();
  const space::Subnet a = largest_at(*e.space, {2, 2, quant::Granularity::kPerChannel, false, false});
  const space::Subnet b = largest_at(*e.space, {4, 4, quant::Granularity::kPerTensor, true, true});
  {
    torch::NoGradGuard no_grad;  // first use initialises both subnets' entries from data
    for (const auto& s : {a, b}) {
      net->set_active(s);
      net->forward(torch::randn({16, 1, 16, 16}));
    }
  }
  train::OptimizerOptions oo;
  oo.lr = 0.05;
  oo.weight_decay = 1e-3;
  auto opt = train::make_optimizer(*net, oo);
  data::LoaderOptions lo;
  lo.batch_size = 32;
  lo.workers = 0;
  lo.transform.mean = {0.5f};
  lo.transform.std = {0.25f};
  data::Loader loader(data::make_synthetic(64, {1, 16, 16}, 10, 5), lo);
  TestDir dir;
  train::StageOptions st;
  st.stage = "mixed";
  st.dir = dir.path.string() + "/mixed";
  st.config_hash = "h";
  st.checkpoint_every = 0;
  st.log_every = 0;
  st.step_size_max_change = 0.1;
  train::ScheduleOptions so;
  so.base_lr = oo.lr;
  so.total_steps = 2;
  train::MetricsLog metrics(dir.path.string() + "/metrics.jsonl");
  train::TrainLoop loop(st, *net, *opt, train::CosineSchedule(so), loader, metrics);
  const std::vector<EntryState> before = entry_states(*net, a);
  std::vector<EntryState> after_step0;
  loop.run(
      [&](const data::Batch& batch, int64_t step) {
        if (step == 1) after_step0 = entry_states(*net, b);
        return train::sandwich_step(*net, batch, {step == 0 ? a : b}, train::DistillOptions{});
      },
      nullptr);
  ASSERT_EQ(loop.step(), 2);
  const std::vector<EntryState> after_step1 = entry_states(*net, b);
  ASSERT_EQ(before.size(), after_step1.size());
  ASSERT_EQ(after_step0.size(), after_step1.size());
  int a_used = 0, a_moved = 0, b_used = 0, b_moved = 0;
  for (size_t i = 0; i < before.size(); ++i) {
    const bool moved0 = !torch::equal(before[i].values, after_step0[i].values);
    const bool moved1 = !torch::equal(after_step0[i].values, after_step1[i].values);
    if (before[i].used) {
      ++a_used;
      a_moved += moved0;
    } else {
      EXPECT_FALSE(moved0) << before[i].name << " moved in step 0, which did not use it";
    }
    if (after_step1[i].used) {
      ++b_used;
      b_moved += moved1;
    } else {
      EXPECT_FALSE(moved1) << after_step1[i].name << " moved in step 1, which did not use it";
    }
  }
  EXPECT_GT(a_used, 10);
  EXPECT_GT(b_used, 10);
  EXPECT_GE(a_moved, a_used * 9 / 10);
  EXPECT_GE(b_moved, b_used * 9 / 10);
}

}  // namespace
