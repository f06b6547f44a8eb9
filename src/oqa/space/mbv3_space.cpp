// Mbv3Space: config reading, layer slots, genes, analytic layer shapes and size.
#include "oqa/space/mbv3_space.h"

#include <algorithm>
#include <cmath>

#include <nlohmann/json.hpp>

#include "oqa/nn/dynamic_mbconv.h"
#include "oqa/nn/make_divisible.h"
#include "oqa/space/shape_walker.h"
#include "oqa/space/space_config.h"

namespace oqa::space {
namespace {

constexpr int64_t kMaxChannels = 1 << 16;

// h-swish dips to -0.375 only; the identity (no activation) leaves both signs.
InputRange range_after(nn::Activation act) {
  if (nn::output_nonnegative(act)) return InputRange::kNonNegative;
  return act == nn::Activation::kHswish ? InputRange::kSmallNegative : InputRange::kSigned;
}

nlohmann::json stage_json(const Mbv3StageOptions& s) {
  return {{"channels", s.channels}, {"stride", s.stride}, {"act", nn::to_string(s.act)}, {"se", s.se}};
}

int64_t max_of(const std::vector<int64_t>& v) {
  return *std::max_element(v.begin(), v.end());
}

// log10(sum_i 10^x_i), stable for large x.
double log10_sum(const std::vector<double>& xs) {
  const double m = *std::max_element(xs.begin(), xs.end());
  double s = 0.0;
  for (double x : xs) s += std::pow(10.0, x - m);
  return m + std::log10(s);
}

}  // namespace

Mbv3Options read_mbv3_options(util::ConfigNode node) {
  Mbv3Options o;
  read_common_options(node, o);

  util::ConfigNode stem = node.child("stem");
  o.stem_channels = stem.get_int_range("channels", o.stem_channels, 1, kMaxChannels);
  o.stem_kernel = read_kernel(stem, "kernel", o.stem_kernel);
  o.stem_stride = stem.get_int_range("stride", o.stem_stride, 1, 8);
  o.stem_act = read_activation(stem, "act", o.stem_act);

  util::ConfigNode first = node.child("first_block");
  o.first_channels = first.get_int_range("channels", o.first_channels, 1, kMaxChannels);
  o.first_kernel = read_kernel(first, "kernel", o.first_kernel);
  o.first_expand = first.get_int_range("expand", o.first_expand, 1, 16);
  o.first_stride = first.get_int_range("stride", o.first_stride, 1, 8);
  o.first_act = read_activation(first, "act", o.first_act);

  nlohmann::json stages = nlohmann::json::array();
  for (const auto& s : o.stages) stages.push_back(stage_json(s));
  o.stages.clear();
  util::read_object_list(node, "stages", stages, [&](util::JsonReader& r) {
    Mbv3StageOptions s;
    s.channels = r.get_int_range("channels", s.channels, 1, kMaxChannels);
    s.stride = r.get_int_range("stride", s.stride, 1, 8);
    s.act = get_activation(r, "act", s.act);
    s.se = r.get_bool("se", s.se);
    o.stages.push_back(s);
  });

  o.kernel = read_choices(node, "kernel", o.kernel, 1, 15, true);
  o.expand = read_choices(node, "expand", o.expand, 1, 16);
  o.depth = read_choices(node, "depth", o.depth, 1, 32);
  o.final_expand = node.get_int_range("final_expand", o.final_expand, 1, kMaxChannels);
  o.feature_mix = node.get_int_range("feature_mix", o.feature_mix, 1, kMaxChannels);
  o.head_act = read_activation(node, "head_act", o.head_act);
  o.divisor = node.get_int_range("divisor", o.divisor, 1, 256);
  o.se_reduction = node.get_int_range("se_reduction", o.se_reduction, 1, 256);

  util::ConfigNode p = node.child("precision");
  o.precision.stem = read_precision(p, "stem", "float");
  o.precision.first_block = read_precision(p, "first_block", "float");
  o.precision.blocks = read_precision(p, "blocks", "searched");
  o.precision.se = read_precision(p, "se", "float");
  o.precision.final_expand = read_precision(p, "final_expand", "float");
  o.precision.feature_mix = read_precision(p, "feature_mix", "float");
  o.precision.classifier = read_precision(p, "classifier", "float");
  return o;
}

Mbv3Space::Mbv3Space(Mbv3Options options)
    : Space(options.input_channels, options.classes, options.resolutions, options.quant),
      options_(std::move(options)) {
  OQA_ASSERT(!options_.stages.empty() && !options_.kernel.empty() && !options_.expand.empty() &&
                 !options_.depth.empty(),
             "mbv3 space needs stages and kernel / expand / depth choices");
  set_slots(make_slots());
  const auto& slots = layer_slots();
  for (size_t i = 0; i < slots.size(); ++i)
    if (slots[i].block >= 0 && static_cast<size_t>(slots[i].block) == block_slot_.size())
      block_slot_.push_back(i);
  head_slot_ = static_cast<size_t>(&slot("final_expand") - slots.data());  // then feature_mix, classifier
  for (size_t s = 0; s < options_.stages.size(); ++s) {
    const std::string field = util::indexed("stages", s) + ".depth";
    const auto& g = genes();
    const auto it = std::find_if(g.begin(), g.end(), [&](const Gene& x) { return x.field == field; });
    OQA_ASSERT(it != g.end(), "mbv3 space: no depth gene for a stage");
    depth_gene_.push_back(static_cast<size_t>(it - g.begin()));
  }
}

int64_t Mbv3Space::max_depth() const {
  return max_of(options_.depth);
}

int64_t Mbv3Space::block_in_channels(size_t stage, size_t block) const {
  if (block > 0) return options_.stages[stage].channels;
  return stage == 0 ? options_.first_channels : options_.stages[stage - 1].channels;
}

std::vector<LayerSlot> Mbv3Space::make_slots() const {
  const Mbv3Options& o = options_;
  const Mbv3Precision& p = o.precision;
  std::vector<LayerSlot> slots;
  auto add = [&](std::string name, Precision prec, InputRange input_range, int64_t out, int block = -1) {
    LayerSlot s;
    s.name = std::move(name);
    s.precision = prec;
    s.input_range = input_range;
    s.out_channels = out;
    s.block = block;
    slots.push_back(std::move(s));
  };
  add("stem", p.stem, InputRange::kSigned, o.stem_channels);
  const int64_t first_mid =
      nn::DynamicMBConvImpl::hidden_channels(o.stem_channels, o.first_expand, o.divisor);
  if (o.first_expand > 1) add("first.expand", p.first_block, range_after(o.stem_act), first_mid);
  add("first.dw", p.first_block, range_after(o.first_expand > 1 ? o.first_act : o.stem_act), first_mid);
  add("first.project", p.first_block, range_after(o.first_act), o.first_channels);

  const int64_t max_e = max_of(o.expand), depth = max_depth();
  for (size_t s = 0; s < o.stages.size(); ++s) {
    const Mbv3StageOptions& st = o.stages[s];
    const InputRange act_range = range_after(st.act);
    for (int64_t j = 0; j < depth; ++j) {
      const int b = static_cast<int>(static_cast<int64_t>(s) * depth + j);
      const std::string name = "stages." + std::to_string(s) + "." + std::to_string(j);
      const int64_t mid = nn::DynamicMBConvImpl::hidden_channels(block_in_channels(s, static_cast<size_t>(j)),
                                                                 max_e, o.divisor);
      // The expand conv reads the block input: a projection (plus the residual sum), of either sign.
      if (max_e > 1) add(name + ".expand", p.blocks, InputRange::kSigned, mid, b);
      // With expand ratio 1 the depthwise conv reads the block input too.
      const bool reads_input = std::find(o.expand.begin(), o.expand.end(), 1) != o.expand.end();
      add(name + ".dw", p.blocks, reads_input ? InputRange::kSigned : act_range, mid, b);
      if (st.se) {
        add(name + ".se.reduce", p.se, act_range,
            nn::make_divisible(static_cast<double>(mid / o.se_reduction), o.divisor), b);
        add(name + ".se.expand", p.se, InputRange::kNonNegative, mid, b);
      }
      add(name + ".project", p.blocks, act_range, st.channels, b);
    }
  }
  add("final_expand", p.final_expand, InputRange::kSigned, o.final_expand);
  add("feature_mix", p.feature_mix, range_after(o.head_act), o.feature_mix);
  add("classifier", p.classifier, range_after(o.head_act), o.classes);
  return slots;
}

// ---- genes --------------------------------------------------------------------------------------------

std::vector<Gene> Mbv3Space::arch_genes() const {
  std::vector<Gene> genes;
  const int64_t depth = max_depth();
  for (size_t s = 0; s < options_.stages.size(); ++s) {
    const std::string field = util::indexed("stages", s), name = "stages." + std::to_string(s);
    genes.push_back(
        Gene{field + ".depth", "depth of " + name, options_.depth, {}, true, Gene::Type::kInt, -1});
    for (int64_t j = 0; j < depth; ++j) {
      const int b = static_cast<int>(static_cast<int64_t>(s) * depth + j);
      const std::string block = name + "." + std::to_string(j);
      genes.push_back(Gene{util::indexed(field + ".kernel", static_cast<size_t>(j)),
                           "kernel size of " + block,
                           options_.kernel,
                           {},
                           true,
                           Gene::Type::kInt,
                           b});
      genes.push_back(Gene{util::indexed(field + ".expand", static_cast<size_t>(j)),
                           "expand ratio of " + block,
                           options_.expand,
                           {},
                           true,
                           Gene::Type::kInt,
                           b});
    }
  }
  return genes;
}

void Mbv3Space::write_arch(const Subnet& subnet, std::vector<int64_t>& values) const {
  for (const StageChoice& st : subnet.stages) {
    values.push_back(st.depth);
    for (size_t j = 0; j < st.kernel.size(); ++j) values.insert(values.end(), {st.kernel[j], st.expand[j]});
  }
}

void Mbv3Space::read_arch(const std::vector<int64_t>& values, size_t& pos, Subnet& subnet) const {
  const size_t depth = static_cast<size_t>(max_depth());
  subnet.stages.resize(options_.stages.size());  // in place: a reused subnet keeps its lists
  for (StageChoice& st : subnet.stages) {
    st.depth = values.at(pos++);
    st.kernel.resize(depth);
    st.expand.resize(depth);
    for (size_t j = 0; j < depth; ++j) {
      st.kernel[j] = values.at(pos++);
      st.expand[j] = values.at(pos++);
    }
  }
}

void Mbv3Space::check_arch_shape(const Subnet& subnet) const {
  if (subnet.stages.size() != options_.stages.size())
    throw util::input_error("expected " + std::to_string(options_.stages.size()) + " stages, got " +
                            std::to_string(subnet.stages.size()))
        .field("stages")
        .value(std::to_string(subnet.stages.size()));
  const size_t depth = static_cast<size_t>(max_depth());
  for (size_t s = 0; s < subnet.stages.size(); ++s) {
    const StageChoice& st = subnet.stages[s];
    for (const auto& [key, list] :
         {std::pair<const char*, const std::vector<int64_t>*>{"kernel", &st.kernel},
          std::pair<const char*, const std::vector<int64_t>*>{"expand", &st.expand}})
      if (list->size() != depth)
        throw util::input_error("expected " + std::to_string(depth) +
                                " values, one per block slot (slots at or beyond depth are skipped), got " +
                                std::to_string(list->size()))
            .field(util::indexed("stages", s) + "." + key)
            .value(util::join_ints(*list));
  }
}

void Mbv3Space::parse_arch(util::JsonReader& reader, Subnet& subnet) const {
  if (!reader.has("stages")) {
    subnet.stages = largest().stages;
    return;
  }
  const nlohmann::json& list = reader.at("stages");
  if (!list.is_array()) throw reader.error("stages", "expected a list of {depth, kernel, expand} objects");
  const size_t depth = static_cast<size_t>(max_depth());
  for (size_t s = 0; s < list.size(); ++s) {
    util::JsonReader r(list[s], util::indexed("stages", s), reader.file());
    StageChoice st;
    st.depth = r.require_int("depth");
    for (const char* key : {"kernel", "expand"}) {
      std::vector<int64_t>& out = std::string(key) == "kernel" ? st.kernel : st.expand;
      const nlohmann::json& v = r.at(key);
      out = v.is_number_integer() ? std::vector<int64_t>(depth, v.get<int64_t>()) : r.get_int_list(key, {});
    }
    r.check_unknown();
    subnet.stages.push_back(std::move(st));
  }
}

bool Mbv3Space::block_active(const std::vector<int64_t>& values, int block) const {
  const int64_t depth = max_depth();
  return block % depth < values[depth_gene_[static_cast<size_t>(block / depth)]];
}

// ---- size and shapes ----------------------------------------------------------------------------------

double Mbv3Space::log10_size() const {
  const double lq = log10_quant_per_layer();
  const int64_t depth = max_depth();
  std::vector<double> block_log(
      options_.stages.size() * static_cast<size_t>(depth),
      std::log10(static_cast<double>(options_.kernel.size() * options_.expand.size())));
  double total = std::log10(static_cast<double>(resolutions().size()));
  for (const LayerSlot& s : layer_slots()) {
    if (s.searched < 0) continue;
    if (s.block < 0)
      total += lq;
    else
      block_log[static_cast<size_t>(s.block)] += lq;
  }
  for (size_t s = 0; s < options_.stages.size(); ++s) {
    std::vector<double> per_depth;
    for (int64_t d : options_.depth) {
      double x = 0.0;
      for (int64_t j = 0; j < d; ++j) x += block_log[s * static_cast<size_t>(depth) + static_cast<size_t>(j)];
      per_depth.push_back(x);
    }
    total += log10_sum(per_depth);
  }
  return total;
}

// Slots come in execution order (make_slots): the stem, the first block, each block slot's expand (when the
// space has expand ratios > 1), dw, squeeze-excite and project, then the head.
void Mbv3Space::visit_layers(const Subnet& subnet, LayerSink& sink) const {
  const Mbv3Options& o = options_;
  ShapeWalker w(*this, subnet, sink);
  size_t slot = 0;
  w.conv(slot++, o.input_channels, o.stem_channels, o.stem_kernel, o.stem_stride);
  const int64_t first_mid =
      nn::DynamicMBConvImpl::hidden_channels(o.stem_channels, o.first_expand, o.divisor);
  if (o.first_expand > 1) w.conv(slot++, o.stem_channels, first_mid, 1, 1);
  w.conv(slot++, first_mid, first_mid, o.first_kernel, o.first_stride, first_mid);
  w.conv(slot++, first_mid, o.first_channels, 1, 1);
  const bool has_expand = max_of(o.expand) > 1;
  const size_t depth = static_cast<size_t>(max_depth());
  for (size_t s = 0; s < o.stages.size(); ++s) {
    const StageChoice& st = subnet.stages[s];
    for (size_t j = 0; j < static_cast<size_t>(st.depth); ++j) {
      slot = block_slot_[s * depth + j];
      const int64_t in = block_in_channels(s, j), e = st.expand[j];
      const int64_t mid = nn::DynamicMBConvImpl::hidden_channels(in, e, o.divisor);
      if (has_expand && e > 1) w.conv(slot, in, mid, 1, 1);
      slot += has_expand ? 1 : 0;
      w.conv(slot++, mid, mid, st.kernel[j], j == 0 ? o.stages[s].stride : 1, mid);
      if (o.stages[s].se) {
        const int64_t r = nn::make_divisible(static_cast<double>(mid / o.se_reduction), o.divisor);
        w.pointwise_on_pooled(slot++, mid, r, /*bias=*/true);
        w.pointwise_on_pooled(slot++, r, mid, /*bias=*/true);
      }
      w.conv(slot++, mid, o.stages[s].channels, 1, 1);
    }
  }
  slot = head_slot_;
  w.conv(slot++, o.stages.back().channels, o.final_expand, 1, 1);
  w.pointwise_on_pooled(slot++, o.final_expand, o.feature_mix, /*bias=*/false, /*batch_norm=*/false);
  w.linear(slot, o.feature_mix, o.classes);
}

nlohmann::json Mbv3Space::describe() const {
  const Mbv3Options& o = options_;
  nlohmann::json stages = nlohmann::json::array();
  for (const auto& s : o.stages) stages.push_back(stage_json(s));
  const Mbv3Precision& p = o.precision;
  nlohmann::json j = describe_common();
  j.update({{"stem",
             {{"channels", o.stem_channels},
              {"kernel", o.stem_kernel},
              {"stride", o.stem_stride},
              {"act", nn::to_string(o.stem_act)}}},
            {"first_block",
             {{"channels", o.first_channels},
              {"kernel", o.first_kernel},
              {"expand", o.first_expand},
              {"stride", o.first_stride},
              {"act", nn::to_string(o.first_act)}}},
            {"stages", stages},
            {"kernel", o.kernel},
            {"expand", o.expand},
            {"depth", o.depth},
            {"final_expand", o.final_expand},
            {"feature_mix", o.feature_mix},
            {"head_act", nn::to_string(o.head_act)},
            {"divisor", o.divisor},
            {"se_reduction", o.se_reduction},
            {"precision",
             {{"stem", p.stem.to_string()},
              {"first_block", p.first_block.to_string()},
              {"blocks", p.blocks.to_string()},
              {"se", p.se.to_string()},
              {"final_expand", p.final_expand.to_string()},
              {"feature_mix", p.feature_mix.to_string()},
              {"classifier", p.classifier.to_string()}}}});
  return j;
}

}  // namespace oqa::space
