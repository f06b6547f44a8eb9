// Retrain baseline: one fixed subnet of a run's space trained alone with LSQ (OQA's "no retraining" check).
#pragma once

#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "oqa/train/experiment.h"

namespace oqa::train {

struct RetrainOptions {
  std::string subnet = "largest";  // a subnet JSON file of the space, "largest" or "smallest"
  int bits = 2;                    // every searched layer at w<bits>a<bits>; 0: the subnet's own quantization
  int64_t epochs = 0;              // trained as given; 0: the run's stage at these bits (with min_stage_steps)
  double lr = 0;                   // 0: the learning rate of the run's stage at these bits (bits 0: mixed)
  bool from_scratch = false;       // random weights instead of the float stage's
};

// Trains the subnet alone (label-smoothed cross-entropy, the run's optimizer and cosine schedule, LSQ step
// sizes from data) into <run>/retrain/<name>-<w<b>a<b> | own>-e<epochs>-lr<lr>[-scratch]/, starting from the float
// stage's final weights (or random ones), resumable like any stage; then measures it (BN recalibrated) on
// validation and test. Writes and returns result.json: {"subnet", "quant" ("w2a2", or "own" for bits 0),
// "subnet_quant" (the quantization trained), "epochs", "lr", "init", "test_top1", "val_top1", "dir"}.
nlohmann::json retrain_subnet(const Experiment& experiment, const std::string& run_dir, const RetrainOptions& o);

}  // namespace oqa::train
