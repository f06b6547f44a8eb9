// Depthwise convolution: an autograd function with a per-channel weight-gradient kernel (OpenMP over
// channels, vectorized over the images of the batch).
#include "oqa/nn/depthwise_conv.h"

#include <algorithm>
#include <vector>

#include <ATen/Parallel.h>
#include <torch/torch.h>

#include "oqa/util/device.h"
#include "oqa/util/error.h"

namespace oqa::nn {
namespace {

// Output positions i (or j) whose tap t reads a real input row: 0 <= i * s + t - p < size, i < out.
void tap_range(int64_t t, int64_t s, int64_t p, int64_t size, int64_t out, int64_t& lo, int64_t& hi) {
  lo = p > t ? (p - t + s - 1) / s : 0;
  const int64_t last = size - 1 + p - t;
  hi = last < 0 ? -1 : std::min(out - 1, last / s);
}

// One channel, images innermost: x [H][W][N], g [OH][OW][N]; out[a * k + b] = sum over images and output
// positions of g[i][j] * x[i * s + a - p][j * s + b - p]. Each tap accumulates N lanes (one per image, full
// vectors for batch 128) over its valid positions, summed once at the end.
__attribute__((target_clones("avx512f", "avx2", "default"))) void channel_weight_grad(
    const float* x, const float* g, int64_t N, int64_t H, int64_t W, int64_t OH, int64_t OW, int64_t k,
    int64_t s, int64_t p, std::vector<float>& lanes, float* out) {
  lanes.assign(static_cast<size_t>(N), 0.0f);
  float* acc = lanes.data();
  for (int64_t a = 0; a < k; ++a) {
    int64_t i0, i1;
    tap_range(a, s, p, H, OH, i0, i1);
    for (int64_t b = 0; b < k; ++b) {
      int64_t j0, j1;
      tap_range(b, s, p, W, OW, j0, j1);
      std::fill(acc, acc + N, 0.0f);
      for (int64_t i = i0; i <= i1; ++i)
        for (int64_t j = j0; j <= j1; ++j) {
          const float* gv = g + (i * OW + j) * N;
          const float* xv = x + ((i * s + a - p) * W + j * s + b - p) * N;
#pragma omp simd
          for (int64_t n = 0; n < N; ++n) acc[n] += gv[n] * xv[n];
        }
      float sum = 0.0f;
      for (int64_t n = 0; n < N; ++n) sum += acc[n];
      out[a * k + b] = sum;
    }
  }
}

struct DepthwiseConvFunction : torch::autograd::Function<DepthwiseConvFunction> {
  static torch::Tensor forward(torch::autograd::AutogradContext* ctx, const torch::Tensor& x,
                               const torch::Tensor& w, int64_t stride, int64_t padding) {
    ctx->save_for_backward({x, w});
    ctx->saved_data["stride"] = stride;
    ctx->saved_data["padding"] = padding;
    return at::conv2d(x, w, {}, {stride, stride}, {padding, padding}, {1, 1}, w.size(0));
  }

  static torch::autograd::tensor_list backward(torch::autograd::AutogradContext* ctx,
                                               torch::autograd::tensor_list grads) {
    const auto saved = ctx->get_saved_variables();
    const torch::Tensor &x = saved[0], &w = saved[1];
    const int64_t s = ctx->saved_data["stride"].toInt(), p = ctx->saved_data["padding"].toInt();
    const torch::Tensor g = grads[0].contiguous();
    torch::Tensor gx, gw;
    if (ctx->needs_input_grad(0))
      gx = std::get<0>(at::convolution_backward(g, x, w, c10::nullopt, {s, s}, {p, p}, {1, 1}, false, {0, 0},
                                                w.size(0), {true, false, false}));
    if (ctx->needs_input_grad(1)) gw = depthwise_weight_grad(x, g, w.size(2), s, p);
    return {gx, gw, torch::Tensor(), torch::Tensor()};
  }
};

}  // namespace

torch::Tensor depthwise_weight_grad(const torch::Tensor& x_in, const torch::Tensor& g_in, int64_t k,
                                    int64_t s, int64_t p) {
  const torch::Tensor x = x_in.contiguous(), g = g_in.contiguous();
  OQA_ASSERT(x.dim() == 4 && g.dim() == 4 && x.size(0) == g.size(0) && x.size(1) == g.size(1) &&
                 x.scalar_type() == torch::kFloat && g.scalar_type() == torch::kFloat,
             "depthwise_weight_grad: x [N, C, H, W] and grad [N, C, OH, OW], float32");
  const int64_t N = x.size(0), C = x.size(1), H = x.size(2), W = x.size(3), OH = g.size(2), OW = g.size(3);
  OQA_ASSERT(OH == (H + 2 * p - k) / s + 1 && OW == (W + 2 * p - k) / s + 1,
             "depthwise_weight_grad: output size does not match the convolution");
  // Images innermost ([C, H, W, N]): every product is a full vector across the batch.
  const torch::Tensor xt = x.permute({1, 2, 3, 0}).contiguous(), gt = g.permute({1, 2, 3, 0}).contiguous();
  torch::Tensor out = torch::empty({C, 1, k, k}, x.options());
  const float *xd = xt.data_ptr<float>(), *gd = gt.data_ptr<float>();
  float* od = out.data_ptr<float>();
  at::parallel_for(0, C, 1, [&](int64_t c0, int64_t c1) {
    std::vector<float> lanes;
    for (int64_t c = c0; c < c1; ++c)
      channel_weight_grad(xd + c * H * W * N, gd + c * OH * OW * N, N, H, W, OH, OW, k, s, p, lanes,
                          od + c * k * k);
  });
  return out;
}

torch::Tensor depthwise_conv2d(const torch::Tensor& x, const torch::Tensor& w, int64_t stride,
                               int64_t padding) {
  torch::Tensor weight = w;
  int64_t k = w.size(2), p = padding;
  const int64_t map = std::min(x.size(2), x.size(3));
  if (stride == 1 && p == k / 2 && k > 2 * map - 1) {  // outer taps only ever meet padding
    const int64_t kept = 2 * map - 1, start = (k - kept) / 2;
    weight = w.narrow(2, start, kept).narrow(3, start, kept);
    k = kept;
    p = kept / 2;
  }
  // oneDNN's JIT kernels cover 3 x 3 (and smaller) weight gradients; larger ones come here.
  if (k <= 3 || x.scalar_type() != torch::kFloat || !x.device().is_cpu() || !util::own_cpu_kernels())
    return at::conv2d(x, weight, {}, {stride, stride}, {p, p}, {1, 1}, w.size(0));
  return DepthwiseConvFunction::apply(x, weight, stride, p);
}

}  // namespace oqa::nn
