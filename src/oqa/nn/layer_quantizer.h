// LayerQuantizer: the weight and input Quantizers of one conv or linear layer and the specs in force.
#pragma once

#include <cstdint>
#include <vector>

#include <torch/nn/module.h>
#include <torch/nn/pimpl.h>
#include <torch/types.h>

#include "oqa/nn/static_model.h"
#include "oqa/quant/quantizer.h"

namespace oqa::nn {

// The quantization of one layer for the active subnet. Float specs (bits 0) leave the tensor as it is.
struct LayerQuantSpecs {
  quant::QuantSpec weight = quant::QuantSpec::float_spec();  // signed, axis 0 when per-channel
  quant::QuantSpec input = quant::QuantSpec::float_spec();   // per-tensor
};

// Two shared-step-size tables (one entry per spec: OQAT's one step size per layer and bit-width, EQ-Net's
// per (bit-width, form)). The weight table's per-channel entries have weight_channels elements (the layer's
// full output channels); a sliced weight with C channels uses the first C.
class LayerQuantizerImpl : public torch::nn::Module {
 public:
  explicit LayerQuantizerImpl(int64_t weight_channels);

  void set_specs(const LayerQuantSpecs& specs);
  const LayerQuantSpecs& specs() const { return specs_; }
  // "oqa::nn::LayerQuantizer(weight=b2_s_pt_sym, input=b2_u_pt_sym)": the specs in force.
  void pretty_print(std::ostream& stream) const override;

  torch::Tensor quantize_weight(const torch::Tensor& w);
  torch::Tensor quantize_input(const torch::Tensor& x);

  // The float weight the last quantize_weight call quantized (the active weight of the last forward, with
  // its autograd history); undefined when that call's weight spec was float or before any call.
  const torch::Tensor& last_quantized_weight() const { return last_weight_; }
  void forget_last_quantized_weight() { last_weight_ = torch::Tensor(); }

  // Creates (uninitialised) entries for every spec the space may ask, before an optimizer is built.
  void create_entries(const std::vector<quant::QuantSpec>& weight_specs,
                      const std::vector<quant::QuantSpec>& input_specs);

  // The active specs with their learned values; the weight's step sizes are cut to out_channels.
  // Throws oqa::util::Error when an entry in use has not been initialised from data yet.
  StaticQuant static_weight(int64_t out_channels) const;
  StaticQuant static_input() const;

  quant::Quantizer weight{nullptr};
  quant::Quantizer input{nullptr};

 private:
  LayerQuantSpecs specs_;
  torch::Tensor last_weight_;
};
TORCH_MODULE(LayerQuantizer);

}  // namespace oqa::nn
