// inherit_bits (s_b' = s_b * 2^(b - b') in every Quantizer) and min_error_step_size (least-error steps on weights).
#include "oqa/quant/bit_inheritance.h"

#include <cmath>
#include <limits>
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

torch::Tensor min_error_step_size(const torch::Tensor& w, const QuantSpec& spec, const torch::Tensor& start,
                                  const torch::Tensor& offset, int points) {
  spec.validate();
  if (spec.is_float()) throw util::input_error("a float spec has no step size").field("bits").value("0");
  if (points < 2) throw util::input_error("needs at least 2 grid points").field("points").value(std::to_string(points));
  torch::NoGradGuard no_grad;
  const torch::Tensor x = w.detach().to(torch::kFloat);
  // Channels first, flattened: [C, n] (per tensor: [1, numel]).
  const torch::Tensor rows = spec.per_channel() ? x.movedim(spec.axis, 0).reshape({x.size(spec.axis), -1})
                                                : x.reshape({1, -1});
  const int64_t c = rows.size(0);
  if (start.numel() != c)
    throw util::input_error("start holds " + std::to_string(start.numel()) + " step sizes for " +
                            std::to_string(c) + " channels")
        .field("start")
        .value(spec.key());
  const auto on_rows = rows.options();  // float32, on the weights' device
  const torch::Tensor s0 = start.detach().to(on_rows).reshape({c, 1});
  const torch::Tensor beta =
      offset.defined() ? offset.detach().to(on_rows).reshape({c, 1}) : torch::zeros({c, 1}, on_rows);
  const double qn = static_cast<double>(spec.qn()), qp = static_cast<double>(spec.qp());
  torch::Tensor best_err = torch::full({c}, std::numeric_limits<float>::infinity(), on_rows);
  torch::Tensor best = s0.reshape({c}).clone();
  for (int i = 0; i < points; ++i) {
    const double f = std::exp(std::log(0.25) + (std::log(2.0) - std::log(0.25)) * i / (points - 1));
    const torch::Tensor s = s0 * f;
    const torch::Tensor q = ((rows - beta) / s).round().clamp(qn, qp) * s + beta;
    const torch::Tensor err = (rows - q).square().sum(1);
    const torch::Tensor better = err < best_err;
    best_err = torch::where(better, err, best_err);
    best = torch::where(better, s.reshape({c}), best);
  }
  return best;
}

}  // namespace oqa::quant
