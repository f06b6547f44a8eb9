// Optimizer construction with decay / no-decay parameter groups.
#include "oqa/train/optimizer.h"

#include <torch/optim/adam.h>
#include <torch/optim/sgd.h>

#include "oqa/util/error.h"

namespace oqa::train {

namespace {

// Two parameter groups of one optimizer type: weights with decay, 1-d parameters without.
template <typename Opt, typename Options>
std::unique_ptr<torch::optim::Optimizer> grouped(std::vector<torch::Tensor> decay, std::vector<torch::Tensor> no_decay,
                                                 const Options& opts, double weight_decay) {
  std::vector<torch::optim::OptimizerParamGroup> groups;
  groups.emplace_back(std::move(decay), std::make_unique<Options>(Options(opts).weight_decay(weight_decay)));
  groups.emplace_back(std::move(no_decay), std::make_unique<Options>(Options(opts).weight_decay(0)));
  return std::make_unique<Opt>(std::move(groups), opts);
}

}  // namespace

std::unique_ptr<torch::optim::Optimizer> make_optimizer(torch::nn::Module& model, const OptimizerOptions& o) {
  std::vector<torch::Tensor> decay, no_decay;
  for (auto& p : model.parameters()) {
    if (!p.requires_grad()) continue;
    (p.dim() <= 1 ? no_decay : decay).push_back(p);
  }
  if (o.kind == "sgd")
    return grouped<torch::optim::SGD>(std::move(decay), std::move(no_decay),
                                      torch::optim::SGDOptions(o.lr).momentum(o.momentum).nesterov(o.nesterov),
                                      o.weight_decay);
  if (o.kind == "adam")
    return grouped<torch::optim::Adam>(std::move(decay), std::move(no_decay), torch::optim::AdamOptions(o.lr),
                                       o.weight_decay);
  throw util::input_error("unknown optimizer (sgd | adam)").field("train.optimizer").value(o.kind);
}

void set_lr(torch::optim::Optimizer& opt, double lr) {
  for (auto& g : opt.param_groups()) g.options().set_lr(lr);
}

}  // namespace oqa::train
