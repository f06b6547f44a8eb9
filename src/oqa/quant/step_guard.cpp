// StepSizeGuard: snapshot of the step sizes before an update, relative and lower bounds after it.
#include "oqa/quant/step_guard.h"

#include <torch/torch.h>

#include "oqa/quant/quantizer.h"

namespace oqa::quant {

void StepSizeGuard::before_step(torch::nn::Module& model) {
  torch::NoGradGuard no_grad;
  entries_.clear();
  for_each_quantizer(model, [&](QuantizerImpl& q) {
    for (const QuantSpec& spec : q.specs()) {
      const torch::Tensor& step = q.entry(spec).step_size;
      if (!step.grad().defined()) continue;  // not used by this step: the optimizer leaves it as it is
      entries_.push_back(Entry{step, step.detach().clone(), q.options.min_step()});
    }
  });
}

StepSizeClamps StepSizeGuard::after_step() {
  torch::NoGradGuard no_grad;
  auto bounded = torch::zeros({}, torch::kLong), at_min = torch::zeros({}, torch::kLong);
  for (Entry& e : entries_) {
    torch::Tensor s = e.step;
    if (r_ > 0) {
      auto lo = e.before / (1.0 + r_), hi = e.before * (1.0 + r_);
      bounded += (s < lo).logical_or(s > hi).sum().to(bounded.device());
      s.copy_(torch::min(torch::max(s, lo), hi));
    }
    at_min += (s < e.min_step).sum().to(at_min.device());
    s.clamp_min_(e.min_step);
  }
  entries_.clear();
  return StepSizeClamps{bounded.item<int64_t>(), at_min.item<int64_t>()};
}

}  // namespace oqa::quant
