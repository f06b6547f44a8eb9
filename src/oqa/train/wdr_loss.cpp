// WDR loss: standardised third and fourth moments of the active quantized conv weights.
#include "oqa/train/wdr_loss.h"

#include <ATen/ATen.h>

#include "oqa/space/space.h"
#include "oqa/util/error.h"

namespace oqa::train {
namespace {

torch::Tensor standardized(const torch::Tensor& w) {
  const auto flat = w.reshape({-1});
  const auto centred = flat - flat.mean();
  const auto std = centred.pow(2).mean().clamp_min(1e-24).sqrt();
  return centred / std;
}

}  // namespace

torch::Tensor skewness(const torch::Tensor& w) { return standardized(w).pow(3).mean(); }
torch::Tensor kurtosis(const torch::Tensor& w) { return standardized(w).pow(4).mean(); }

torch::Tensor wdr_loss(const std::vector<torch::Tensor>& weights, const WdrOptions& o) {
  OQA_ASSERT(!weights.empty(), "WDR loss needs at least one weight tensor");
  torch::Tensor kurt_sum, skew_sum;
  for (const auto& w : weights) {
    const auto z = standardized(w);
    const auto k = (z.pow(4).mean() - o.kurtosis_target).pow(2);
    const auto s = z.pow(3).mean().pow(2);
    kurt_sum = kurt_sum.defined() ? kurt_sum + k : k;
    skew_sum = skew_sum.defined() ? skew_sum + s : s;
  }
  const double n = static_cast<double>(weights.size());
  return o.kurtosis_weight * kurt_sum / n + o.skewness_weight * skew_sum / n;
}

std::vector<torch::Tensor> wdr_weights(const space::Supernet& net) {
  std::vector<torch::Tensor> out;
  const auto& slots = net.space().layer_slots();
  const auto& quantizers = net.layer_quantizers();
  for (size_t i = 1; i < quantizers.size(); ++i) {  // from 1: never the stem
    if (slots[i].searched < 0) continue;
    const torch::Tensor& w = quantizers[i].second->last_quantized_weight();
    if (w.defined()) out.push_back(w);
  }
  return out;
}

}  // namespace oqa::train
