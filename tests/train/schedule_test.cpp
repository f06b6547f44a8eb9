// Schedule and optimizer tests: warm-up and cosine values computed by hand; no decay on 1-d parameters.
#include <gtest/gtest.h>

#include <cmath>

#include "oqa/train/optimizer.h"
#include "oqa/train/schedule.h"
#include "oqa/util/error.h"
#include "train/train_fixture.h"

namespace oqa::train {
namespace {

TEST(CosineSchedule, WarmupThenCosineToTheFloor) {
  ScheduleOptions o;
  o.base_lr = 0.4;
  o.min_lr = 0.1;
  o.warmup_steps = 4;
  o.total_steps = 14;
  CosineSchedule s(o);
  EXPECT_DOUBLE_EQ(s.lr_at(0), 0.1);  // 0.4 * 1/4
  EXPECT_DOUBLE_EQ(s.lr_at(3), 0.4);
  EXPECT_DOUBLE_EQ(s.lr_at(4), 0.4);  // cosine starts at the base
  EXPECT_NEAR(s.lr_at(9), 0.25, 1e-12);  // half way: (0.4 + 0.1) / 2
  EXPECT_NEAR(s.lr_at(6), 0.1 + 0.15 * (1 + std::cos(M_PI * 0.2)), 1e-12);
  EXPECT_DOUBLE_EQ(s.lr_at(14), 0.1);
  EXPECT_DOUBLE_EQ(s.lr_at(100), 0.1);  // clamped past the end
}

TEST(Optimizer, NoWeightDecayOnBatchNormAndBias) {
  testing::TinyNet net;
  OptimizerOptions o;
  o.weight_decay = 0.5;
  for (const char* kind : {"sgd", "adam"}) {
    o.kind = kind;
    auto opt = make_optimizer(*net, o);
    ASSERT_EQ(opt->param_groups().size(), 2u) << kind;
    for (const auto& g : opt->param_groups()) {
      const double wd = o.kind == "sgd"
                            ? static_cast<const torch::optim::SGDOptions&>(g.options()).weight_decay()
                            : static_cast<const torch::optim::AdamOptions&>(g.options()).weight_decay();
      for (const auto& p : g.params()) EXPECT_EQ(wd, p.dim() <= 1 ? 0.0 : 0.5) << kind << " dim " << p.dim();
    }
    set_lr(*opt, 0.123);
    for (const auto& g : opt->param_groups()) EXPECT_DOUBLE_EQ(g.options().get_lr(), 0.123);
  }
  o.kind = "lamb";
  try {
    make_optimizer(*net, o);
    FAIL() << "no error";
  } catch (const util::Error& e) {
    EXPECT_EQ(e.field_name(), "train.optimizer");
  }
}

}  // namespace
}  // namespace oqa::train
