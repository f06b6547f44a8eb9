// Quantizer module: entries per spec, lazy init from data, sliced per-channel tables, save/load, clone.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "oqa/quant/lsq.h"
#include "oqa/quant/quantizer.h"
#include "oqa/quant/step_guard.h"
#include "oqa/util/error.h"
#include "util/test_dir.h"

namespace oqa::quant {
namespace {

const QuantSpec kW4{4, true, Granularity::kPerChannel, 0, true};
const QuantSpec kW3{3, true, Granularity::kPerChannel, 0, true};
const QuantSpec kA4{4, false, Granularity::kPerTensor, 0, false};

TEST(Quantizer, TwoSpecsTwoEntriesRegisteredAsParameters) {
  Quantizer q(QuantizerOptions(8));
  auto w = torch::randn({8, 3});
  q(w, kW4);
  q(w, kW3);
  EXPECT_EQ(q->specs().size(), 2u);
  auto params = q->named_parameters();
  EXPECT_EQ(params.size(), 2u);
  EXPECT_TRUE(params.contains("step_b4_s_pc_sym"));
  EXPECT_TRUE(params.contains("step_b3_s_pc_sym"));
  EXPECT_TRUE(q->named_buffers().contains("initialized_b4_s_pc_sym"));
  EXPECT_EQ(q->entry(kW4).step_size.numel(), 8);
  EXPECT_TRUE(torch::allclose(q->entry(kW4).step_size, init_step_size(w, kW4)));
  EXPECT_TRUE(torch::allclose(q->entry(kW3).step_size, init_step_size(w, kW3)));
  // Asymmetric entries add an offset parameter; the same spec again reuses its entry.
  auto a = torch::randn({2, 5}).relu() - 0.2;
  q(a, kA4);
  q(a * 3, kA4);
  EXPECT_EQ(q->named_parameters().size(), 4u);
  EXPECT_TRUE(torch::allclose(q->entry(kA4).step_size, init_step_size(a, kA4)));  // first batch only
  EXPECT_NEAR(q->entry(kA4).offset.item<double>(), a.min().item<double>(), 1e-6);
}

TEST(Quantizer, FloatModeReturnsInput) {
  Quantizer q;
  auto x = torch::randn({4});
  EXPECT_TRUE(q(x, std::nullopt).is_same(x));
  EXPECT_TRUE(q(x, QuantSpec::float_spec()).is_same(x));
  EXPECT_TRUE(q->specs().empty());
}

TEST(Quantizer, SlicedWeightUsesFirstChannels) {
  Quantizer q(QuantizerOptions(8));
  auto w = torch::randn({8, 3, 3, 3});
  q->ensure(kW4, w);
  auto full_step = q->entry(kW4).step_size.detach().clone();
  auto slice = w.narrow(0, 0, 5).clone().requires_grad_(true);
  auto y = q(slice, kW4);
  auto want = lsq_quantize(slice.detach(), full_step.narrow(0, 0, 5), {}, kW4, grad_scale_for(slice, kW4));
  EXPECT_TRUE(torch::equal(y.detach(), want));
  y.backward(torch::randn_like(y));
  auto g = q->entry(kW4).step_size.grad();
  ASSERT_TRUE(g.defined());
  EXPECT_GT(g.narrow(0, 0, 5).abs().sum().item<double>(), 0.0);
  EXPECT_EQ(g.narrow(0, 5, 3).abs().sum().item<double>(), 0.0);  // inactive channels get no gradient
}

TEST(Quantizer, NarrowFirstUseInitialisesOnlyActiveChannels) {
  Quantizer q(QuantizerOptions(6));
  auto w = torch::randn({6, 4});
  q(w.narrow(0, 0, 4), kW4);
  EXPECT_FALSE(q->is_initialized(kW4));
  auto flags = q->entry(kW4).initialized;
  EXPECT_TRUE(flags.narrow(0, 0, 4).all().item<bool>());
  EXPECT_FALSE(flags.narrow(0, 4, 2).any().item<bool>());
  auto first = q->entry(kW4).step_size.detach().narrow(0, 0, 4).clone();
  q(w, kW4);  // the wider use initialises channels 4, 5 and keeps 0..3
  EXPECT_TRUE(q->is_initialized(kW4));
  EXPECT_TRUE(torch::equal(q->entry(kW4).step_size.detach().narrow(0, 0, 4), first));
  EXPECT_TRUE(torch::allclose(q->entry(kW4).step_size.detach().narrow(0, 4, 2),
                              init_step_size(w, kW4).narrow(0, 4, 2)));
  EXPECT_THROW(q(torch::randn({7, 4}), kW4), util::Error);  // more channels than the table
}

TEST(Quantizer, CreateEntriesBeforeTheOptimizer) {
  Quantizer q(QuantizerOptions(4));
  q->create_entries({kW4, kW3, kA4, QuantSpec::float_spec()});
  EXPECT_EQ(q->specs().size(), 3u);
  EXPECT_FALSE(q->is_initialized(kW4));
  torch::optim::SGD opt(q->parameters(), torch::optim::SGDOptions(0.1));
  auto w = torch::randn({4, 9});
  auto loss = q(w, kW4).pow(2).sum();
  EXPECT_TRUE(q->is_initialized(kW4));
  auto before = q->entry(kW4).step_size.detach().clone();
  opt.zero_grad();
  loss.backward();
  opt.step();
  EXPECT_FALSE(torch::equal(before, q->entry(kW4).step_size.detach()));
}

// A model with two quantizers, as a layer would hold them.
struct TwoQuantizers : torch::nn::Module {
  TwoQuantizers() {
    weight = register_module("weight_quant", Quantizer(QuantizerOptions(6)));
    act = register_module("act_quant", Quantizer());
  }
  Quantizer weight{nullptr}, act{nullptr};
};

// A large learning rate drives the step size of 1 below zero; clamp_step_sizes restores the lower bound so
// the next forward works, and leaves valid step sizes alone.
TEST(Quantizer, ClampStepSizesKeepsTheLowerBound) {
  TwoQuantizers m;
  m.weight->options.min_step(1e-3);
  auto w = torch::randn({6, 5});
  auto a = torch::rand({2, 3});
  m.weight(w, kW4);
  m.act(a, kA4);
  {
    torch::NoGradGuard g;
    m.weight->entry(kW4).step_size.narrow(0, 0, 2).fill_(-0.5);
  }
  const auto act_before = m.act->entry(kA4).step_size.detach().clone();
  const auto rest_before = m.weight->entry(kW4).step_size.detach().narrow(0, 2, 4).clone();
  EXPECT_THROW(m.weight(w, kW4), util::Error);
  EXPECT_EQ(clamp_step_sizes(m), 2);
  const auto s = m.weight->entry(kW4).step_size.detach();
  EXPECT_TRUE(torch::equal(s.narrow(0, 0, 2), torch::full({2}, 1e-3)));
  EXPECT_TRUE(torch::equal(s.narrow(0, 2, 4), rest_before));
  EXPECT_TRUE(torch::equal(m.act->entry(kA4).step_size.detach(), act_before));
  EXPECT_NO_THROW(m.weight(w, kW4));
  EXPECT_EQ(clamp_step_sizes(m), 0);
}

TEST(Quantizer, SaveLoadIntoFreshModule) {
  TestDir dir;
  auto path = (dir.path / "q.pt").string();
  auto m = std::make_shared<TwoQuantizers>();
  m->weight(torch::randn({6, 3}), kW4);
  m->weight(torch::randn({4, 3}), kW3);  // partially initialised table
  m->act(torch::randn({10}), kA4);
  {
    torch::NoGradGuard ng;
    m->act->entry(kA4).offset.fill_(-0.125);
  }
  torch::save(m, path);

  auto fresh = std::make_shared<TwoQuantizers>();
  EXPECT_TRUE(fresh->weight->specs().empty());
  torch::load(fresh, path);
  ASSERT_EQ(fresh->weight->specs().size(), 2u);
  ASSERT_EQ(fresh->act->specs().size(), 1u);
  for (auto spec : {kW4, kW3}) {
    EXPECT_TRUE(torch::equal(fresh->weight->entry(spec).step_size, m->weight->entry(spec).step_size));
    EXPECT_TRUE(torch::equal(fresh->weight->entry(spec).initialized, m->weight->entry(spec).initialized));
  }
  EXPECT_TRUE(fresh->weight->is_initialized(kW4));
  EXPECT_FALSE(fresh->weight->is_initialized(kW3));
  EXPECT_TRUE(torch::equal(fresh->act->entry(kA4).offset, m->act->entry(kA4).offset));
  EXPECT_TRUE(fresh->act->is_initialized(kA4));
  // Loaded entries are the module's parameters, not stale copies.
  EXPECT_EQ(fresh->parameters().size(), 4u);

  // A module that already has the entries loads in place.
  auto prepared = std::make_shared<TwoQuantizers>();
  prepared->weight->create_entries({kW4, kW3});
  prepared->act->create_entries({kA4});
  auto before = prepared->weight->entry(kW4).step_size;
  torch::load(prepared, path);
  EXPECT_TRUE(before.is_same(prepared->weight->entry(kW4).step_size));
  EXPECT_TRUE(torch::equal(before, m->weight->entry(kW4).step_size));
}

TEST(Quantizer, CloneCopiesEntries) {
  Quantizer q(QuantizerOptions(3));
  q(torch::randn({3, 4}), kW4);
  auto copy = std::dynamic_pointer_cast<QuantizerImpl>(q->clone());
  ASSERT_TRUE(copy);
  ASSERT_TRUE(copy->has_entry(kW4));
  EXPECT_TRUE(torch::equal(copy->entry(kW4).step_size, q->entry(kW4).step_size));
  EXPECT_TRUE(copy->is_initialized(kW4));
  EXPECT_FALSE(copy->entry(kW4).step_size.is_same(q->entry(kW4).step_size));
}

}  // namespace
}  // namespace oqa::quant

