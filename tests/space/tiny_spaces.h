// Tiny mbv3 and resnet space configs (few channels, 8-16 px) and a supernet primed for extraction.
#pragma once

#include <memory>
#include <string>

#include <torch/torch.h>

#include "oqa/space/make_space.h"
#include "oqa/space/supernet.h"
#include "oqa/util/config.h"

namespace oqa_test {

// Two elastic stages (the second with SE and h-swish), depth {1, 2}, every quantization form searched, the
// stem fixed at w8a8, SE layers searched, the head float.
inline const char* kTinyMbv3 = R"({
  "kind": "mbv3", "input_channels": 2, "classes": 5, "resolutions": [12, 16],
  "stem": {"channels": 8, "stride": 1},
  "first_block": {"channels": 8},
  "stages": [{"channels": 8, "stride": 2, "act": "relu"},
             {"channels": 16, "stride": 2, "act": "hswish", "se": true}],
  "kernel": [3, 5, 7], "expand": [3, 4, 6], "depth": [1, 2],
  "final_expand": 24, "feature_mix": 32,
  "quant": {"weight_bits": [2, 4, 8], "act_bits": [2, 4, 8], "weight_granularity": ["per_tensor", "per_channel"],
            "weight_symmetric": [true, false], "act_symmetric": [true, false]},
  "precision": {"stem": "w8a8", "se": "searched"}
})";

// Stem + two stages of basic blocks (the second strided: a projection shortcut), widths 0.5x / 1x.
inline const char* kTinyResNet = R"({
  "kind": "resnet", "input_channels": 3, "classes": 4, "resolutions": [8, 12],
  "stem": {"channels": 8},
  "stages": [{"channels": 8, "blocks": 2, "stride": 1}, {"channels": 16, "blocks": 1, "stride": 2}],
  "width_multipliers": [0.5, 1.0],
  "quant": {"weight_bits": [2, 3, 4], "act_bits": [2, 4], "weight_granularity": ["per_tensor", "per_channel"],
            "act_symmetric": [true, false]},
  "precision": {"classifier": "w8a8"}
})";

inline std::shared_ptr<oqa::space::Space> tiny_space(const char* json) {
  auto config = oqa::util::Config::from_json(oqa::util::Json::parse(json), "tiny.json");
  auto space = oqa::space::make_space(config.root());
  config.check_unknown();
  return space;
}

// Runs subnet forward once in train mode (initialises the quantizer entries it uses, moves BN statistics away
// from their defaults), then leaves the supernet in eval mode with subnet active.
inline void prime(oqa::space::Supernet& net, const oqa::space::Subnet& subnet, int64_t batch = 8) {
  net.set_active(subnet);
  net.train();
  {
    torch::NoGradGuard no_grad;
    const auto& s = net.space();
    for (int i = 0; i < 3; ++i) net.forward(torch::randn({batch, s.input_channels(), 14, 14}) * 2 + 0.5);
  }
  net.eval();
}

}  // namespace oqa_test
