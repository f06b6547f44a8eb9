// Loss tests: KD and CE against torch::nn::functional compositions, WDR moments against composed formulas.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "oqa/train/distill_loss.h"
#include "oqa/train/wdr_loss.h"

namespace F = torch::nn::functional;
using namespace oqa::train;

namespace {

void expect_close(const torch::Tensor& a, const torch::Tensor& b, double tol = 1e-6) {
  ASSERT_EQ(a.sizes(), b.sizes());
  EXPECT_LE((a - b).abs().max().item<double>(), tol) << a << "\nvs\n" << b;
}

}  // namespace

TEST(DistillLoss, KdMatchesKlDivBatchmeanValueAndGradient) {
  torch::manual_seed(1);
  auto student = torch::randn({6, 10}, torch::requires_grad());
  auto teacher = torch::softmax(torch::randn({6, 10}) * 3, 1);
  teacher[0].zero_();
  teacher[0][2] = 1.0;  // a one-hot row: 0 log 0 terms must count as 0
  auto ours = kd_loss(student, teacher);
  auto g_ours = torch::autograd::grad({ours}, {student})[0];
  auto ref = F::kl_div(F::log_softmax(student, 1), teacher, F::KLDivFuncOptions().reduction(torch::kBatchMean));
  auto g_ref = torch::autograd::grad({ref}, {student})[0];
  expect_close(ours, ref, 1e-6);
  expect_close(g_ours, g_ref, 1e-7);
  // Identical distributions have zero divergence.
  auto same = kd_loss(torch::log(teacher.clamp_min(1e-30)), teacher);
  EXPECT_NEAR(same.item<double>(), 0.0, 1e-5);
}

TEST(DistillLoss, CrossEntropyWithSmoothingMatchesHandFormula) {
  torch::manual_seed(2);
  auto logits = torch::randn({5, 7});
  auto labels = torch::tensor({0, 3, 6, 2, 2}, torch::kLong);
  const double eps = 0.1;
  auto logp = torch::log_softmax(logits, 1);
  auto nll = -logp.gather(1, labels.unsqueeze(1)).squeeze(1);
  auto uniform = -logp.mean(1);
  auto hand = ((1 - eps) * nll + eps * uniform).mean();
  expect_close(label_smoothed_ce(logits, labels, eps), hand, 1e-6);
  expect_close(label_smoothed_ce(logits, labels, 0.0), F::cross_entropy(logits, labels), 1e-6);
}

TEST(DistillLoss, SoftLabelsAreDetachedSoftmax) {
  auto logits = torch::randn({3, 4}, torch::requires_grad());
  auto t = soft_labels(logits);
  EXPECT_FALSE(t.requires_grad());
  expect_close(t, torch::softmax(logits.detach(), 1));
}

TEST(WdrLoss, MomentsMatchComposedFormula) {
  torch::manual_seed(3);
  auto w = torch::randn({8, 4, 3, 3}).pow(3);  // skewed to the right, heavy tails
  auto x = w.to(torch::kDouble).flatten();
  auto c = x - x.mean();
  auto var = c.pow(2).mean();  // population variance
  auto ref_skew = c.pow(3).mean() / var.pow(1.5);
  auto ref_kurt = c.pow(4).mean() / var.pow(2);
  EXPECT_NEAR(skewness(w).item<double>(), ref_skew.item<double>(), 1e-4 * std::abs(ref_skew.item<double>()));
  EXPECT_NEAR(kurtosis(w).item<double>(), ref_kurt.item<double>(), 1e-4 * ref_kurt.item<double>());
  EXPECT_GT(ref_kurt.item<double>(), 3.0);
}

TEST(WdrLoss, UniformWeightsHaveKurtosisNearTheTarget) {
  torch::manual_seed(4);
  auto u = torch::rand({200000}) * 2 - 1;
  EXPECT_NEAR(kurtosis(u).item<double>(), 1.8, 0.02);
  EXPECT_NEAR(skewness(u).item<double>(), 0.0, 0.02);
  EXPECT_LT(wdr_loss({u}).item<double>(), 1e-4);
}

TEST(WdrLoss, LossIsTheWeightedMeanOverLayersWithMatchingGradient) {
  torch::manual_seed(5);
  std::vector<torch::Tensor> ws = {torch::randn({4, 2, 3, 3}, torch::requires_grad()),
                                   torch::rand({6, 1, 5, 5}, torch::requires_grad()),
                                   torch::randn({3, 3, 1, 1}, torch::requires_grad())};
  WdrOptions o;
  auto ours = wdr_loss(ws, o);
  torch::Tensor k_sum = torch::zeros({}), s_sum = torch::zeros({});
  for (const auto& w : ws) {
    auto c = w.flatten() - w.flatten().mean();
    auto var = c.pow(2).mean();
    k_sum = k_sum + (c.pow(4).mean() / var.pow(2) - o.kurtosis_target).pow(2);
    s_sum = s_sum + (c.pow(3).mean() / var.pow(1.5)).pow(2);
  }
  auto ref = o.kurtosis_weight * k_sum / 3.0 + o.skewness_weight * s_sum / 3.0;
  expect_close(ours, ref, 1e-5);
  auto g_ours = torch::autograd::grad({ours}, ws);
  auto g_ref = torch::autograd::grad({ref}, ws);
  for (size_t i = 0; i < ws.size(); ++i) expect_close(g_ours[i], g_ref[i], 1e-5);
}
