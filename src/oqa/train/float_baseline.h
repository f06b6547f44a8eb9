// Float baseline: trains the BaselineCnn of an experiment in a run directory and tests it.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "oqa/train/experiment.h"

namespace oqa::train {

// Trains (or resumes) into <run_dir>/float and returns {"val_top1", "test_top1", ...}; writes
// <run_dir>/summary.json.
nlohmann::json run_float_baseline(const Experiment& experiment, const std::string& run_dir);

}  // namespace oqa::train
