// Reading a whole run config: search section first (its defaults land in the resolved config), then training.
#include "oqa/pipeline/run_config.h"

namespace oqa::pipeline {

RunConfig read_run_config(util::Config& config) {
  RunConfig c;
  util::ConfigNode root = config.root();
  if (root.has("space")) c.search = search::read_search_options(root.child("search"));
  c.experiment = train::read_experiment(config);
  config.check_unknown({"nce"});  // `oqa nce` reads its own section
  return c;
}

search::SearchOptions read_run_search_options(const std::string& run_dir) {
  // The run's config.json was checked whole when the run was made, and train::load_run reads the rest: only
  // the search section is read here (no second space or experiment).
  util::Config config = util::Config::load(run_dir + "/config.json");
  return search::read_search_options(config.root().child("search"));
}

}  // namespace oqa::pipeline
