// evaluate_subnet: set_active, recalibrate_bn, evaluate.
#include "oqa/train/subnet_eval.h"

#include "oqa/train/bn_recalibrate.h"

namespace oqa::train {

data::LoaderOptions eval_loader_options(const data::LoaderOptions& train, int64_t batch_size) {
  data::LoaderOptions o = train;
  o.batch_size = batch_size;
  o.shuffle = false;
  o.drop_last = false;
  o.transform = data::without_augmentation(o.transform);
  return o;
}

void prepare_subnet(space::Supernet& net, const space::Subnet& subnet, const SubnetEvalSetup& setup) {
  net.set_active(subnet);
  if (setup.bn_images > 0 && setup.calibration) {
    data::LoaderOptions calib = setup.loader;
    calib.shuffle = true;
    data::Loader calib_loader(setup.calibration, calib);
    recalibrate_bn(net, [&](const torch::Tensor& x) { return net.forward(x); }, calib_loader, setup.bn_images);
  }
  net.eval();
}

EvalResult evaluate_subnet(space::Supernet& net, const space::Subnet& subnet, const data::DatasetPtr& eval_set,
                           const SubnetEvalSetup& setup, const std::string& label) {
  prepare_subnet(net, subnet, setup);
  auto forward = [&](const torch::Tensor& x) { return net.forward(x); };
  data::Loader loader(eval_set, setup.loader);
  return evaluate(forward, loader, label);
}

}  // namespace oqa::train
