// One subnet's forward/backward and the common end of a distillation step.
#include "oqa/train/subnet_pass.h"

#include "oqa/train/wdr_loss.h"
#include "oqa/util/error.h"

namespace oqa::train {

SubnetPass run_subnet(space::Supernet& net, const space::Subnet& subnet, const torch::Tensor& images,
                      const torch::Tensor& labels, const SubnetLossFn& loss_fn) {
  net.set_active(subnet);
  torch::Tensor logits = net.forward(images);
  torch::Tensor loss = loss_fn(logits);
  loss.backward();
  SubnetPass p;
  p.logits = logits.detach();
  p.loss = loss.item<double>();
  p.top1 = 100.0 * p.logits.argmax(1).eq(labels).sum().item<double>() / static_cast<double>(labels.size(0));
  return p;
}

StepResult finish_step(space::Supernet& net, const std::vector<SubnetPass>& passes, const DistillOptions& o) {
  OQA_ASSERT(!passes.empty(), "a distillation step runs at least one subnet");
  StepResult r;
  for (const SubnetPass& p : passes) r.loss += p.loss;
  if (o.wdr_weight > 0) {
    torch::Tensor wdr = o.wdr_weight * wdr_loss(wdr_weights(net));
    wdr.backward();
    r.metrics["wdr"] = wdr.item<double>();
    r.loss += r.metrics["wdr"].get<double>();
  }
  r.metrics["loss_largest"] = passes.front().loss;
  r.metrics["loss_smallest"] = passes.back().loss;
  r.metrics["train_top1_largest"] = passes.front().top1;
  r.metrics["train_top1_smallest"] = passes.back().top1;
  return r;
}

}  // namespace oqa::train
