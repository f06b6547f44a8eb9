// One stage of supernet training (float, w4a4, ...): optimizer, schedule, sandwich/GPG steps in a TrainLoop.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "oqa/data/registry.h"
#include "oqa/space/supernet.h"
#include "oqa/train/experiment.h"
#include "oqa/train/metrics.h"
#include "oqa/train/subnet_eval.h"
#include "oqa/train/supernet_options.h"

namespace oqa::train {

// What every stage of a run shares.
struct StageContext {
  const Experiment& experiment;
  std::string run_dir;
  data::Splits splits;
  MetricsLog& metrics;
  SubnetEvalSetup eval;  // BN recalibration and evaluation loader settings
};

// Folder and checkpoint of a stage in a run directory.
std::string stage_dir(const std::string& run_dir, const std::string& stage);
std::string stage_checkpoint(const std::string& run_dir, const std::string& stage);

// Trains `stage` of the supernet into <run>/<stage>, resuming from its checkpoint when there is one (then
// the supernet's current weights are replaced by it). Without a checkpoint the supernet must already hold the
// stage's initial weights. A stage of 0 epochs only writes its checkpoint (e.g. to evaluate an inherited
// supernet before fine-tuning). Throws a numeric Error on a NaN/Inf loss, keeping the last checkpoint.
void train_stage(space::Supernet& net, const SupernetStage& stage, StageContext& ctx);

// Top-1 of the largest and smallest subnet at the stage's quantization, BN recalibrated, on validation (when
// the split has one) and test: {"largest": {"val_top1", "test_top1"}, "smallest": {...}}.
nlohmann::json evaluate_stage(space::Supernet& net, const SupernetStage& stage, StageContext& ctx);

}  // namespace oqa::train
