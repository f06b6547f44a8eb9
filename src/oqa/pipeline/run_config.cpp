// Reading a whole run config: search section first (its defaults land in the resolved config), then training.
#include "oqa/pipeline/run_config.h"

namespace oqa::pipeline {

RunConfig read_run_config(util::Config& config) {
  RunConfig c;
  util::ConfigNode root = config.root();
  if (root.has("space")) c.search = search::read_search_options(root.child("search"));
  c.experiment = train::read_experiment(config);
  config.check_unknown();
  return c;
}

search::SearchOptions read_run_search_options(const std::string& run_dir) {
  util::Config config = util::Config::load(run_dir + "/config.json");
  return read_run_config(config).search;
}

}  // namespace oqa::pipeline
