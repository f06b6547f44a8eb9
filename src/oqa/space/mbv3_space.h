// Mbv3Space: Once-for-All's elastic MobileNetV3 space (per block kernel and expand ratio, per stage depth,
// input resolution) with every number configurable; the defaults are the peer's 28 px SPACE.
#pragma once

#include <cstdint>
#include <vector>

#include "oqa/nn/activation.h"
#include "oqa/space/space.h"
#include "oqa/util/config.h"

namespace oqa::space {

struct Mbv3StageOptions {
  int64_t channels = 24;
  int64_t stride = 2;
  nn::Activation act = nn::Activation::kRelu;
  bool se = false;
};

// Which layer groups stay float, get fixed bits or are searched (config section "precision").
struct Mbv3Precision {
  Precision stem{Precision::Kind::kFloat};
  Precision first_block{Precision::Kind::kFloat};
  Precision blocks{Precision::Kind::kSearched};  // expand, depthwise and project convs of the elastic blocks
  Precision se{Precision::Kind::kFloat};
  Precision final_expand{Precision::Kind::kFloat};
  Precision feature_mix{Precision::Kind::kFloat};
  Precision classifier{Precision::Kind::kFloat};
};

struct Mbv3Options {
  int64_t input_channels = 1;
  int64_t classes = 10;
  std::vector<int64_t> resolutions{28};
  int64_t stem_channels = 16, stem_kernel = 3, stem_stride = 1;
  nn::Activation stem_act = nn::Activation::kHswish;
  int64_t first_channels = 16, first_kernel = 3, first_expand = 1, first_stride = 1;
  nn::Activation first_act = nn::Activation::kRelu;
  std::vector<Mbv3StageOptions> stages{{24, 2, nn::Activation::kRelu, false},
                                       {40, 2, nn::Activation::kRelu, true},
                                       {80, 2, nn::Activation::kHswish, false},
                                       {112, 1, nn::Activation::kHswish, true},
                                       {160, 2, nn::Activation::kHswish, true}};
  std::vector<int64_t> kernel{3, 5, 7};
  std::vector<int64_t> expand{3, 4, 6};
  std::vector<int64_t> depth{2, 3, 4};
  int64_t final_expand = 960;  // 1x1 conv + BN + head_act before pooling
  int64_t feature_mix = 1280;  // 1x1 conv (no BN, no bias) + head_act after pooling
  nn::Activation head_act = nn::Activation::kHswish;
  int64_t divisor = 8;  // channel rounding of hidden and SE widths
  int64_t se_reduction = 4;
  double bn_eps = 1e-5;
  double bn_momentum = 0.1;
  QuantChoices quant;
  Mbv3Precision precision;
};

// Reads every key of Mbv3Options from a config section (kind "mbv3"); see docs/supernet.md.
Mbv3Options read_mbv3_options(util::ConfigNode node);

class Mbv3Space : public Space {
 public:
  explicit Mbv3Space(Mbv3Options options);

  std::string kind() const override { return "mbv3"; }
  nlohmann::json describe() const override;
  double log10_size() const override;
  void visit_layers(const Subnet& subnet, LayerSink& sink) const override;

  const Mbv3Options& options() const { return options_; }
  int64_t max_depth() const;
  // Input channels of block j of stage s.
  int64_t block_in_channels(size_t stage, size_t block) const;

 protected:
  std::vector<Gene> arch_genes() const override;
  void write_arch(const Subnet& subnet, std::vector<int64_t>& values) const override;
  void read_arch(const std::vector<int64_t>& values, size_t& pos, Subnet& subnet) const override;
  void check_arch_shape(const Subnet& subnet) const override;
  void parse_arch(util::JsonReader& reader, Subnet& subnet) const override;
  bool block_active(const std::vector<int64_t>& values, int block) const override;

 private:
  std::vector<LayerSlot> make_slots() const;
  Mbv3Options options_;
  std::vector<size_t> block_slot_;  // first layer slot of each global block slot (stage * max depth + j)
  std::vector<size_t> depth_gene_;  // gene index of each stage's depth
  size_t head_slot_ = 0;            // layer slot of final_expand (feature_mix and classifier follow)
};

}  // namespace oqa::space
