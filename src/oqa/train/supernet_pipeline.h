// Supernet pipeline: runs the stage list of a config (float -> w4a4 -> w3a3 -> w2a2, optional direct baseline)
// in one run directory, resuming at the right stage, and writes summary.json.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "oqa/train/experiment.h"

namespace oqa::train {

struct PipelineOptions {
  // --from-scratch: only the float stage and the direct baseline at direct_bits (no inheritance stages).
  bool direct_only = false;
};

// The stages to run, in order: the config's stages, then the direct baseline when supernet.direct_bits > 0
// (with direct_only: the first (float) stage and the direct baseline).
std::vector<SupernetStage> pipeline_stages(const SupernetOptions& options, bool direct_only);

// The stage a stage starts from ("" for the first; the float stage for the direct baseline).
std::string parent_stage(const std::vector<SupernetStage>& stages, size_t index);

// Trains every stage into <run_dir>/<stage>/ (each starts from its parent's final checkpoint, see init_stage),
// evaluates largest and smallest after each (<stage>/result.json), and writes <run_dir>/summary.json:
// {"name", "space", "stages": [{"stage", "quant", "epochs", "init", "largest": {"val_top1", "test_top1"},
// "smallest": {...}}]}. Returns the summary.
nlohmann::json run_supernet_pipeline(const Experiment& experiment, const std::string& run_dir,
                                     const PipelineOptions& options = {});

}  // namespace oqa::train
