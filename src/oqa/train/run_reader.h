// RunReader: opens a finished (or partial) supernet run directory for evaluation: config, space, stage weights.
#pragma once

#include <memory>
#include <string>

#include "oqa/space/supernet.h"
#include "oqa/train/experiment.h"
#include "oqa/train/supernet_options.h"

namespace oqa::train {

struct LoadedRun {
  Experiment experiment;
  SupernetStage stage;  // the stage whose weights are loaded
  std::shared_ptr<space::Supernet> net;
};

// Reads <run>/config.json and loads <run>/<stage>/checkpoints/last.pt into a fresh supernet. stage "" picks
// the last stage of the pipeline (direct baseline excluded) that has a checkpoint; "retrain/<folder>" a
// subnet retrained by `oqa train --run RUN --subnet S` (at its bits). Errors name the run, the stage and the
// stages available.
LoadedRun load_run(const std::string& run_dir, const std::string& stage = "");

// The subnet a command line names: "largest" / "smallest" (at the stage's quantization) or a subnet JSON file
// (a file without "quant" gets the stage's). Errors name the file and field.
space::Subnet read_subnet_arg(const space::Space& space, const std::string& arg, const std::string& stage_quant);

}  // namespace oqa::train
