// The neural channel expansion search: bilevel (weights on the training split, architecture logits on the
// validation split) differentiable width search of a quantized ResNet space with expansion, in a run folder.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "oqa/nce/nce_options.h"
#include "oqa/train/experiment.h"

namespace oqa::nce {

// Searches the widths of experiment.space (a resnet space) at nce.bits under the budget, resuming from
// <run>/nce/checkpoints/last.pt when there is one. Writes into run_dir: config.json (the run config with
// every group's candidates, expansions included, as space.widths, so `oqa train --run RUN --subnet`,
// `oqa eval` and `oqa export` take the subnets below), found.json (the searched architecture) and base.json
// (every group at its base width), nce/result.json, metrics.jsonl and widths.png. Returns result.json:
// {"budget", "metric", "target", "found": {"widths", "cost"}, "base": {...}, "groups", "probabilities",
// "expansions", "search_s"}.
nlohmann::json run_nce(const train::Experiment& experiment, const NceOptions& options,
                       const std::string& run_dir);

}  // namespace oqa::nce
