// Config helpers shared by the space kinds: choice lists, resolutions, activations, the common keys.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "oqa/nn/activation.h"
#include "oqa/space/quant_choices.h"
#include "oqa/util/config.h"
#include "oqa/util/json_reader.h"

namespace oqa::space {

// A non-empty list of distinct integers in [lo, hi]; odd_only for kernel sizes.
std::vector<int64_t> read_choices(util::ConfigNode& node, const std::string& key,
                                  const std::vector<int64_t>& fallback, int64_t lo, int64_t hi,
                                  bool odd_only = false);

// One odd kernel size in [1, 15].
int64_t read_kernel(util::ConfigNode& node, const std::string& key, int64_t fallback);

// Resolutions: a list ([24, 28, 32]) or a range object ({"min": 128, "max": 224, "step": 4}).
std::vector<int64_t> read_resolutions(util::ConfigNode& node, const std::string& key,
                                      const std::vector<int64_t>& fallback);

nn::Activation read_activation(util::ConfigNode& node, const std::string& key, nn::Activation fallback);

nn::Activation get_activation(util::JsonReader& r, const std::string& key, nn::Activation fallback);

// The keys every space kind has: input_channels, classes, resolutions, bn_eps, bn_momentum and the "quant"
// section, read into the same-named fields of o (Mbv3Options, ResNetOptions) with o's values as defaults.
template <class Options>
void read_common_options(util::ConfigNode& node, Options& o) {
  o.input_channels = node.get_int_range("input_channels", o.input_channels, 1, 64);
  o.classes = node.get_int_range("classes", o.classes, 1, int64_t{1} << 16);
  o.resolutions = read_resolutions(node, "resolutions", o.resolutions);
  o.bn_eps = node.get_range("bn_eps", o.bn_eps, 1e-12, 1.0);
  o.bn_momentum = node.get_range("bn_momentum", o.bn_momentum, 0.0, 1.0);
  o.quant = read_quant_choices(node.child("quant"));
}

}  // namespace oqa::space
