// Supernet: activation of subnets, quantizer binding, resizing forward, and extraction.
#include "oqa/space/supernet.h"

#include <ostream>

#include "oqa/data/transforms.h"
#include "oqa/space/mbv3_supernet.h"
#include "oqa/space/resnet_supernet.h"
#include "oqa/util/device.h"
#include "oqa/util/error.h"

namespace oqa::space {
namespace {

// "stages.1.0.dw.conv.quantizer" -> "stages.1.0.dw"; "classifier.quantizer" -> "classifier".
std::string layer_name(std::string path) {
  for (const std::string suffix : {".quantizer", ".conv"})
    if (path.size() > suffix.size() && path.compare(path.size() - suffix.size(), suffix.size(), suffix) == 0)
      path.resize(path.size() - suffix.size());
  return path;
}

}  // namespace

Supernet::Supernet(std::shared_ptr<const Space> space) : space_(std::move(space)) {
  OQA_ASSERT(space_ != nullptr, "a supernet needs a space");
}

void Supernet::finish_construction() {
  for (const auto& item : named_modules("", /*include_self=*/false)) {
    if (auto q = std::dynamic_pointer_cast<nn::LayerQuantizerImpl>(item.value()))
      quantizers_.emplace_back(layer_name(item.key()), nn::LayerQuantizer(q));
  }
  const auto& slots = space_->layer_slots();
  OQA_ASSERT(quantizers_.size() == slots.size(), "supernet layers (" + std::to_string(quantizers_.size()) +
                                                     ") do not match the space's layer slots (" +
                                                     std::to_string(slots.size()) + ")");
  for (size_t i = 0; i < slots.size(); ++i) {
    OQA_ASSERT(quantizers_[i].first == slots[i].name,
               "supernet layer " + quantizers_[i].first + " where the space has " + slots[i].name);
    quantizers_[i].second->create_entries(space_->weight_specs(slots[i]), space_->input_specs(slots[i]));
  }
  set_active(space_->largest());
}

void Supernet::set_active(const Subnet& subnet) {
  space_->validate(subnet);
  const std::vector<nn::LayerQuantSpecs> specs = space_->layer_specs(subnet);
  for (size_t i = 0; i < specs.size(); ++i) quantizers_[i].second->set_specs(specs[i]);
  apply_arch(subnet);
  active_ = subnet;
}

void Supernet::pretty_print(std::ostream& stream) const {
  stream << "oqa::space::Supernet(" << space_->kind() << ", active=" << to_string(active_) << ")";
}

torch::Tensor Supernet::forward(const torch::Tensor& x) {
  if (x.dim() != 4 || x.size(1) != space_->input_channels())
    throw util::input_error("supernet input must be NCHW with " + std::to_string(space_->input_channels()) +
                            " channels")
        .field("input")
        .value(c10::str(x.sizes()));
  for (auto& q : quantizers_) q.second->forget_last_quantized_weight();
  return forward_active(data::resize_batch(x, active_.resolution));
}

nn::StaticModel Supernet::extract() {
  torch::NoGradGuard no_grad;
  nn::StaticModel model(space_->input_channels(), active_.resolution);
  append_static(model);
  return model;
}

std::shared_ptr<Supernet> make_supernet(std::shared_ptr<const Space> space) {
  std::shared_ptr<Supernet> net;
  if (auto m = std::dynamic_pointer_cast<const Mbv3Space>(space)) net = std::make_shared<Mbv3Supernet>(m);
  if (auto r = std::dynamic_pointer_cast<const ResNetSpace>(space)) net = std::make_shared<ResNetSupernet>(r);
  if (net) {
    net->to(util::compute_device());
    return net;
  }
  throw util::internal_error("no supernet for space kind " + (space ? space->kind() : std::string("null")));
}

nn::StaticModel extract_static(Supernet& supernet, const Subnet& subnet) {
  const Subnet previous = supernet.active();
  supernet.set_active(subnet);
  try {
    // Static models (export, latency tables, the deploy reference) live on the CPU.
    nn::StaticModel model = supernet.extract().to(torch::kCPU);
    supernet.set_active(previous);
    return model;
  } catch (...) {
    supernet.set_active(previous);
    throw;
  }
}

}  // namespace oqa::space
