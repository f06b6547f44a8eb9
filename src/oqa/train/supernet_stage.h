// One stage of supernet training (float, w4a4, ...): optimizer, schedule, sandwich/GPG steps in a TrainLoop.
#pragma once

#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "oqa/data/registry.h"
#include "oqa/space/supernet.h"
#include "oqa/train/experiment.h"
#include "oqa/train/metrics.h"
#include "oqa/train/schedule.h"
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
// The config hash a stage's checkpoints carry: the run's, and for the direct baseline also its settings.
std::string stage_config_hash(const Experiment& e, const SupernetStage& stage);

// Trains `stage` of the supernet into <run>/<stage>, resuming from its checkpoint when there is one (then
// the supernet's current weights are replaced by it). Without a checkpoint the supernet must already hold the
// stage's initial weights. A stage of 0 epochs only writes its checkpoint (e.g. to evaluate an inherited
// supernet before fine-tuning). Throws a numeric Error on a NaN/Inf loss, keeping the last checkpoint; it names
// links.earlier_checkpoint (the parent stage's) when the stage has none of its own yet.
// A stage whose teacher is not "self" distils from teacher_checkpoint's supernet (frozen, its largest subnet at
// teacher_quant).
// A set fixed_subnet trains that one subnet alone (cross-entropy, no sandwich): the retrain baseline.
struct StageLinks {
  std::string earlier_checkpoint;
  std::string teacher_checkpoint;
  std::string teacher_quant;
  std::optional<space::Subnet> fixed_subnet;
};
// Returns the epochs trained (see trained_epochs).
double train_stage(space::Supernet& net, const SupernetStage& stage, StageContext& ctx, const StageLinks& links = {});

// The epochs a stage trains: its configured epochs (a fraction allowed), raised (unless 0) to the whole epochs
// that make at least min_steps optimizer steps, so a stage on a small dataset (35 steps per epoch on 5000
// images) still has room to adapt.
double trained_epochs(double epochs, int64_t steps_per_epoch, int64_t min_steps);
// Epochs as a JSON number: an integer when whole (result files keep "epochs": 1), else the fraction.
nlohmann::json epochs_json(double epochs);

// The learning-rate schedule of `stage` (one of sn.stages, or the direct baseline): its own warm-up and cosine,
// or, when it continues its parent's (continue_schedule), its part of one cosine over the chain of stages from
// the last restarting one to the last continuing one after it (that first stage's lr and warm-up).
ScheduleOptions stage_schedule(const SupernetOptions& sn, const SupernetStage& stage, const TrainOptions& train,
                               int64_t steps_per_epoch);

// Top-1 of the largest and smallest subnet at the stage's quantization, BN recalibrated, on validation (when
// the split has one) and test: {"largest": {"val_top1", "test_top1"}, "smallest": {...}}. The supernet's
// buffers (BN running statistics) are as before when it returns.
nlohmann::json evaluate_stage(space::Supernet& net, const SupernetStage& stage, StageContext& ctx);

}  // namespace oqa::train
