// Sandwich step: largest with CE, the others distilled from the largest.
#include "oqa/train/sandwich.h"

#include "oqa/train/distill_loss.h"
#include "oqa/util/error.h"

namespace oqa::train {

StepResult sandwich_step(space::Supernet& net, const data::Batch& batch, const std::vector<space::Subnet>& subnets,
                         const DistillOptions& o, const torch::Tensor& frozen_teacher) {
  OQA_ASSERT(!subnets.empty(), "the sandwich step needs at least the largest subnet");
  const torch::Tensor& labels = batch.labels;
  std::vector<SubnetPass> passes;
  passes.push_back(run_subnet(net, subnets[0], batch.images, labels, [&](const torch::Tensor& logits) {
    return label_smoothed_ce(logits, labels, o.label_smoothing);
  }, o.wdr_weight));
  const torch::Tensor teacher = frozen_teacher.defined() ? frozen_teacher : soft_labels(passes[0].logits);
  for (size_t i = 1; i < subnets.size(); ++i)
    passes.push_back(run_subnet(net, subnets[i], batch.images, labels, [&](const torch::Tensor& logits) {
      torch::Tensor loss = kd_loss(logits, teacher);
      return o.kd_ce_weight > 0 ? loss + o.kd_ce_weight * label_smoothed_ce(logits, labels) : loss;
    }, o.wdr_weight));
  return finish_step(passes, o);
}

}  // namespace oqa::train
