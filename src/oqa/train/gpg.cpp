// GPG step: each subnet distils from the previous one in the chain, half KD and half CE.
#include "oqa/train/gpg.h"

#include "oqa/train/distill_loss.h"
#include "oqa/util/error.h"

namespace oqa::train {

StepResult gpg_step(space::Supernet& net, const data::Batch& batch, const std::vector<space::Subnet>& subnets,
                    const DistillOptions& o) {
  OQA_ASSERT(subnets.size() >= 2, "the GPG step needs the largest and the smallest subnet");
  const torch::Tensor& labels = batch.labels;
  std::vector<SubnetPass> passes;
  passes.push_back(run_subnet(net, subnets[0], batch.images, labels, [&](const torch::Tensor& logits) {
    return label_smoothed_ce(logits, labels, o.label_smoothing);
  }, o.wdr_weight));
  // H teaches every random subnet; the last random subnet teaches the smallest.
  const torch::Tensor from_largest = soft_labels(passes[0].logits);
  for (size_t i = 1; i < subnets.size(); ++i) {
    const bool smallest = i + 1 == subnets.size();
    const torch::Tensor teacher = smallest ? soft_labels(passes.back().logits) : from_largest;
    passes.push_back(run_subnet(net, subnets[i], batch.images, labels, [&](const torch::Tensor& logits) {
      return 0.5 * kd_loss(logits, teacher) + 0.5 * label_smoothed_ce(logits, labels);
    }, o.wdr_weight));
  }
  return finish_step(passes, o);
}

}  // namespace oqa::train
