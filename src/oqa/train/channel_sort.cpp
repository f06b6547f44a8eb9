// Importance sort of elastic hidden channels: MBConv expand / squeeze-excite, basic-block conv1.
#include "oqa/train/channel_sort.h"

#include <algorithm>
#include <memory>

#include <torch/optim/adam.h>
#include <torch/optim/sgd.h>
#include <torch/torch.h>

#include "oqa/nn/dynamic_basic_block.h"
#include "oqa/nn/dynamic_mbconv.h"

namespace oqa::train {
namespace {

class Permuter {
 public:
  explicit Permuter(torch::optim::Optimizer* optimizer) : optimizer_(optimizer) {}

  // t and its optimizer state, reordered along dim by perm.
  void apply(torch::Tensor t, int64_t dim, const torch::Tensor& perm) const {
    if (!t.defined()) return;
    torch::NoGradGuard no_grad;
    reorder(t, dim, perm);
    if (!optimizer_) return;
    auto it = optimizer_->state().find(c10::guts::to_string(t.unsafeGetTensorImpl()));
    if (it == optimizer_->state().end()) return;
    if (auto* sgd = dynamic_cast<torch::optim::SGDParamState*>(it->second.get())) {
      reorder(sgd->momentum_buffer(), dim, perm);
    } else if (auto* adam = dynamic_cast<torch::optim::AdamParamState*>(it->second.get())) {
      reorder(adam->exp_avg(), dim, perm);
      reorder(adam->exp_avg_sq(), dim, perm);
      reorder(adam->max_exp_avg_sq(), dim, perm);
    }
  }

  // The output channels of a conv (+ batch norm) unit: weight rows, bias, per-channel weight step sizes,
  // batch norm parameters and statistics.
  void outputs(const nn::DynamicConvBnAct& unit, const torch::Tensor& perm) const {
    auto& conv = *unit->conv;
    apply(conv.weight, 0, perm);
    apply(conv.bias, 0, perm);
    const int64_t n = perm.size(0);
    for (auto& p : conv.quantizer->weight->parameters())
      if (p.dim() >= 1 && p.size(0) == n) apply(p, 0, perm);
    for (auto& b : conv.quantizer->weight->buffers())
      if (b.dim() >= 1 && b.size(0) == n) apply(b, 0, perm);
    if (unit->bn) {
      const auto& bn = *unit->bn;
      for (const torch::Tensor& t : {bn.weight, bn.bias, bn.running_mean, bn.running_var}) apply(t, 0, perm);
    }
  }

  // The input channels of a (non-depthwise) conv: weight columns.
  void inputs(const nn::DynamicConvBnAct& unit, const torch::Tensor& perm) const {
    apply(unit->conv->weight, 1, perm);
  }

 private:
  static void reorder(torch::Tensor t, int64_t dim, const torch::Tensor& perm) {
    if (t.defined() && t.dim() > dim) t.copy_(t.index_select(dim, perm));
  }
  torch::optim::Optimizer* optimizer_;
};

// Channels by decreasing L1 norm of the weights that read them (dim 1 of the consumer's weight); stable.
torch::Tensor importance_order(const nn::DynamicConvBnAct& consumer) {
  torch::NoGradGuard no_grad;
  const torch::Tensor importance = consumer->conv->weight.abs().sum({0, 2, 3});
  return std::get<1>(importance.sort(/*stable=*/true, /*dim=*/0, /*descending=*/true));
}

void sort_mbconv(nn::DynamicMBConvImpl& b, const Permuter& p) {
  if (b.se) {  // the reduced channels first: they are read by se.expand
    const torch::Tensor order = importance_order(b.se->expand);
    p.outputs(b.se->reduce, order);
    p.inputs(b.se->expand, order);
  }
  const torch::Tensor order = importance_order(b.project);
  p.outputs(b.expand, order);
  p.outputs(b.dw, order);  // depthwise: one filter per channel
  if (b.se) {
    p.inputs(b.se->reduce, order);
    p.outputs(b.se->expand, order);
  }
  p.inputs(b.project, order);
}

}  // namespace

int sort_channels_by_importance(torch::nn::Module& net, torch::optim::Optimizer* optimizer) {
  const Permuter p(optimizer);
  int sorted = 0;
  for (const auto& m : net.modules(/*include_self=*/false)) {
    if (auto b = std::dynamic_pointer_cast<nn::DynamicMBConvImpl>(m)) {
      const auto& e = b->options.expand_choices();
      // Without an expand conv (or with expand ratio 1 among the choices) hidden channels are input channels.
      if (!b->expand || std::find(e.begin(), e.end(), 1) != e.end()) continue;
      sort_mbconv(*b, p);
      ++sorted;
    } else if (auto r = std::dynamic_pointer_cast<nn::DynamicBasicBlockImpl>(m)) {
      const torch::Tensor order = importance_order(r->conv2);
      p.outputs(r->conv1, order);
      p.inputs(r->conv2, order);
      ++sorted;
    }
  }
  return sorted;
}

}  // namespace oqa::train
