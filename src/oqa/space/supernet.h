// Supernet: the weight-sharing elastic quantized network of a space; one subnet is active at a time.
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <torch/nn/module.h>
#include <torch/types.h>

#include "oqa/nn/layer_quantizer.h"
#include "oqa/nn/static_model.h"
#include "oqa/space/space.h"

namespace oqa::space {

// Common interface of Mbv3Supernet and ResNetSupernet (make_supernet builds the right one). Parameters are
// shared by every subnet; every quantizer entry the space can ask is created at construction, so an optimizer
// built afterwards sees all step sizes. The largest subnet is active after construction.
class Supernet : public torch::nn::Module {
 public:
  // Validates subnet against the space and activates it (choices, quantizer specs, resolution).
  void set_active(const Subnet& subnet);
  const Subnet& active() const { return active_; }
  const Space& space() const { return *space_; }
  std::shared_ptr<const Space> space_ptr() const { return space_; }

  // "oqa::space::Supernet(mbv3, active=<the active subnet's JSON>)"; `stream << supernet` prints it and then
  // every module with its active choices (LibTorch's module printing).
  void pretty_print(std::ostream& stream) const override;

  // Resizes x (NCHW) to the active resolution when needed (bilinear) and runs the active subnet. The layer
  // quantizers then hold the weights this forward quantized (LayerQuantizer::last_quantized_weight) and no
  // older ones.
  torch::Tensor forward(const torch::Tensor& x);

  // A plain static model of the active subnet (see extract_static).
  nn::StaticModel extract();

  // The LayerQuantizer of every layer slot, in slot order, with the slot's name.
  const std::vector<std::pair<std::string, nn::LayerQuantizer>>& layer_quantizers() const {
    return quantizers_;
  }

 protected:
  explicit Supernet(std::shared_ptr<const Space> space);
  // Subclass constructors call this after registering every module: collects the LayerQuantizers in
  // registration order, checks their names against the space's layer slots, creates the quantizer entries
  // and activates the largest subnet.
  void finish_construction();

  virtual void apply_arch(const Subnet& subnet) = 0;
  virtual torch::Tensor forward_active(const torch::Tensor& x) = 0;
  virtual void append_static(nn::StaticModel& model) = 0;

 private:
  std::shared_ptr<const Space> space_;
  Subnet active_;
  std::vector<std::pair<std::string, nn::LayerQuantizer>> quantizers_;
};

// Builds the supernet of a space (kind "mbv3" or "resnet").
std::shared_ptr<Supernet> make_supernet(std::shared_ptr<const Space> space);

// Static extraction: a plain non-elastic model of `subnet` (kernels transformed, channels sliced, BN
// statistics sliced, step sizes and offsets copied, quantizer specs fixed) whose output equals the supernet's
// with that subnet active (in eval mode). The supernet's previously active subnet is restored afterwards.
// Throws when a quantizer entry the subnet uses was never initialised (run the subnet forward once first).
nn::StaticModel extract_static(Supernet& supernet, const Subnet& subnet);

}  // namespace oqa::space
