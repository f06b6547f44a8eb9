// DeployModel's queries and its float-weight variant.
#include "oqa/deploy/deploy_model.h"

#include "oqa/util/error.h"

namespace oqa::deploy {

int64_t DeployModel::classes() const {
  OQA_ASSERT(!model.layers().empty(), "deploy model has no layers");
  return model.out_channels(static_cast<int>(model.layers().size()) - 1);
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
