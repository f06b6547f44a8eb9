// DeployModel's queries, its finiteness check and its float-weight variant.
#include "oqa/deploy/deploy_model.h"

#include <cmath>

#include <torch/torch.h>

#include "oqa/util/error.h"

namespace oqa::deploy {

int64_t DeployModel::classes() const {
  OQA_ASSERT(!model.layers().empty(), "deploy model has no layers");
  return model.out_channels(static_cast<int>(model.layers().size()) - 1);
}

void check_finite(const DeployModel& m) {
  for (const nn::StaticLayer& l : m.model.layers()) {
    auto check = [&](const torch::Tensor& t, const char* what) {
      if (t.defined() && !torch::isfinite(t).all().item<bool>())
        throw util::input_error(std::string("the subnet's ") + what +
                                " holds a non-finite value (NaN or Inf): the stage diverged or collapsed; "
                                "nothing written")
            .field("layers." + l.name);
    };
    check(l.weight, "weight");
    check(l.bias, "bias");
    check(l.weight_quant.step_size, "weight step sizes");
    check(l.weight_quant.offset, "weight offsets");
    check(l.input_quant.step_size, "input step sizes");
    check(l.input_quant.offset, "input offsets");
    if (l.batch_norm) {
      check(l.batch_norm->weight, "batch-norm weight");
      check(l.batch_norm->bias, "batch-norm bias");
      check(l.batch_norm->running_mean, "batch-norm running mean");
      check(l.batch_norm->running_var, "batch-norm running variance");
    }
  }
  for (const auto* v : {&m.mean, &m.std})
    for (float x : *v)
      if (!std::isfinite(x)) throw util::input_error("input normalisation holds a non-finite value").field("input");
}

DeployModel float_weights(const DeployModel& m) {
  DeployModel out(nn::StaticModel(m.model.in_channels(), m.model.resolution()));
  out.mean = m.mean;
  out.std = m.std;
  out.info = m.info;
  for (nn::StaticLayer l : m.model.layers()) {
    if (l.op == nn::StaticOp::kConv || l.op == nn::StaticOp::kLinear) {
      l.weight_quant = nn::StaticQuant{};
      l.input_quant = nn::StaticQuant{};
    }
    out.model.add(std::move(l));
  }
  return out;
}

}  // namespace oqa::deploy
