// PackedMlp: inference of a ReLU MLP in bfloat16 with AVX512-BF16 dot products (fp32 accumulation), weights
// packed once; the search predictor's forward without a framework call per layer (docs/performance.md).
#pragma once

#include <cstdint>
#include <vector>

#include <torch/types.h>

namespace oqa::search {

class PackedMlp {
 public:
  // Compiled for x86-64 and this CPU has AVX512-BF16 (otherwise the constructor throws).
  static bool available();

  // Linear layers: weights[i] [out_i, in_i] and biases[i] [out_i] (float32), in_{i+1} == out_i; a ReLU
  // follows every layer but the last. Weights and biases are rounded to bfloat16 as Tensor::to(kBFloat16)
  // rounds them.
  PackedMlp(const std::vector<torch::Tensor>& weights, const std::vector<torch::Tensor>& biases);

  int64_t inputs() const { return layers_.front().in; }
  int64_t outputs() const { return layers_.back().out; }

  // y[rows, outputs()] = mlp(x[rows, inputs()]), both row-major float32. Inputs and hidden activations are
  // rounded to bfloat16; sums are float32. Blocks of rows run in parallel on LibTorch's intra-op threads.
  void forward(const float* x, int64_t rows, float* y) const;

  struct Layer {
    int64_t in = 0, out = 0;
    int64_t k = 0;  // inputs as packed: in rounded up to even (first layer) or the previous layer's n
    int64_t n = 0;  // outputs as computed: out rounded up to 16 (padding columns compute zeros)
    std::vector<uint16_t> w;  // bfloat16 bits, [k / 2][n][2]: input pairs interleaved for the dot product
    std::vector<float> bias;  // [n], bfloat16 values widened
  };

 private:
  std::vector<Layer> layers_;
};

}  // namespace oqa::search
