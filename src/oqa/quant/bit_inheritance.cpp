// inherit_bits: step sizes of b'-bit entries from b-bit ones, s_b' = s_b * 2^(b - b'), in every Quantizer.
#include "oqa/quant/bit_inheritance.h"

#include <cmath>
#include <string>
#include <utility>
#include <vector>

#include <torch/torch.h>

#include "oqa/quant/quantizer.h"
#include "oqa/util/error.h"

namespace oqa::quant {

int inherit_bits(torch::nn::Module& model, int from_bits, int to_bits) {
  for (int b : {from_bits, to_bits})
    if (b < 2 || b > 8)
      throw util::input_error("bit inheritance needs bit-widths in 2..8")
          .field(b == from_bits ? "from_bits" : "to_bits")
          .value(std::to_string(b));
  const double factor = std::ldexp(1.0, from_bits - to_bits);
  int inherited = 0;
  bool any_quantizer = false;
  // The model itself may be a Quantizer; named_modules(include_self) would need it in a shared_ptr.
  std::vector<std::pair<std::string, QuantizerImpl*>> quantizers;
  if (auto* self = dynamic_cast<QuantizerImpl*>(&model)) quantizers.emplace_back("<root>", self);
  for (const auto& item : model.named_modules(/*name_prefix=*/"", /*include_self=*/false))
    if (auto* q = dynamic_cast<QuantizerImpl*>(item.value().get())) quantizers.emplace_back(item.key(), q);
  for (const auto& [where, q] : quantizers) {
    auto specs = q->specs();
    if (specs.empty()) continue;  // a float layer
    any_quantizer = true;
    int here = 0;
    for (const QuantSpec& from : specs) {
      if (from.bits != from_bits) continue;
      const QuantizerEntry& src = q->entry(from);
      if (!src.initialized.any().item<bool>())
        throw util::input_error("entry " + from.key() + " was never initialised from data: nothing to inherit")
            .field(where);
      torch::NoGradGuard no_grad;
      auto step = src.step_size.detach() * factor;
      auto offset = src.offset.defined() ? src.offset.detach().clone() : torch::Tensor();
      auto flags = src.initialized.clone();
      const QuantSpec to = from.with_bits(to_bits);
      if (!q->has_entry(to)) q->create_entries({to}, to.per_channel() ? src.step_size.numel() : 0);
      q->set_entry(to, step, offset);
      q->set_initialized(to, flags);
      ++here;
    }
    if (here == 0)
      throw util::input_error("quantizer has no " + std::to_string(from_bits) + "-bit entry to inherit from")
          .field(where)
          .value(std::to_string(from_bits));
    inherited += here;
  }
  if (!any_quantizer)
    throw util::input_error("model has no quantizer with entries to inherit from").field("from_bits").value(std::to_string(from_bits));
  return inherited;
}

}  // namespace oqa::quant
