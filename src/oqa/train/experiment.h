// Experiment: every setting of a run, read once from a JSON config (unknown keys are errors).
#pragma once

#include <memory>
#include <string>

#include "oqa/data/loader.h"
#include "oqa/data/registry.h"
#include "oqa/space/space.h"
#include "oqa/train/optimizer.h"
#include "oqa/train/supernet_options.h"
#include "oqa/util/config.h"

namespace oqa::train {

struct ModelOptions {
  std::string kind = "baseline-cnn";
  int64_t width = 32;
};

struct TrainOptions {
  int64_t epochs = 4;
  OptimizerOptions optimizer;
  double warmup_epochs = 0.3;
  double min_lr = 0.0;
  double label_smoothing = 0.1;
  double grad_clip = 0.0;
  double step_size_max_change = 0.1;  // one update moves an LSQ step size by at most this factor (0 = off)
  int64_t checkpoint_every = 200;
  int64_t log_every = 50;
  int64_t eval_batch_size = 500;
};

struct Experiment {
  std::string name = "experiment";
  uint64_t seed = 0;
  data::DataOptions data;
  data::LoaderOptions loader;  // batch size, workers, augmentation, seed
  ModelOptions model;                       // float baseline (configs without a "space" section)
  std::shared_ptr<const space::Space> space;  // set when the config has a "space" section: supernet pipeline
  SupernetOptions supernet;                 // the "supernet" section (read only with a space)
  TrainOptions train;
  util::Json resolved;         // the whole config with defaults filled in (written to <run>/config.json)
  std::string hash;            // of the settings that define the run (not workers or logging)

  bool is_supernet() const { return space != nullptr; }
};

// Reads every section but "search" (read by the search module: pipeline::read_run_config reads both), fills
// defaults, then fails on any other key nobody read.
Experiment read_experiment(util::Config& config);

}  // namespace oqa::train
