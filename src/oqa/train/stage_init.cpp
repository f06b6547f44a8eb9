// Stage transitions: bit inheritance between uniform bit-widths (x2 or minimum-error step sizes), data
// initialisation otherwise.
#include "oqa/train/stage_init.h"

#include <map>

#include <spdlog/spdlog.h>
#include <torch/torch.h>

#include "oqa/quant/bit_inheritance.h"
#include "oqa/train/supernet_options.h"
#include "oqa/util/error.h"

namespace oqa::train {
namespace {

// The weight of the conv or linear layer that owns each LayerQuantizer ("x.quantizer" -> "x.weight").
std::map<const nn::LayerQuantizerImpl*, torch::Tensor> owner_weights(space::Supernet& net) {
  const auto params = net.named_parameters();
  std::map<const nn::LayerQuantizerImpl*, torch::Tensor> out;
  const std::string suffix = ".quantizer";
  for (const auto& item : net.named_modules("", /*include_self=*/false)) {
    const auto* q = dynamic_cast<const nn::LayerQuantizerImpl*>(item.value().get());
    const std::string& key = item.key();
    if (!q || key.size() <= suffix.size() || key.compare(key.size() - suffix.size(), suffix.size(), suffix) != 0)
      continue;
    const torch::Tensor* w = params.find(key.substr(0, key.size() - suffix.size()) + ".weight");
    if (w) out[q] = *w;
  }
  return out;
}

// Replaces the to_bits weight step sizes (just doubled) by the ones of least quantization error on the
// inherited weights. Returns the number of entries set.
int min_error_weights(nn::LayerQuantizerImpl& lq, const torch::Tensor& weight, int to_bits) {
  quant::QuantizerImpl& q = *lq.weight;
  int set = 0;
  for (const quant::QuantSpec& spec : q.specs()) {
    if (spec.bits != to_bits) continue;
    const quant::QuantizerEntry& e = q.entry(spec);
    const int64_t n = spec.per_channel() ? weight.size(spec.axis) : 1;
    torch::Tensor step = e.step_size.detach().clone();
    torch::Tensor offset = e.offset.defined() ? e.offset.detach() : torch::Tensor();
    step.narrow(0, 0, n).copy_(quant::min_error_step_size(
        weight, spec, step.narrow(0, 0, n), offset.defined() ? offset.narrow(0, 0, n) : torch::Tensor()));
    q.set_entry(spec, step, offset);
    ++set;
  }
  return set;
}

}  // namespace

std::string init_stage(space::Supernet& net, const std::string& previous_quant, const std::string& quant,
                       StepSizeRule rule) {
  const int from = stage_bits(previous_quant), to = stage_bits(quant);
  if (rule != StepSizeRule::kData && from >= 2 && to >= 2 && to < from) {
    int entries = 0, fitted = 0;
    const auto weights = rule == StepSizeRule::kMinError ? owner_weights(net)
                                                         : std::map<const nn::LayerQuantizerImpl*, torch::Tensor>{};
    const auto& slots = net.space().layer_slots();
    for (size_t i = 0; i < slots.size(); ++i) {
      if (slots[i].precision.kind != space::Precision::Kind::kSearched) continue;
      nn::LayerQuantizer lq = net.layer_quantizers()[i].second;  // holder copies share the module
      quant::Quantizer weight = lq->weight, input = lq->input;
      entries += quant::inherit_bits(*weight, from, to) + quant::inherit_bits(*input, from, to);
      if (rule != StepSizeRule::kMinError) continue;
      const auto it = weights.find(lq.get());
      OQA_ASSERT(it != weights.end(), "no weight found for layer " + slots[i].name);
      fitted += min_error_weights(*lq, it->second, to);
    }
    const std::string factor = "x" + std::to_string(1 << (from - to));
    if (rule == StepSizeRule::kMinError) {
      spdlog::info("{}: inherited {} step-size entries from {} bits (activations {}, {} weight entries at least "
                   "quantization error)",
                   quant, entries, from, factor, fitted);
      return "inherited from " + previous_quant + " (weight step sizes of least error, activations " + factor + ")";
    }
    spdlog::info("{}: inherited {} step-size entries from {} bits (step sizes {})", quant, entries, from, factor);
    return "inherited from " + previous_quant + " (step sizes " + factor + ")";
  }
  if (to != 0 && from == 0) return "float weights, step sizes from data";
  if (to == 0) return previous_quant.empty() ? "random" : "weights of " + previous_quant;
  return "weights of " + previous_quant + ", step sizes from data";
}

}  // namespace oqa::train
