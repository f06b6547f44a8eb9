// Subnet evaluation: activate a subnet, recalibrate its BN statistics on training images, measure top-1.
#pragma once

#include <cstdint>
#include <string>

#include "oqa/data/dataset.h"
#include "oqa/data/loader.h"
#include "oqa/space/supernet.h"
#include "oqa/train/evaluate.h"

namespace oqa::train {

struct SubnetEvalSetup {
  data::DatasetPtr calibration;  // training images for BN recalibration
  data::LoaderOptions loader;    // evaluation loader options (no augmentation, no shuffle)
  int64_t bn_images = 2000;
};

// Evaluation options from the training loader's: same normalisation, no augmentation, no shuffle, keeps
// the last partial batch.
data::LoaderOptions eval_loader_options(const data::LoaderOptions& train, int64_t batch_size);

// Sets subnet active and recalibrates BN on setup.bn_images training images (seeded shuffle); leaves the
// supernet in eval mode with the recalibrated statistics (what evaluation and export start from).
void prepare_subnet(space::Supernet& net, const space::Subnet& subnet, const SubnetEvalSetup& setup);

// prepare_subnet, then evaluates the subnet in eval mode on `eval_set`. The supernet is left in eval mode with the recalibrated statistics.
EvalResult evaluate_subnet(space::Supernet& net, const space::Subnet& subnet, const data::DatasetPtr& eval_set,
                           const SubnetEvalSetup& setup, const std::string& label = "eval");

}  // namespace oqa::train
