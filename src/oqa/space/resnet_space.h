// ResNetSpace: a basic-block ResNet (ResNet-20 style by default) with per-layer width choices, grouped where
// residual additions force equal widths; candidate lists are data (stage 8's channel expansion grows them).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "oqa/space/space.h"
#include "oqa/util/config.h"

namespace oqa::space {

struct ResNetStageOptions {
  int64_t channels = 16;  // base width
  int64_t blocks = 3;
  int64_t stride = 1;  // of the stage's first block
};

struct ResNetPrecision {
  Precision stem{Precision::Kind::kFloat};
  Precision blocks{Precision::Kind::kSearched};    // conv1 and conv2 of every block
  Precision shortcut{Precision::Kind::kSearched};  // 1x1 projection shortcuts
  Precision classifier{Precision::Kind::kFloat};
};

struct ResNetOptions {
  int64_t input_channels = 3;
  int64_t classes = 10;
  std::vector<int64_t> resolutions{32};
  int64_t stem_channels = 16, stem_kernel = 3, stem_stride = 1;
  std::vector<ResNetStageOptions> stages{{16, 3, 1}, {32, 3, 2}, {64, 3, 2}};
  int64_t kernel = 3;
  // Candidates of a width group: max(1, round(m * base)) for each multiplier, unless overridden below.
  std::vector<double> width_multipliers{0.25, 0.5, 0.75, 1.0};
  std::map<std::string, std::vector<int64_t>> widths;  // width group name -> candidate channels
  double bn_eps = 1e-5;
  double bn_momentum = 0.1;
  QuantChoices quant;
  ResNetPrecision precision;
};

// A set of convs whose output widths are one gene. Residual streams: the stem and the conv2 (and projection)
// of every block that adds onto it ("stem+stages.0", "stages.1", ...); inner widths: "stages.<s>.<b>.conv1".
struct WidthGroup {
  std::string name;
  int64_t base = 0;
  std::vector<int64_t> candidates;  // ascending; the supernet allocates the largest
};

struct ResNetBlockInfo {
  size_t stage = 0, index = 0;
  int64_t stride = 1;
  size_t in_group = 0, mid_group = 0, out_group = 0;
  bool projection = false;  // 1x1 conv shortcut (stride != 1 or base widths differ)
  std::string name() const { return "stages." + std::to_string(stage) + "." + std::to_string(index); }
};

// Width group names of the structure in options (needed to read the "widths" overrides).
std::vector<std::string> resnet_width_group_names(const ResNetOptions& options);
ResNetOptions read_resnet_options(util::ConfigNode node);

class ResNetSpace : public Space {
 public:
  explicit ResNetSpace(ResNetOptions options);

  std::string kind() const override { return "resnet"; }
  nlohmann::json describe() const override;
  double log10_size() const override;
  void visit_layers(const Subnet& subnet, LayerSink& sink) const override;

  const ResNetOptions& options() const { return options_; }
  const std::vector<WidthGroup>& width_groups() const { return groups_; }
  const std::vector<ResNetBlockInfo>& blocks() const { return blocks_; }
  size_t stem_group() const { return 0; }
  int64_t max_width(size_t group) const { return groups_.at(group).candidates.back(); }

 protected:
  std::vector<Gene> arch_genes() const override;
  void write_arch(const Subnet& subnet, std::vector<int64_t>& values) const override;
  void read_arch(const std::vector<int64_t>& values, size_t& pos, Subnet& subnet) const override;
  void check_arch_shape(const Subnet& subnet) const override;
  void parse_arch(util::JsonReader& reader, Subnet& subnet) const override;

 private:
  std::vector<LayerSlot> make_slots() const;
  ResNetOptions options_;
  std::vector<WidthGroup> groups_;
  std::vector<ResNetBlockInfo> blocks_;
};

}  // namespace oqa::space
