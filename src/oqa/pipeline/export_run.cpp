// export_subnet: load run, BN-recalibrate the chosen subnet, extract it as a static model.
#include "oqa/pipeline/export_run.h"

#include <filesystem>

#include <torch/torch.h>

#include "oqa/cost/cost.h"
#include "oqa/data/registry.h"
#include "oqa/space/supernet.h"
#include "oqa/train/run_reader.h"
#include "oqa/train/subnet_eval.h"
#include "oqa/util/config.h"
#include "oqa/util/error.h"

namespace oqa::pipeline {

deploy::DeployModel export_subnet(const ExportSource& source) {
  train::LoadedRun run = train::load_run(source.run, source.stage);
  const train::Experiment& e = run.experiment;
  std::string arg = source.subnet;
  if (arg == "best") {
    arg = source.run + "/search/" + run.stage.name + "/best.json";
    if (!std::filesystem::exists(arg))
      throw util::input_error("no searched subnet for stage " + run.stage.name + ": run `oqa search --run " +
                              source.run + " --stage " + run.stage.name +
                              "` first, or pass --subnet largest|smallest|FILE")
          .file(arg);
  }
  const space::Subnet subnet = train::read_subnet_arg(*e.space, arg, run.stage.quant);
  int64_t bn_images = source.bn_images >= 0 ? source.bn_images : e.supernet.bn_recal_images;
  if (source.subnet == "best" && source.bn_images < 0) {
    // The searched subnet is exported as the search measured it: with the search's BN calibration size.
    const std::string record = source.run + "/search/" + run.stage.name + "/search.json";
    if (std::filesystem::exists(record)) {
      const util::Json j = util::read_json(record);
      bn_images = j.value("accuracy_dataset", util::Json::object()).value("bn_images", bn_images);
    }
  }
  const data::Splits splits = data::open_splits(e.data, e.seed);
  const train::SubnetEvalSetup setup{
      splits.train, train::eval_loader_options(e.loader, e.train.eval_batch_size), bn_images};
  torch::NoGradGuard no_grad;
  train::prepare_subnet(*run.net, subnet, setup);
  deploy::DeployModel m(space::extract_static(*run.net, subnet));
  m.mean = e.loader.transform.mean;
  m.std = e.loader.transform.std;
  m.info = {{"run", source.run},
            {"stage", run.stage.name},
            {"subnet", space::to_json(subnet)},
            {"subnet_source", arg},
            {"bn_images", setup.bn_images},
            {"cost", cost::count(*e.space, subnet).to_json()},
            {"data",
             {{"dataset", e.data.dataset},
              {"root", e.data.root},
              {"seed", e.seed},
              {"val_fraction", e.data.val_fraction},
              {"val_images", e.data.val_images},
              {"image_size", e.data.image_size},
              {"channels", e.data.channels},
              {"synthetic", {e.data.synthetic_train, e.data.synthetic_test, e.data.synthetic_classes}},
              {"class_names", splits.train->class_names()}}},
            {"oqa_version", OQA_VERSION}};
  try {
    deploy::check_finite(m);
  } catch (util::Error& err) {
    throw err.file(source.run + "/" + run.stage.name);
  }
  return m;
}

}  // namespace oqa::pipeline
