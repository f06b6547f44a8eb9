// load_run: config -> experiment -> supernet, then the stage checkpoint.
#include "oqa/train/run_reader.h"

#include <filesystem>

#include "oqa/train/checkpoint.h"
#include "oqa/train/supernet_pipeline.h"
#include "oqa/space/subnet_sampler.h"
#include "oqa/train/supernet_stage.h"
#include "oqa/util/config.h"
#include "oqa/util/error.h"

namespace oqa::train {

LoadedRun load_run(const std::string& run_dir, const std::string& stage) {
  util::Config config = util::Config::load(run_dir + "/config.json");
  LoadedRun run{read_experiment(config), {}, nullptr};
  const Experiment& e = run.experiment;
  if (!e.is_supernet())
    throw util::input_error("not a supernet run (its config has no \"space\" section)").file(run_dir + "/config.json");
  std::vector<SupernetStage> stages = e.supernet.stages;
  if (e.supernet.direct_bits > 0) stages.push_back(direct_stage(e.supernet));
  std::string names;
  const SupernetStage* chosen = nullptr;
  for (const SupernetStage& s : stages) {
    names += (names.empty() ? "" : ", ") + s.name;
    if (!stage.empty() && s.name == stage) chosen = &s;
    if (stage.empty() && s.name.rfind("direct-", 0) != 0 && std::filesystem::exists(stage_checkpoint(run_dir, s.name)))
      chosen = &s;
  }
  if (!chosen && !stage.empty()) {  // "direct-w2a2" names the one baseline whose folder starts with it
    const SupernetStage* prefixed = nullptr;
    int matches = 0;
    for (const SupernetStage& s : stages)
      if (s.name.rfind(stage + "-", 0) == 0) prefixed = &s, ++matches;
    if (matches == 1) chosen = prefixed;
  }
  if (!chosen && !stage.empty())
    throw util::input_error("the run has no stage '" + stage + "' (stages: " + names + ")").file(run_dir).field("stage");
  if (!chosen) throw util::input_error("the run has no stage checkpoint yet (stages: " + names + ")").file(run_dir);
  run.stage = *chosen;
  const std::string path = stage_checkpoint(run_dir, chosen->name);
  if (!std::filesystem::exists(path))
    throw util::input_error("stage '" + chosen->name + "' has not been trained yet").file(path);
  torch::manual_seed(static_cast<int64_t>(e.seed));
  run.net = space::make_supernet(e.space);
  load_checkpoint(path, *run.net, nullptr, /*restore_rng=*/false);
  return run;
}

space::Subnet read_subnet_arg(const space::Space& space, const std::string& arg, const std::string& stage_quant) {
  if (arg == "largest") return apply_stage_quant(space, space.largest(), stage_quant);
  if (arg == "smallest") return apply_stage_quant(space, space.smallest(), stage_quant);
  const util::Json j = util::read_json(arg);
  space::Subnet s = space.parse(j, arg);
  return j.is_object() && j.contains("quant") ? s : apply_stage_quant(space, s, stage_quant);
}

}  // namespace oqa::train
