// Stage transitions: bit inheritance between uniform bit-widths, data initialisation otherwise.
#include "oqa/train/stage_init.h"

#include <spdlog/spdlog.h>

#include "oqa/quant/bit_inheritance.h"
#include "oqa/train/supernet_options.h"

namespace oqa::train {

std::string init_stage(space::Supernet& net, const std::string& previous_quant, const std::string& quant,
                       bool inherit_step_sizes) {
  const int from = stage_bits(previous_quant), to = stage_bits(quant);
  if (inherit_step_sizes && from >= 2 && to >= 2 && to < from) {
    int entries = 0;
    const auto& slots = net.space().layer_slots();
    for (size_t i = 0; i < slots.size(); ++i) {
      if (slots[i].precision.kind != space::Precision::Kind::kSearched) continue;
      nn::LayerQuantizer lq = net.layer_quantizers()[i].second;  // holder copies share the module
      quant::Quantizer weight = lq->weight, input = lq->input;
      entries += quant::inherit_bits(*weight, from, to) + quant::inherit_bits(*input, from, to);
    }
    spdlog::info("{}: inherited {} step-size entries from {} bits (step sizes x{})", quant, entries, from,
                 1 << (from - to));
    return "inherited from " + previous_quant + " (step sizes x" + std::to_string(1 << (from - to)) + ")";
  }
  if (to != 0 && from == 0) return "float weights, step sizes from data";
  if (to == 0) return previous_quant.empty() ? "random" : "weights of " + previous_quant;
  return "weights of " + previous_quant + ", step sizes from data";
}

}  // namespace oqa::train
