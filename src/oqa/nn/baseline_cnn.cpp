// BaselineCnn construction and forward.
#include "oqa/nn/baseline_cnn.h"

#include <torch/nn/functional/pooling.h>
#include <torch/nn/modules/activation.h>
#include <torch/nn/modules/pooling.h>

namespace oqa::nn {
namespace {

void add_conv_bn_relu(torch::nn::Sequential& seq, int64_t in, int64_t out) {
  seq->push_back(torch::nn::Conv2d(torch::nn::Conv2dOptions(in, out, 3).padding(1).bias(false)));
  seq->push_back(torch::nn::BatchNorm2d(out));
  seq->push_back(torch::nn::ReLU(torch::nn::ReLUOptions(true)));
}

}  // namespace

BaselineCnnImpl::BaselineCnnImpl(BaselineCnnOptions o) : options_(o) {
  const int64_t w = o.width;
  torch::nn::Sequential f;
  add_conv_bn_relu(f, o.in_channels, w);
  add_conv_bn_relu(f, w, 2 * w);
  f->push_back(torch::nn::MaxPool2d(torch::nn::MaxPool2dOptions(2)));
  add_conv_bn_relu(f, 2 * w, 4 * w);
  f->push_back(torch::nn::MaxPool2d(torch::nn::MaxPool2dOptions(2)));
  add_conv_bn_relu(f, 4 * w, 4 * w);
  features_ = register_module("features", f);
  classifier_ = register_module("classifier", torch::nn::Linear(4 * w, o.num_classes));
}

torch::Tensor BaselineCnnImpl::forward(const torch::Tensor& x) {
  auto y = features_->forward(x);
  y = torch::adaptive_avg_pool2d(y, {1, 1}).flatten(1);
  return classifier_->forward(y);
}

}  // namespace oqa::nn
