// ResNetSpace: config reading, width groups, layer slots, genes, analytic layer shapes and size.
#include "oqa/space/resnet_space.h"

#include <algorithm>
#include <cmath>
#include <set>

#include <nlohmann/json.hpp>

#include "oqa/space/shape_walker.h"
#include "oqa/space/space_config.h"

namespace oqa::space {
namespace {

constexpr int64_t kMaxChannels = 1 << 16;

// Width groups (base widths, no candidates yet) and blocks of the structure in o.
void build_structure(const ResNetOptions& o, std::vector<WidthGroup>& groups,
                     std::vector<ResNetBlockInfo>& blocks) {
  groups.assign(1, WidthGroup{"stem", o.stem_channels, {}});
  size_t stream = 0;
  for (size_t s = 0; s < o.stages.size(); ++s) {
    for (size_t b = 0; b < static_cast<size_t>(o.stages[s].blocks); ++b) {
      ResNetBlockInfo info;
      info.stage = s;
      info.index = b;
      info.stride = b == 0 ? o.stages[s].stride : 1;
      info.in_group = stream;
      info.projection = info.stride != 1 || groups[stream].base != o.stages[s].channels;
      if (b == 0) {
        const std::string stage = "stages." + std::to_string(s);
        if (info.projection) {
          groups.push_back(WidthGroup{stage, o.stages[s].channels, {}});
          stream = groups.size() - 1;
        } else {
          groups[stream].name += "+" + stage;
        }
      }
      info.out_group = stream;
      groups.push_back(WidthGroup{info.name() + ".conv1", o.stages[s].channels, {}});
      info.mid_group = groups.size() - 1;
      blocks.push_back(info);
    }
  }
}

std::vector<int64_t> sorted_unique(std::vector<int64_t> v) {
  std::sort(v.begin(), v.end());
  v.erase(std::unique(v.begin(), v.end()), v.end());
  return v;
}

}  // namespace

std::vector<std::string> resnet_width_group_names(const ResNetOptions& options) {
  std::vector<WidthGroup> groups;
  std::vector<ResNetBlockInfo> blocks;
  build_structure(options, groups, blocks);
  std::vector<std::string> names;
  for (const auto& g : groups) names.push_back(g.name);
  return names;
}

ResNetOptions read_resnet_options(util::ConfigNode node) {
  ResNetOptions o;
  read_common_options(node, o);
  util::ConfigNode stem = node.child("stem");
  o.stem_channels = stem.get_int_range("channels", o.stem_channels, 1, kMaxChannels);
  o.stem_kernel = read_kernel(stem, "kernel", o.stem_kernel);
  o.stem_stride = stem.get_int_range("stride", o.stem_stride, 1, 8);

  nlohmann::json stages = nlohmann::json::array();
  for (const auto& s : o.stages)
    stages.push_back({{"channels", s.channels}, {"blocks", s.blocks}, {"stride", s.stride}});
  o.stages.clear();
  util::read_object_list(node, "stages", stages, [&](util::JsonReader& r) {
    ResNetStageOptions s;
    s.channels = r.get_int_range("channels", s.channels, 1, kMaxChannels);
    s.blocks = r.get_int_range("blocks", s.blocks, 1, 64);
    s.stride = r.get_int_range("stride", s.stride, 1, 8);
    o.stages.push_back(s);
  });
  o.kernel = read_kernel(node, "kernel", o.kernel);
  o.width_multipliers = node.get<std::vector<double>>("width_multipliers", o.width_multipliers);
  if (o.width_multipliers.empty()) throw node.error("width_multipliers", "needs at least one multiplier");
  for (double m : o.width_multipliers)
    if (!(m > 0.0) || m > 16.0) throw node.error("width_multipliers", "multipliers must lie in (0, 16]");

  // Overrides: keys are width group names (which contain dots), each a list of channel counts.
  const std::vector<std::string> names = resnet_width_group_names(o);
  const nlohmann::json given = node.get<nlohmann::json>("widths", nlohmann::json::object());
  if (!given.is_object())
    throw node.error("widths", "expected an object: width group name -> list of channels");
  for (auto it = given.begin(); it != given.end(); ++it)
    if (std::find(names.begin(), names.end(), it.key()) == names.end()) {
      std::string known;
      for (const auto& n : names) known += (known.empty() ? "" : ", ") + n;
      const std::string near = util::nearest(it.key(), names);
      throw util::input_error("unknown width group (known: " + known + ")" +
                              (near.empty() ? std::string() : "; did you mean '" + near + "'?"))
          .file(node.file())
          .field(node.full("widths") + "." + it.key());
    }
  util::ConfigNode widths = node.child("widths");
  for (const auto& n : names)
    if (widths.has(n)) o.widths[n] = read_choices(widths, n, {}, 1, kMaxChannels);

  util::ConfigNode p = node.child("precision");
  o.precision.stem = read_precision(p, "stem", "float");
  o.precision.blocks = read_precision(p, "blocks", "searched");
  o.precision.shortcut = read_precision(p, "shortcut", "searched");
  o.precision.classifier = read_precision(p, "classifier", "float");
  return o;
}

ResNetSpace::ResNetSpace(ResNetOptions options)
    : Space(options.input_channels, options.classes, options.resolutions, options.quant),
      options_(std::move(options)) {
  OQA_ASSERT(!options_.stages.empty() && !options_.width_multipliers.empty(),
             "resnet space needs stages and multipliers");
  build_structure(options_, groups_, blocks_);
  for (WidthGroup& g : groups_) {
    auto it = options_.widths.find(g.name);
    if (it != options_.widths.end()) {
      g.candidates = sorted_unique(it->second);
      continue;
    }
    for (double m : options_.width_multipliers)
      g.candidates.push_back(std::max<int64_t>(1, std::llround(m * static_cast<double>(g.base))));
    g.candidates = sorted_unique(g.candidates);
  }
  for (const auto& entry : options_.widths) {
    const std::string& name = entry.first;  // a plain reference: C++17 lambdas cannot capture a structured binding
    if (std::none_of(groups_.begin(), groups_.end(), [&](const WidthGroup& g) { return g.name == name; }))
      throw util::input_error("unknown width group").field("widths." + name);
  }
  set_slots(make_slots());
}

std::vector<LayerSlot> ResNetSpace::make_slots() const {
  const ResNetPrecision& p = options_.precision;
  std::vector<LayerSlot> slots;
  auto add = [&](std::string name, Precision prec, InputRange input_range, int64_t out) {
    LayerSlot s;
    s.name = std::move(name);
    s.precision = prec;
    s.input_range = input_range;
    s.out_channels = out;
    slots.push_back(std::move(s));
  };
  add("stem", p.stem, InputRange::kSigned, max_width(stem_group()));
  for (const ResNetBlockInfo& b : blocks_) {  // block inputs follow a ReLU: unsigned
    add(b.name() + ".conv1", p.blocks, InputRange::kNonNegative, max_width(b.mid_group));
    add(b.name() + ".conv2", p.blocks, InputRange::kNonNegative, max_width(b.out_group));
    if (b.projection) add(b.name() + ".shortcut", p.shortcut, InputRange::kNonNegative, max_width(b.out_group));
  }
  add("classifier", p.classifier, InputRange::kNonNegative, classes());
  return slots;
}

std::vector<Gene> ResNetSpace::arch_genes() const {
  std::vector<Gene> genes;
  for (size_t i = 0; i < groups_.size(); ++i)
    genes.push_back(Gene{util::indexed("widths", i),
                         "width of " + groups_[i].name,
                         groups_[i].candidates,
                         {},
                         true,
                         Gene::Type::kInt,
                         -1});
  return genes;
}

void ResNetSpace::write_arch(const Subnet& subnet, std::vector<int64_t>& values) const {
  values.insert(values.end(), subnet.widths.begin(), subnet.widths.end());
}

void ResNetSpace::read_arch(const std::vector<int64_t>& values, size_t& pos, Subnet& subnet) const {
  subnet.widths.assign(values.begin() + static_cast<std::ptrdiff_t>(pos),
                       values.begin() + static_cast<std::ptrdiff_t>(pos + groups_.size()));
  pos += groups_.size();
}

void ResNetSpace::check_arch_shape(const Subnet& subnet) const {
  if (subnet.widths.size() == groups_.size()) return;
  std::string names;
  for (const auto& g : groups_) names += (names.empty() ? "" : ", ") + g.name;
  throw util::input_error("expected " + std::to_string(groups_.size()) + " widths, one per width group (" +
                          names + "), got " + std::to_string(subnet.widths.size()))
      .field("widths")
      .value(util::join_ints(subnet.widths));
}

void ResNetSpace::parse_arch(util::JsonReader& reader, Subnet& subnet) const {
  subnet.widths = reader.has("widths") ? reader.get_int_list("widths", {}) : largest().widths;
}

double ResNetSpace::log10_size() const {
  double total = std::log10(static_cast<double>(resolutions().size()));
  for (const auto& g : groups_) total += std::log10(static_cast<double>(g.candidates.size()));
  return total + log10_quant_per_layer() * static_cast<double>(searched_layers());
}

// Every layer runs, and slots come in execution order (make_slots): stem, each block's conv1, conv2 and
// projection shortcut, classifier.
void ResNetSpace::visit_layers(const Subnet& subnet, LayerSink& sink) const {
  const auto& W = subnet.widths;
  ShapeWalker w(*this, subnet, sink);
  size_t slot = 0;
  w.conv(slot++, input_channels(), W[stem_group()], options_.stem_kernel, options_.stem_stride);
  for (const ResNetBlockInfo& b : blocks_) {
    const int64_t in_size = w.size(), in = W[b.in_group], mid = W[b.mid_group], out = W[b.out_group];
    w.conv(slot++, in, mid, options_.kernel, b.stride);
    w.conv(slot++, mid, out, options_.kernel, 1);
    if (b.projection) {
      w.set_size(in_size);
      w.conv(slot++, in, out, 1, b.stride);
    }
  }
  w.linear(slot, W[blocks_.back().out_group], classes());
}

nlohmann::json ResNetSpace::describe() const {
  nlohmann::json stages = nlohmann::json::array(), groups = nlohmann::json::object();
  for (const auto& s : options_.stages)
    stages.push_back({{"channels", s.channels}, {"blocks", s.blocks}, {"stride", s.stride}});
  for (const auto& g : groups_) groups[g.name] = g.candidates;
  const ResNetPrecision& p = options_.precision;
  nlohmann::json j = describe_common();
  j.update({{"stem",
             {{"channels", options_.stem_channels},
              {"kernel", options_.stem_kernel},
              {"stride", options_.stem_stride}}},
            {"stages", stages},
            {"kernel", options_.kernel},
            {"width_multipliers", options_.width_multipliers},
            {"width_groups", groups},
            {"precision",
             {{"stem", p.stem.to_string()},
              {"blocks", p.blocks.to_string()},
              {"shortcut", p.shortcut.to_string()},
              {"classifier", p.classifier.to_string()}}}});
  return j;
}

}  // namespace oqa::space
