// LayerQuantizer: forwarding to the two Quantizer tables and copying their active entries out.
#include "oqa/nn/layer_quantizer.h"

#include <ostream>

#include "oqa/util/error.h"

namespace oqa::nn {
namespace {

StaticQuant copy_entry(const quant::QuantizerImpl& q, const quant::QuantSpec& spec, int64_t channels) {
  StaticQuant out;
  out.spec = spec;
  if (spec.is_float()) return out;
  const int64_t n = spec.per_channel() ? channels : 1;
  if (!q.has_entry(spec) || !q.entry(spec).initialized.narrow(0, 0, n).all().item<bool>())
    throw util::input_error("quantizer entry " + spec.key() +
                            " is not initialised: run this subnet forward once (train mode or calibration) "
                            "before extracting it")
        .field("step_size")
        .value(spec.key());
  const quant::QuantizerEntry& e = q.entry(spec);
  out.step_size = e.step_size.detach().narrow(0, 0, n).clone();
  if (e.offset.defined()) out.offset = e.offset.detach().narrow(0, 0, n).clone();
  return out;
}

}  // namespace

LayerQuantizerImpl::LayerQuantizerImpl(int64_t weight_channels) {
  weight = register_module("weight", quant::Quantizer(quant::QuantizerOptions(weight_channels)));
  input = register_module("input", quant::Quantizer(quant::QuantizerOptions(1)));
}

void LayerQuantizerImpl::set_specs(const LayerQuantSpecs& specs) {
  OQA_ASSERT(specs.input.is_float() || !specs.input.per_channel(), "input quantizers are per-tensor");
  OQA_ASSERT(specs.weight.is_float() || specs.weight.axis == 0, "weight quantizers use axis 0");
  specs_ = specs;
}

void LayerQuantizerImpl::pretty_print(std::ostream& stream) const {
  stream << "oqa::nn::LayerQuantizer(weight=" << specs_.weight.key() << ", input=" << specs_.input.key() << ")";
}

torch::Tensor LayerQuantizerImpl::quantize_weight(const torch::Tensor& w) {
  last_weight_ = specs_.weight.is_float() ? torch::Tensor() : w;
  return weight->forward(w, specs_.weight);
}

torch::Tensor LayerQuantizerImpl::quantize_input(const torch::Tensor& x) {
  return input->forward(x, specs_.input);
}

void LayerQuantizerImpl::create_entries(const std::vector<quant::QuantSpec>& weight_specs,
                                        const std::vector<quant::QuantSpec>& input_specs) {
  weight->create_entries(weight_specs);
  input->create_entries(input_specs);
}

StaticQuant LayerQuantizerImpl::static_weight(int64_t out_channels) const {
  return copy_entry(*weight, specs_.weight, out_channels);
}

StaticQuant LayerQuantizerImpl::static_input() const {
  return copy_entry(*input, specs_.input, 1);
}

}  // namespace oqa::nn
