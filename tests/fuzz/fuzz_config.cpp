// Fuzz harness: an experiment config (any JSON) through the run-config reader: every section, range and
// choice check, the space builder, and the largest and smallest subnets of a space that builds.
#include <nlohmann/json.hpp>

#include "fuzz/fuzz_support.h"
#include "oqa/pipeline/run_config.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const nlohmann::json j = oqa::fuzz::json_input(data, size);
  if (j.is_discarded()) return 0;
  oqa::fuzz::expect_clear_errors([&] {
    oqa::util::Config config = oqa::util::Config::from_json(j, "fuzz.json");
    const oqa::pipeline::RunConfig r = oqa::pipeline::read_run_config(config);
    if (r.experiment.space) {
      r.experiment.space->largest();
      r.experiment.space->smallest();
    }
  });
  return 0;
}