namespace oqa::quant {
namespace {

// An SGD step with a huge learning rate would move the step sizes far; the guard holds every element within
// [s0 / 1.1, s0 * 1.1] of its value before the step and counts them; a small step passes untouched.
TEST(StepSizeGuard, BoundsTheRelativeChangeOfOneUpdate) {
  const QuantSpec w4{4, true, Granularity::kPerChannel, 0, true};
  Quantizer q(QuantizerOptions(4));
  auto w = torch::randn({4, 8});
  q(w, w4);
  auto step = q->entry(w4).step_size;
  const auto before = step.detach().clone();
  torch::optim::SGD opt({step}, torch::optim::SGDOptions(1.0));
  step.mutable_grad() = torch::tensor({-10.0f, 10.0f, 0.0f, 1e-4f}) * before;  // x11, x(-9), none, tiny
  StepSizeGuard guard(0.1);
  guard.before_step(*q);
  opt.step();
  const StepSizeClamps c = guard.after_step();
  EXPECT_EQ(c.bounded, 2);
  EXPECT_EQ(c.at_min, 0);
  const auto s = step.detach();
  EXPECT_FLOAT_EQ(s[0].item<float>(), before[0].item<float>() * 1.1f);
  EXPECT_FLOAT_EQ(s[1].item<float>(), before[1].item<float>() / 1.1f);
  EXPECT_FLOAT_EQ(s[2].item<float>(), before[2].item<float>());
  EXPECT_FLOAT_EQ(s[3].item<float>(), before[3].item<float>() * (1 - 1e-4f));
}

// Without the relative bound (r = 0) only min_step holds: a step size pushed below zero is raised to it.
TEST(StepSizeGuard, ZeroBoundKeepsOnlyTheMinimum) {
  const QuantSpec a4{4, false, Granularity::kPerTensor, 0, true};
  Quantizer q;
  q->options.min_step(1e-3);
  q(torch::rand({3, 5}), a4);
  auto step = q->entry(a4).step_size;
  torch::optim::SGD opt({step}, torch::optim::SGDOptions(1.0));
  step.mutable_grad() = step.detach() * 5;
  StepSizeGuard guard(0);
  guard.before_step(*q);
  opt.step();
  const StepSizeClamps c = guard.after_step();
  EXPECT_EQ(c.bounded, 0);
  EXPECT_EQ(c.at_min, 1);
  EXPECT_FLOAT_EQ(step.detach().item<float>(), 1e-3f);
}

}  // namespace
}  // namespace oqa::quant
