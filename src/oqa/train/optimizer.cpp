// Optimizer construction with decay / no-decay parameter groups.
#include "oqa/train/optimizer.h"

#include <torch/optim/adam.h>
#include <torch/optim/sgd.h>

#include "oqa/util/error.h"

namespace oqa::train {

std::unique_ptr<torch::optim::Optimizer> make_optimizer(torch::nn::Module& model, const OptimizerOptions& o) {
  std::vector<torch::Tensor> decay, no_decay;
  for (auto& p : model.parameters()) {
    if (!p.requires_grad()) continue;
    (p.dim() <= 1 ? no_decay : decay).push_back(p);
  }
  if (o.kind == "sgd") {
    auto opts = torch::optim::SGDOptions(o.lr).momentum(o.momentum).nesterov(o.nesterov);
    std::vector<torch::optim::OptimizerParamGroup> groups;
    groups.emplace_back(decay, std::make_unique<torch::optim::SGDOptions>(
                                   torch::optim::SGDOptions(opts).weight_decay(o.weight_decay)));
    groups.emplace_back(no_decay,
                        std::make_unique<torch::optim::SGDOptions>(torch::optim::SGDOptions(opts).weight_decay(0)));
    return std::make_unique<torch::optim::SGD>(std::move(groups), opts);
  }
  if (o.kind == "adam") {
    auto opts = torch::optim::AdamOptions(o.lr);
    std::vector<torch::optim::OptimizerParamGroup> groups;
    groups.emplace_back(decay, std::make_unique<torch::optim::AdamOptions>(
                                   torch::optim::AdamOptions(opts).weight_decay(o.weight_decay)));
    groups.emplace_back(no_decay,
                        std::make_unique<torch::optim::AdamOptions>(torch::optim::AdamOptions(opts).weight_decay(0)));
    return std::make_unique<torch::optim::Adam>(std::move(groups), opts);
  }
  throw util::input_error("unknown optimizer (sgd | adam)").field("train.optimizer").value(o.kind);
}

void set_lr(torch::optim::Optimizer& opt, double lr) {
  for (auto& g : opt.param_groups()) g.options().set_lr(lr);
}

}  // namespace oqa::train
