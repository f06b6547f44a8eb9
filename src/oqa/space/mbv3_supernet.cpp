// Mbv3Supernet: module construction, activation of elastic choices, forward and static extraction.
#include "oqa/space/mbv3_supernet.h"

#include <algorithm>

namespace oqa::space {
namespace {

nn::DynamicConvBnAct conv_unit(nn::DynamicQConv2dOptions conv, nn::Activation act, bool batch_norm,
                               const Mbv3Options& o) {
  return nn::DynamicConvBnAct(nn::DynamicConvBnActOptions(std::move(conv))
                                  .batch_norm(batch_norm)
                                  .act(act)
                                  .bn_eps(o.bn_eps)
                                  .bn_momentum(o.bn_momentum));
}

nn::DynamicMBConvOptions block_options(int64_t in, int64_t out, const Mbv3Options& o) {
  return nn::DynamicMBConvOptions(in, out)
      .divisor(o.divisor)
      .se_reduction(o.se_reduction)
      .bn_eps(o.bn_eps)
      .bn_momentum(o.bn_momentum);
}

}  // namespace

Mbv3Supernet::Mbv3Supernet(std::shared_ptr<const Mbv3Space> space) : Supernet(space) {
  const Mbv3Options& o = space->options();
  stem = register_module(
      "stem",
      conv_unit(
          nn::DynamicQConv2dOptions(o.input_channels, o.stem_channels, o.stem_kernel).stride(o.stem_stride),
          o.stem_act, true, o));
  first = register_module("first", nn::DynamicMBConv(block_options(o.stem_channels, o.first_channels, o)
                                                         .stride(o.first_stride)
                                                         .act(o.first_act)
                                                         .kernel_choices({o.first_kernel})
                                                         .expand_choices({o.first_expand})));
  stages = register_module("stages", torch::nn::ModuleList());
  const int64_t depth = space->max_depth();
  for (size_t s = 0; s < o.stages.size(); ++s) {
    const Mbv3StageOptions& st = o.stages[s];
    torch::nn::ModuleList list;
    blocks_.emplace_back();
    for (int64_t j = 0; j < depth; ++j) {
      nn::DynamicMBConv b(block_options(space->block_in_channels(s, static_cast<size_t>(j)), st.channels, o)
                              .stride(j == 0 ? st.stride : 1)
                              .act(st.act)
                              .se(st.se)
                              .kernel_choices(o.kernel)
                              .expand_choices(o.expand));
      list->push_back(b);
      blocks_.back().push_back(b);
    }
    stages->push_back(list);
  }
  final_expand = register_module(
      "final_expand",
      conv_unit(nn::DynamicQConv2dOptions(o.stages.back().channels, o.final_expand, 1), o.head_act, true, o));
  feature_mix = register_module(
      "feature_mix",
      conv_unit(nn::DynamicQConv2dOptions(o.final_expand, o.feature_mix, 1), o.head_act, false, o));
  classifier =
      register_module("classifier", nn::DynamicQLinear(nn::DynamicQLinearOptions(o.feature_mix, o.classes)));
  finish_construction();
}

void Mbv3Supernet::apply_arch(const Subnet& subnet) {
  depth_.clear();
  for (size_t s = 0; s < blocks_.size(); ++s) {
    const StageChoice& st = subnet.stages[s];
    depth_.push_back(st.depth);
    for (size_t j = 0; j < blocks_[s].size(); ++j) blocks_[s][j]->set_active(st.kernel[j], st.expand[j]);
  }
}

torch::Tensor Mbv3Supernet::forward_active(const torch::Tensor& x) {
  torch::Tensor y = first->forward(stem->forward(x));
  for (size_t s = 0; s < blocks_.size(); ++s)
    for (int64_t j = 0; j < depth_[s]; ++j) y = blocks_[s][static_cast<size_t>(j)]->forward(y);
  y = final_expand->forward(y).mean({2, 3}, /*keepdim=*/true);
  return classifier->forward(feature_mix->forward(y));
}

void Mbv3Supernet::append_static(nn::StaticModel& m) {
  int id = stem->to_static(m, -1, "stem");
  id = first->to_static(m, id, "first");
  for (size_t s = 0; s < blocks_.size(); ++s)
    for (int64_t j = 0; j < depth_[s]; ++j)
      id = blocks_[s][static_cast<size_t>(j)]->to_static(
          m, id, "stages." + std::to_string(s) + "." + std::to_string(j));
  id = final_expand->to_static(m, id, "final_expand");
  id = m.add_global_avg_pool(id, "pool");
  id = feature_mix->to_static(m, id, "feature_mix");
  nn::StaticLayer head = classifier->to_static(m, id);
  head.name = "classifier";
  m.add(std::move(head));
}

}  // namespace oqa::space
