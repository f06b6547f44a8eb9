// One subnet's forward/backward and the common end of a distillation step.
#include "oqa/train/subnet_pass.h"

#include <cmath>

#include "oqa/train/wdr_loss.h"
#include "oqa/util/error.h"

namespace oqa::train {

SubnetPass run_subnet(space::Supernet& net, const space::Subnet& subnet, const torch::Tensor& images,
                      const torch::Tensor& labels, const SubnetLossFn& loss_fn, double wdr_weight) {
  net.set_active(subnet);
  torch::Tensor logits = net.forward(images);
  const torch::Tensor loss = loss_fn(logits);
  SubnetPass p;
  p.loss = loss.item<double>();
  torch::Tensor total = loss;
  const std::vector<torch::Tensor> weights = wdr_weights(net);
  if (!weights.empty()) {
    {
      torch::NoGradGuard no_grad;
      double k = 0, s = 0;
      for (const auto& w : weights) {
        k += kurtosis(w).item<double>();
        s += std::abs(skewness(w).item<double>());
      }
      p.weight_kurtosis = k / static_cast<double>(weights.size());
      p.weight_abs_skewness = s / static_cast<double>(weights.size());
    }
    if (wdr_weight > 0) {
      const torch::Tensor wdr = wdr_weight * wdr_loss(weights);
      p.wdr = wdr.item<double>();
      total = total + wdr;
    }
  }
  total.backward();
  p.logits = logits.detach();
  p.top1 = 100.0 * p.logits.argmax(1).eq(labels).sum().item<double>() / static_cast<double>(labels.size(0));
  return p;
}

StepResult finish_step(const std::vector<SubnetPass>& passes, const DistillOptions& o) {
  OQA_ASSERT(!passes.empty(), "a distillation step runs at least one subnet");
  StepResult r;
  double wdr = 0;
  for (const SubnetPass& p : passes) {
    r.loss += p.loss + p.wdr;
    wdr += p.wdr;
  }
  if (o.wdr_weight > 0) r.metrics["wdr"] = wdr;
  r.metrics["loss_largest"] = passes.front().loss;
  r.metrics["loss_smallest"] = passes.back().loss;
  r.metrics["train_top1_largest"] = passes.front().top1;
  r.metrics["train_top1_smallest"] = passes.back().top1;
  if (!std::isnan(passes.front().weight_kurtosis)) {
    r.metrics["weight_kurtosis"] = passes.front().weight_kurtosis;
    r.metrics["weight_abs_skewness"] = passes.front().weight_abs_skewness;
  }
  return r;
}

}  // namespace oqa::train
