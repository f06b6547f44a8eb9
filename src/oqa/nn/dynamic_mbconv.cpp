// DynamicMBConv: elastic kernel and expand ratio on shared weights; forward and static extraction.
#include "oqa/nn/dynamic_mbconv.h"

#include <algorithm>
#include <ostream>

#include "oqa/nn/make_divisible.h"
#include "oqa/util/error.h"

namespace oqa::nn {

int64_t DynamicMBConvImpl::hidden_channels(int64_t in_channels, int64_t expand, int64_t divisor) {
  return expand == 1 ? in_channels : make_divisible(static_cast<double>(in_channels * expand), divisor);
}

DynamicMBConvImpl::DynamicMBConvImpl(DynamicMBConvOptions o) : options(std::move(o)) {
  const auto& e = options.expand_choices();
  const auto& k = options.kernel_choices();
  OQA_ASSERT(!e.empty() && !k.empty(), "DynamicMBConv needs kernel and expand choices");
  const int64_t max_e = *std::max_element(e.begin(), e.end());
  const int64_t max_k = *std::max_element(k.begin(), k.end());
  const int64_t in = options.in_channels();
  const int64_t mid = hidden_channels(in, max_e, options.divisor());
  auto unit = [&](DynamicQConv2dOptions conv, Activation act) {
    return DynamicConvBnAct(DynamicConvBnActOptions(std::move(conv))
                                .act(act)
                                .bn_eps(options.bn_eps())
                                .bn_momentum(options.bn_momentum()));
  };
  if (max_e > 1) expand = register_module("expand", unit(DynamicQConv2dOptions(in, mid, 1), options.act()));
  dw = register_module(
      "dw",
      unit(DynamicQConv2dOptions(mid, mid, max_k).kernel_choices(k).stride(options.stride()).depthwise(true),
           options.act()));
  if (options.se())
    se = register_module(
        "se",
        DynamicSqueezeExcite(
            DynamicSqueezeExciteOptions(mid).reduction(options.se_reduction()).divisor(options.divisor())));
  project = register_module("project",
                            unit(DynamicQConv2dOptions(mid, options.out_channels(), 1), Activation::kNone));
  set_active(max_k, max_e);
}

void DynamicMBConvImpl::set_active(int64_t kernel_size, int64_t expand_ratio) {
  const auto& e = options.expand_choices();
  if (std::find(e.begin(), e.end(), expand_ratio) == e.end())
    throw util::input_error("expand ratio is not one of the block's choices")
        .field("expand")
        .value(std::to_string(expand_ratio));
  dw->conv->set_active(0, kernel_size);
  expand_ratio_ = expand_ratio;
  if (expand)
    expand->conv->set_active(hidden_channels(options.in_channels(), expand_ratio, options.divisor()), 0);
}

bool DynamicMBConvImpl::has_residual() const {
  return options.stride() == 1 && options.in_channels() == options.out_channels();
}

void DynamicMBConvImpl::pretty_print(std::ostream& stream) const {
  stream << "oqa::nn::DynamicMBConv(" << options.in_channels() << " -> " << options.out_channels()
         << ", stride=" << options.stride() << ", kernel=" << dw->conv->active_kernel_size()
         << ", expand=" << expand_ratio_ << (options.se() ? ", se" : "") << ")";
}

torch::Tensor DynamicMBConvImpl::forward(const torch::Tensor& x) {
  torch::Tensor y = expand_ratio_ > 1 ? expand->forward(x) : x;
  y = dw->forward(y);
  if (se) y = se->forward(y);
  y = project->forward(y);
  return has_residual() ? x + y : y;
}

int DynamicMBConvImpl::to_static(StaticModel& model, int input, const std::string& name) {
  int id = expand_ratio_ > 1 ? expand->to_static(model, input, name + ".expand") : input;
  id = dw->to_static(model, id, name + ".dw");
  if (se) id = se->to_static(model, id, name + ".se");
  id = project->to_static(model, id, name + ".project");
  return has_residual() ? model.add_binary(StaticOp::kAdd, input, id, name + ".add") : id;
}

}  // namespace oqa::nn
