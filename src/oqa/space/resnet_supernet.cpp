// ResNetSupernet: module construction, width activation, forward and static extraction.
#include "oqa/space/resnet_supernet.h"

#include "oqa/data/transforms.h"

namespace oqa::space {

ResNetSupernet::ResNetSupernet(std::shared_ptr<const ResNetSpace> space) : Supernet(space), resnet_(*space) {
  const ResNetOptions& o = space->options();
  stem = register_module(
      "stem",
      nn::DynamicConvBnAct(nn::DynamicConvBnActOptions(
                               nn::DynamicQConv2dOptions(o.input_channels,
                                                         space->max_width(space->stem_group()), o.stem_kernel)
                                   .stride(o.stem_stride))
                               .act(nn::Activation::kRelu)
                               .bn_eps(o.bn_eps)
                               .bn_momentum(o.bn_momentum)));
  stages = register_module("stages", torch::nn::ModuleList());
  torch::nn::ModuleList list;
  for (const ResNetBlockInfo& b : space->blocks()) {
    if (b.index == 0 && b.stage > 0) stages->push_back(std::exchange(list, torch::nn::ModuleList()));
    nn::DynamicBasicBlock block(nn::DynamicBasicBlockOptions(space->max_width(b.in_group),
                                                             space->max_width(b.mid_group),
                                                             space->max_width(b.out_group))
                                    .stride(b.stride)
                                    .kernel_size(o.kernel)
                                    .bn_eps(o.bn_eps)
                                    .bn_momentum(o.bn_momentum));
    OQA_ASSERT(block->has_projection() == b.projection, "shortcut kind differs between space and supernet");
    list->push_back(block);
    blocks_.push_back(block);
  }
  stages->push_back(list);
  classifier =
      register_module("classifier", nn::DynamicQLinear(nn::DynamicQLinearOptions(
                                        space->max_width(space->blocks().back().out_group), o.classes)));
  finish_construction();
}

void ResNetSupernet::apply_arch(const Subnet& subnet) {
  const auto& W = subnet.widths;
  stem->conv->set_active(W[resnet_.stem_group()], 0);
  for (size_t i = 0; i < blocks_.size(); ++i) {
    const ResNetBlockInfo& b = resnet_.blocks()[i];
    blocks_[i]->set_active(W[b.mid_group], W[b.out_group]);
  }
}

torch::Tensor ResNetSupernet::forward_active(const torch::Tensor& x) {
  torch::Tensor y = stem->forward(x);
  for (auto& b : blocks_) y = b->forward(y);
  return classifier->forward(y.mean({2, 3}, /*keepdim=*/true));
}

torch::Tensor ResNetSupernet::forward_mixed(const torch::Tensor& x, const ChannelMix& mix) {
  torch::Tensor y = mix(resnet_.stem_group(), stem->forward(data::resize_batch(x, active().resolution)));
  for (size_t i = 0; i < blocks_.size(); ++i) {
    const ResNetBlockInfo& b = resnet_.blocks()[i];
    y = mix(b.out_group, blocks_[i]->forward(y, [&](const torch::Tensor& h) { return mix(b.mid_group, h); }));
  }
  return classifier->forward(y.mean({2, 3}, /*keepdim=*/true));
}

void ResNetSupernet::append_static(nn::StaticModel& m) {
  int id = stem->to_static(m, -1, "stem");
  for (size_t i = 0; i < blocks_.size(); ++i) id = blocks_[i]->to_static(m, id, resnet_.blocks()[i].name());
  id = m.add_global_avg_pool(id, "pool");
  nn::StaticLayer head = classifier->to_static(m, id);
  head.name = "classifier";
  m.add(std::move(head));
}

}  // namespace oqa::space
