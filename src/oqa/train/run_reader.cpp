// load_run: config -> experiment -> supernet, then the stage checkpoint.
#include "oqa/train/run_reader.h"

#include <algorithm>
#include <filesystem>
#include <regex>

#include "oqa/train/checkpoint.h"
#include "oqa/train/supernet_pipeline.h"
#include "oqa/space/subnet_sampler.h"
#include "oqa/train/supernet_stage.h"
#include "oqa/util/config.h"
#include "oqa/util/error.h"

namespace oqa::train {

namespace {

// A stage of `oqa train --run RUN --subnet S --bits B` (folder retrain/<name>-w<b>a<b>-e<epochs>-lr<lr>...):
// its quantization from result.json, or from the folder name while it trains. Empty name when it is not one.
SupernetStage retrain_stage(const std::string& run_dir, const std::string& stage) {
  SupernetStage s;
  if (stage.rfind("retrain/", 0) != 0 || !std::filesystem::is_directory(run_dir + "/" + stage)) return s;
  const std::string result = run_dir + "/" + stage + "/result.json";
  if (std::filesystem::exists(result)) {
    s.quant = util::read_json(result).value("quant", "");
  } else {
    static const std::regex quant_in_name("-(w[0-9]+a[0-9]+)-e[0-9.]+-lr");
    std::smatch m;
    if (std::regex_search(stage, m, quant_in_name)) s.quant = m[1];
  }
  if (!s.quant.empty()) s.name = stage;
  return s;
}

// "float, w4a4, ..., retrain/found-w2a2-e3-lr0.05-scratch": the pipeline's stages and the run's retrain folders.
std::string stage_names(const std::string& run_dir, const std::vector<SupernetStage>& stages) {
  std::string names;
  for (const SupernetStage& s : stages) names += (names.empty() ? "" : ", ") + s.name;
  std::vector<std::string> retrained;
  std::error_code ec;
  for (const auto& d : std::filesystem::directory_iterator(run_dir + "/retrain", ec))
    if (d.is_directory()) retrained.push_back("retrain/" + d.path().filename().string());
  std::sort(retrained.begin(), retrained.end());
  for (const std::string& r : retrained) names += ", " + r;
  return names;
}

}  // namespace

LoadedRun load_run(const std::string& run_dir, const std::string& stage) {
  util::Config config = util::Config::load(run_dir + "/config.json");
  LoadedRun run{read_experiment(config), {}, nullptr};
  const Experiment& e = run.experiment;
  if (!e.is_supernet())
    throw util::input_error("not a supernet run (its config has no \"space\" section)").file(run_dir + "/config.json");
  std::vector<SupernetStage> stages = e.supernet.stages;
  if (e.supernet.direct_bits > 0) stages.push_back(direct_stage(e.supernet));
  const std::string names = stage_names(run_dir, stages);
  const SupernetStage retrained = retrain_stage(run_dir, stage);
  const SupernetStage* chosen = retrained.name.empty() ? nullptr : &retrained;
  for (const SupernetStage& s : stages) {
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
