// Reading the "nce" config section with defaults and range checks.
#include "oqa/nce/nce_options.h"

namespace oqa::nce {

NceOptions read_nce_options(util::ConfigNode node) {
  NceOptions o;
  o.budget = node.get<std::string>("budget", o.budget);
  o.bits = static_cast<int>(node.get_int_range("bits", o.bits, 2, 8));
  o.epochs = node.get_range("epochs", o.epochs, 0.01, 1e4);
  o.weight_lr = node.get_range("weight_lr", o.weight_lr, 1e-8, 10);
  o.warmup_epochs = node.get_range("warmup_epochs", o.warmup_epochs, 0, 1e4);
  if (o.warmup_epochs >= o.epochs)
    throw node.error("warmup_epochs", "must be below nce.epochs (" + std::to_string(o.epochs) +
                                          "): the architecture would never be searched");
  o.arch_lr = node.get_range("arch_lr", o.arch_lr, 1e-8, 10);
  o.arch_weight_decay = node.get_range("arch_weight_decay", o.arch_weight_decay, 0, 1);
  o.tau_max = node.get_range("tau_max", o.tau_max, 1e-3, 1e3);
  o.tau_min = node.get_range("tau_min", o.tau_min, 1e-3, o.tau_max);
  o.cost_weight = node.get_range("cost_weight", o.cost_weight, 0, 1e3);
  o.cost_tolerance = node.get_range("cost_tolerance", o.cost_tolerance, 0, 0.5);
  o.threshold = node.get_range("threshold", o.threshold, 0.5, 1);
  o.expand_step = node.get_range("expand_step", o.expand_step, 0.01, 4);
  o.expand_by = node.get_int_range("expand_by", o.expand_by, 1, 16);
  o.cap = node.get_range("cap", o.cap, 1, 16);
  o.mix = node.get_choice("mix", o.mix, {"interpolate", "pad"});
  o.log_every = node.get_int_range("log_every", o.log_every, 1, int64_t{1} << 30);
  return o;
}

}  // namespace oqa::nce
