// The `oqa search` pipeline on a trained run: accuracy dataset on validation -> predictors -> evolution / GA
// under budgets (+ random search baseline) -> candidates measured on validation and test -> pareto.json/.csv/
// .png, best.json and search.json in <run>/search/<stage>/.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "oqa/search/budget.h"
#include "oqa/search/search_options.h"
#include "oqa/train/run_reader.h"

namespace oqa::pipeline {

struct SearchRequest {
  search::SearchOptions options;  // the run config's "search" section with command-line overrides applied
  std::vector<search::Budget> budgets;
  std::string latency_table;  // needed by latency budgets / objective
  std::string out_dir;        // default <run>/search/<stage>
  bool plot = true;
};

// A subnet's costs without latency, as the search counts them: totals over every layer (float ones at 32 bits),
// average bit-widths over the quantized layers only.
search::Costs subnet_costs(const space::Space& space, const space::Subnet& subnet);

// Returns the summary written to search.json.
nlohmann::json run_search(train::LoadedRun& run, const std::string& run_dir, const SearchRequest& request);

}  // namespace oqa::pipeline
