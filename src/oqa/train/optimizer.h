// Optimizer construction from options: SGD (Nesterov) or Adam; no weight decay on BN, biases and step sizes.
#pragma once

#include <memory>
#include <string>

#include <torch/nn/module.h>
#include <torch/optim/optimizer.h>

namespace oqa::train {

struct OptimizerOptions {
  std::string kind = "sgd";  // sgd | adam
  double lr = 0.05;
  double momentum = 0.9;
  bool nesterov = true;
  double weight_decay = 3e-5;
};

// Parameters with one dimension or fewer (BN affine, biases, step sizes, offsets) get no weight decay.
std::unique_ptr<torch::optim::Optimizer> make_optimizer(torch::nn::Module& model, const OptimizerOptions& o);

// Sets the learning rate of every parameter group.
void set_lr(torch::optim::Optimizer& opt, double lr);

}  // namespace oqa::train
