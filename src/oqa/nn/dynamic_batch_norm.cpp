// DynamicBatchNorm2d: sliced batch norm; running statistics are updated in place through the slice.
#include "oqa/nn/dynamic_batch_norm.h"

#include <ATen/ATen.h>

#include "oqa/util/error.h"

namespace oqa::nn {

DynamicBatchNorm2dImpl::DynamicBatchNorm2dImpl(DynamicBatchNorm2dOptions o) : options(o) {
  if (o.num_features() < 1)
    throw util::input_error("DynamicBatchNorm2d needs num_features >= 1")
        .field("num_features")
        .value(std::to_string(o.num_features()));
  const int64_t c = o.num_features();
  weight = register_parameter("weight", torch::ones({c}));
  bias = register_parameter("bias", torch::zeros({c}));
  running_mean = register_buffer("running_mean", torch::zeros({c}));
  running_var = register_buffer("running_var", torch::ones({c}));
  num_batches_tracked = register_buffer("num_batches_tracked", torch::zeros({}, torch::kLong));
}

void DynamicBatchNorm2dImpl::reset_running_stats() {
  torch::NoGradGuard no_grad;
  running_mean.zero_();
  running_var.fill_(1);
  num_batches_tracked.zero_();
}

torch::Tensor DynamicBatchNorm2dImpl::forward(const torch::Tensor& x) {
  const int64_t c = x.size(1);
  if (c > options.num_features())
    throw util::input_error("input has more channels than the batch norm (" +
                            std::to_string(options.num_features()) + ")")
        .field("channels")
        .value(std::to_string(c));
  double momentum = options.momentum().value_or(0.0);
  if (is_training()) {
    torch::NoGradGuard no_grad;
    num_batches_tracked += 1;
    if (!options.momentum()) momentum = 1.0 / num_batches_tracked.item<double>();
  }
  return at::batch_norm(x, weight.narrow(0, 0, c), bias.narrow(0, 0, c), running_mean.narrow(0, 0, c),
                        running_var.narrow(0, 0, c), is_training(), momentum, options.eps(),
                        /*cudnn_enabled=*/true);
}

StaticBatchNorm DynamicBatchNorm2dImpl::to_static(int64_t channels) const {
  StaticBatchNorm bn;
  bn.weight = weight.detach().narrow(0, 0, channels).clone();
  bn.bias = bias.detach().narrow(0, 0, channels).clone();
  bn.running_mean = running_mean.narrow(0, 0, channels).clone();
  bn.running_var = running_var.narrow(0, 0, channels).clone();
  bn.eps = options.eps();
  return bn;
}

}  // namespace oqa::nn
