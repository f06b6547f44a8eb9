// Architecture logits: masked softmax, Gumbel top-2 sampling, Adam update and channel expansion.
#include "oqa/nce/arch_params.h"

#include <algorithm>
#include <cmath>

#include "oqa/util/error.h"

namespace oqa::nce {

ArchParamsImpl::ArchParamsImpl(std::vector<int64_t> totals, std::vector<int64_t> initial)
    : totals_(std::move(totals)) {
  OQA_ASSERT(!totals_.empty() && initial.size() == totals_.size(), "one candidate count per group");
  const int64_t k = *std::max_element(totals_.begin(), totals_.end());
  alpha = register_parameter("alpha", torch::zeros({static_cast<int64_t>(totals_.size()), k}));
  for (size_t g = 0; g < totals_.size(); ++g)
    OQA_ASSERT(initial[g] >= 1 && initial[g] <= totals_[g], "active candidates outside 1..total");
  active_ = register_buffer("active", torch::tensor(initial, torch::kInt64));
  m_ = register_buffer("adam_m", torch::zeros_like(alpha));
  v_ = register_buffer("adam_v", torch::zeros_like(alpha));
  t_ = register_buffer("adam_t", torch::zeros({1}, torch::kInt64));
}

int64_t ArchParamsImpl::active(size_t g) const {
  return active_[static_cast<int64_t>(g)].item<int64_t>();
}

torch::Tensor ArchParamsImpl::probabilities() const {
  const torch::Tensor cols = torch::arange(alpha.size(1), torch::kInt64).to(alpha.device());
  const torch::Tensor mask = cols.unsqueeze(0) < active_.unsqueeze(1);
  return torch::softmax(alpha.masked_fill(~mask, -INFINITY), 1);
}

std::vector<GroupSample> ArchParamsImpl::sample(double tau, torch::Generator& gen) const {
  std::vector<GroupSample> out;
  for (size_t g = 0; g < groups(); ++g) {
    const int64_t n = active(g);
    const torch::Tensor logits = alpha[static_cast<int64_t>(g)].narrow(0, 0, n);
    const torch::Tensor u = torch::rand({n}, gen, torch::dtype(alpha.dtype())).clamp(1e-10, 1 - 1e-7);
    const torch::Tensor y = torch::softmax((logits - torch::log(-torch::log(u)).to(alpha.device())) / tau, 0);
    GroupSample s;
    if (n == 1) {
      s.index = {0};
      s.weights = torch::ones({1}, alpha.options());
    } else {
      const auto top = std::get<1>(y.detach().topk(2)).cpu();
      s.index = {top[0].item<int64_t>(), top[1].item<int64_t>()};
      const torch::Tensor pair = torch::stack({y[s.index[0]], y[s.index[1]]});
      s.weights = pair / pair.sum();
    }
    out.push_back(std::move(s));
  }
  return out;
}

std::vector<int64_t> ArchParamsImpl::argmax() const {
  const torch::Tensor idx = probabilities().detach().argmax(1).cpu();
  return std::vector<int64_t>(idx.data_ptr<int64_t>(), idx.data_ptr<int64_t>() + idx.numel());
}

void ArchParamsImpl::adam_step(const torch::Tensor& grad, double lr, double weight_decay) {
  torch::NoGradGuard no_grad;
  constexpr double b1 = 0.5, b2 = 0.999, eps = 1e-8;  // TAS's architecture optimizer betas
  const torch::Tensor cols = torch::arange(alpha.size(1), torch::kInt64).to(alpha.device());
  const torch::Tensor mask = (cols.unsqueeze(0) < active_.unsqueeze(1)).to(alpha.dtype());
  const torch::Tensor g = grad.nan_to_num(0, 0, 0) * mask;
  t_ += 1;
  const double t = static_cast<double>(t_.item<int64_t>());
  m_.mul_(b1).add_(g, 1 - b1);
  v_.mul_(b2).addcmul_(g, g, 1 - b2);
  const torch::Tensor update = (m_ / (1 - std::pow(b1, t))) / ((v_ / (1 - std::pow(b2, t))).sqrt() + eps);
  alpha.mul_(1 - lr * weight_decay * mask).sub_(lr * update * mask);
}

std::vector<Expansion> ArchParamsImpl::expand(double threshold, int64_t by) {
  std::vector<Expansion> out;
  const torch::Tensor p = probabilities().detach().cpu();
  torch::NoGradGuard no_grad;
  for (size_t g = 0; g < groups(); ++g) {
    const int64_t n = active(g);
    if (n >= totals_[g] || p[static_cast<int64_t>(g)][n - 1].item<double>() <= threshold) continue;
    const int64_t to = std::min(totals_[g], n + by);
    const torch::Tensor row = alpha[static_cast<int64_t>(g)];
    row.narrow(0, n, to - n).fill_(row[n - 1].item<double>());
    active_[static_cast<int64_t>(g)] = to;
    out.push_back({g, n, to});
  }
  return out;
}

}  // namespace oqa::nce
