// SearchOptions: the "search" section of an experiment config (accuracy dataset, predictor, algorithm,
// budgets); `oqa search` flags override it.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "oqa/search/evolution.h"
#include "oqa/search/predictor.h"
#include "oqa/util/config.h"

namespace oqa::search {

struct SearchOptions {
  int64_t samples = 1000;  // (subnet, validation top-1) pairs of the accuracy dataset
  int64_t val_images = 0;  // validation images per measurement (0: the whole split)
  int64_t bn_images = -1;  // BN recalibration images per measurement (-1: supernet.bn_recal_images)
  PredictorOptions predictor;  // its encoding is set per trained predictor
  // The predictor that drives the search: "auto" (of the encodings trained, the one with the best held-out
  // Kendall tau) or an encoding name ("arch" | "quant" | "cond").
  std::string predictor_encoding = "auto";
  std::string predictor_precision = "auto";  // "auto" | "float32" | "bfloat16": the search's forward passes
  EvolutionOptions evolution;
  std::string objective = "bitops";  // cost axis of the front and the plot
  std::vector<std::string> budgets;  // default budgets, "KIND=VALUE"
  HardwareProfile profile;           // forms the target runs (empty: every form of the space)
  int64_t top = 5;           // best candidates measured on validation (the best of them wins) and test
  int64_t front_points = 8;  // front candidates measured for the plot
  // A stage with searched quantization also measures its uniform anchors (uniform_anchors) on validation, and
  // the best of candidates and anchors wins.
  bool anchors = true;
};

// Reads the section (every key optional); values out of range name the key.
SearchOptions read_search_options(util::ConfigNode node);

}  // namespace oqa::search
