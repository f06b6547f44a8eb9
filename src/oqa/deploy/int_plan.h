// The integer runtime's plan: each layer of a DeployModel prepared once (packed weights, folded batch norm
// and step sizes, asymmetric-input corrections); IntegerModel (int_runtime.h) executes it.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <torch/torch.h>

#include "oqa/deploy/deploy_model.h"
#include "oqa/deploy/int_kernels.h"

namespace oqa::deploy::detail {

enum class Kind { kConv, kDepthwise, kLinear, kAdd, kMul, kPool };

inline const char* to_string(Kind k) {
  switch (k) {
    case Kind::kConv: return "conv";
    case Kind::kDepthwise: return "depthwise";
    case Kind::kLinear: return "linear";
    case Kind::kAdd: return "add";
    case Kind::kMul: return "mul";
    case Kind::kPool: return "global_avg_pool";
  }
  return "?";
}

struct Dims {
  int64_t h = 1, w = 1, c = 1;
  int64_t pixels() const { return h * w; }
  int64_t size() const { return h * w * c; }
};

inline int64_t round_up_even(int64_t v) {
  return (v + 1) / 2 * 2;
}

// One layer prepared for the integer runtime: its kind, geometry, quantizer and weights in the layout the
// kernels read (packed int16 levels or dequantized float), and the folded epilogue.
struct PreparedLayer {
  Kind kind = Kind::kAdd;
  bool integer = false;         // conv / depthwise / linear: integer GEMM, else float on dequantized weights
  bool quantize_input = false;  // float path: fake-quantize the input first
  std::string name;
  std::vector<int> inputs;
  Dims out;
  nn::Activation act = nn::Activation::kNone;
  // Conv / linear layers: input quantizer, geometry, weights and the folded epilogue
  // y[p][o] = act(acc[p][o] * scale[o] + shift[o] + corr[p % pixels][o]). Integer layers keep packed int16
  // levels (b, dw); float ones dequantized weights (wf: [K][N] per group, dwf: [tap][c]).
  float in_step = 1, in_offset = 0;
  int qn = 0, qp = 0;
  int64_t q_cols = 0, q_stride = 0, lda = 0;
  ConvShape conv;
  bool direct = false;
  std::vector<PackedB> b;
  std::vector<int16_t> dw;
  std::vector<float> scale, shift, corr;
  std::vector<torch::Tensor> wf;
  std::vector<float> dwf;
};

// Every layer of m prepared, in order; the input is m's resolution x resolution x in_channels (NHWC).
struct IntegerPlan {
  int64_t in_channels = 1, resolution = 1;
  Dims input_dims;
  std::vector<PreparedLayer> layers;
  const Dims& dims(int i) const { return i < 0 ? input_dims : layers[static_cast<size_t>(i)].out; }
};

// Throws an input error naming the layer when shapes do not fit.
IntegerPlan plan_integer_model(const DeployModel& m);

}  // namespace oqa::deploy::detail
