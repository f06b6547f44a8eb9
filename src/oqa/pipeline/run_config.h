// RunConfig: a whole run config, the training experiment with the search section beside it.
#pragma once

#include <string>

#include "oqa/search/search_options.h"
#include "oqa/train/experiment.h"
#include "oqa/util/config.h"

namespace oqa::pipeline {

struct RunConfig {
  train::Experiment experiment;
  search::SearchOptions search;  // the "search" section (read only with a space)
};

// Reads the "search" section (configs with a space), then every training section (train::read_experiment),
// filling defaults, then fails on any key nobody read.
RunConfig read_run_config(util::Config& config);

// The "search" section of a trained run (RUN/config.json).
search::SearchOptions read_run_search_options(const std::string& run_dir);

}  // namespace oqa::pipeline
