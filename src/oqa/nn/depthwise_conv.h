// Depthwise convolution for training: oneDNN's forward and input gradient, oqa's own weight gradient.
#pragma once

#include <cstdint>

#include <torch/types.h>

namespace oqa::nn {

// y = conv2d(x, w, stride, padding, groups = channels) for x [N, C, H, W] and w [C, 1, k, k], float32, no
// bias. oneDNN in LibTorch 1.13 has no JIT kernel for the weight gradient of depthwise kernels larger than 3:
// it falls back to a GEMM over a per-channel im2col copy (most of a sandwich step's time). Here the weight
// gradient comes from depthwise_weight_grad; the forward and input gradient stay with LibTorch. Taps that
// only ever see padding (a kernel wider than 2 x map - 1 at stride 1) are cropped first: the result is the
// same and the smaller kernel runs on oneDNN's JIT path.
torch::Tensor depthwise_conv2d(const torch::Tensor& x, const torch::Tensor& w, int64_t stride,
                               int64_t padding);

// dL/dw [C, 1, k, k] of a depthwise convolution from its input x [N, C, H, W] and output gradient
// grad_out [N, C, OH, OW] (float32).
torch::Tensor depthwise_weight_grad(const torch::Tensor& x, const torch::Tensor& grad_out, int64_t kernel,
                                    int64_t stride, int64_t padding);

}  // namespace oqa::nn
