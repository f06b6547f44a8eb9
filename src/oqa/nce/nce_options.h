// NceOptions: the "nce" section of a config (neural channel expansion's search settings) and its reader.
#pragma once

#include <cstdint>
#include <string>

#include "oqa/util/config.h"

namespace oqa::nce {

struct NceOptions {
  std::string budget =
      "macs=base";           // "macs=VALUE" | "params=VALUE"; VALUE "base" = the base architecture's cost
  int bits = 2;              // every searched layer at w<bits>a<bits> throughout the search
  double epochs = 4;         // search epochs over the training split (weights step + architecture step each)
  double weight_lr = 0.05;   // SGD, cosine schedule, the train section's momentum and decay
  double warmup_epochs = 1;  // weights only, no architecture step, before the search proper
  double arch_lr = 0.05;     // Adam on the architecture logits
  double arch_weight_decay = 1e-3;
  double tau_max = 10, tau_min = 0.1;  // Gumbel-softmax temperature, linear from max to min over the search
  double cost_weight = 2.0;            // lambda of the cost loss
  double cost_tolerance = 0.05;  // no cost loss while the expected cost is within this fraction of the target
  double threshold = 0.5;     // channel preference: the widest candidate's probability that expands a layer
  double expand_step = 0.25;  // an expansion adds round((m + expand_step) x base) for the widest multiplier m
  int64_t expand_by = 1;      // candidates added per expansion
  double cap = 2.0;           // no candidate wider than cap x base
  std::string mix =
      "interpolate";  // candidate outputs brought to the widest width: interpolate (TAS CWI) | pad
  int64_t log_every = 50;
};

// Reads node's keys with their defaults (ranges checked; errors name the file and "nce.<key>").
NceOptions read_nce_options(util::ConfigNode node);

}  // namespace oqa::nce
