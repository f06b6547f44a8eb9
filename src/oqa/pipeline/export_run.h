// Export from a run: from a trained supernet run to a DeployModel of one subnet (BN recalibrated, static, no
// retraining).
#pragma once

#include <cstdint>
#include <string>

#include "oqa/deploy/deploy_model.h"

namespace oqa::pipeline {

struct ExportSource {
  std::string run;    // run directory of `oqa train`
  std::string stage;  // stage folder ("" = the last trained)
  std::string subnet =
      "best";              // best (RUN/search/<stage>/best.json) | largest | smallest | a subnet JSON file
  int64_t bn_images = -1;  // BN recalibration images (-1: the run's config)
};

// Loads the stage's weights, activates the subnet, recalibrates its batch norms on training images and
// extracts the static model with its trained step sizes. info records the run, stage, subnet, costs and the
// dataset (name, root, seed, val_fraction) so `oqa infer` can find the same test images.
deploy::DeployModel export_subnet(const ExportSource& source);

}  // namespace oqa::pipeline
